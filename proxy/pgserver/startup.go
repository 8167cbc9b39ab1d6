package pgserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/shardgate/shardgate/proxy/metrics"
	"github.com/shardgate/shardgate/proxy/pgwire"
	"github.com/shardgate/shardgate/topology"
)

// startupTimeout bounds the handshake, so a silent client cannot hold a
// connection slot.
const startupTimeout = 30 * time.Second

// startup handles SSLRequest / GSSENCRequest / CancelRequest and the
// StartupMessage, authenticates, and greets the client. ok is false when
// the connection was a cancel request or was refused.
func (s *session) startup(ctx context.Context) (ok bool, err error) {
	s.nc.SetDeadline(time.Now().Add(startupTimeout))
	defer s.nc.SetDeadline(time.Time{})
	for {
		msg, err := s.r.ReadStartup()
		if err != nil {
			return false, err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if err := s.startTLS(); err != nil {
				return false, err
			}
		case *pgproto3.GSSEncRequest:
			// No GSSAPI: refuse; the client may go on without, as with
			// PostgreSQL.
			if _, err := s.nc.Write([]byte{'N'}); err != nil {
				return false, err
			}
		case *pgproto3.CancelRequest:
			s.srv.cancel(uint64(m.ProcessID)<<32 | uint64(m.SecretKey))
			return false, nil
		case *pgproto3.StartupMessage:
			return s.login(ctx, m)
		default:
			return false, s.fatal("08P01", "unexpected startup message")
		}
	}
}

func (s *session) login(ctx context.Context, m *pgproto3.StartupMessage) (bool, error) {
	s.user = m.Parameters["user"]
	s.dbName = m.Parameters["database"]
	if s.dbName == "" {
		s.dbName = s.user
	}
	if s.user == "" {
		return false, s.fatal("28000", "no PostgreSQL user name specified in startup packet")
	}
	snap := s.srv.store.Current()
	u, known := snap.User(s.user)
	if err := pgwire.ServerAuth(ctx, s.r, s.w, s.srv.opts.AuthMethod, s.user, u.Password, known); err != nil {
		if errors.Is(err, pgwire.ErrAuthFailed) {
			s.srv.metrics.ClientRefused(protocol, metrics.RefusedAuth)
			s.srv.metrics.Error(metrics.ClassAuth)
		}
		return false, err
	}
	db, ok := snap.Database(topology.Postgres, s.dbName)
	if !ok {
		return false, s.fatal("3D000", fmt.Sprintf("database %q does not exist", s.dbName))
	}
	if max := s.srv.maxClients.Load(); max > 0 && s.srv.clients.Load() >= max {
		s.srv.metrics.ClientRefused(protocol, metrics.RefusedTooMany)
		return false, s.fatal("53300", "sorry, too many clients already")
	}
	// Counted once logged in, as PostgreSQL counts max_connections: a
	// CancelRequest or a refused login is no client session.
	s.srv.clients.Add(1)
	s.srv.metrics.ClientOpened(protocol)
	s.key = s.srv.newCancelKey()
	s.srv.sessions.Store(s.key, s)

	params, err := startupSettings(m.Parameters)
	if err != nil {
		return false, s.fatal("08P01", err.Error())
	}
	status, err := s.srv.serverParams(ctx, db, params, s.startupSets)
	if err != nil {
		var pe *pgwire.PgError
		if errors.As(err, &pe) {
			return false, s.fatal(pe.Code, pe.Message)
		}
		return false, err
	}
	s.resetAllSettings()
	for name, v := range status {
		s.w.Send(&pgproto3.ParameterStatus{Name: name, Value: v})
	}
	s.w.Send(&pgproto3.BackendKeyData{ProcessID: uint32(s.key >> 32), SecretKey: uint32(s.key)})
	return true, s.ready()
}

// newCancelKey returns a fresh random (pid, secret) pair for a client.
func (s *Server) newCancelKey() uint64 {
	var b [4]byte
	rand.Read(b[:])
	pid := s.nextKey.Add(1)
	return uint64(pid)<<32 | uint64(binary.BigEndian.Uint32(b[:]))
}

// serverParams are the ParameterStatus values a client gets at login:
// those of a real server of the database (drivers read server_version,
// integer_datetimes, standard_conforming_strings) with the client's
// startup settings applied. It fills startup with the statements of the
// settings that differ from a server connection's own (see
// startupparams.go); a server error is one the server refused.
func (s *Server) serverParams(ctx context.Context, db *topology.DB, settings, startup map[string]string) (map[string]string, error) {
	want := []string{"server_version", "server_encoding", "client_encoding", "DateStyle", "IntervalStyle",
		"integer_datetimes", "standard_conforming_strings", "TimeZone", "is_superuser", "session_authorization",
		"application_name"}
	out := map[string]string{}
	for name, v := range settings {
		startup[name] = startupSetting(name, v)
	}
	p := s.back.poolFor(db, db.Unsharded.Primary)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if c, err := p.Acquire(ctx, 0); err == nil {
		for name, v := range settings {
			if cur, ok := c.loginValue(name); ok && cur == v {
				delete(startup, name) // what every server connection has anyway
			}
		}
		if err := c.syncSettings(startup); err != nil {
			var pe *pgwire.PgError
			if errors.As(err, &pe) {
				p.Release(c)
				return nil, err
			}
			p.Discard(c)
		} else {
			for _, k := range want {
				if v, ok := c.params[k]; ok {
					out[k] = v
				}
			}
			p.Release(c)
		}
	}
	if _, ok := settings["application_name"]; !ok {
		out["application_name"] = "" // not the proxy's own
	}
	// Safe values when no server answered: the session still works.
	for k, v := range map[string]string{"server_version": "15.0", "server_encoding": "UTF8", "client_encoding": "UTF8",
		"DateStyle": "ISO, MDY", "integer_datetimes": "on", "standard_conforming_strings": "on", "TimeZone": "UTC"} {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out, nil
}

// cancel forwards a CancelRequest to every backend running work for the
// session that owns the key. Unknown keys are ignored, as PostgreSQL does.
func (s *Server) cancel(key uint64) {
	v, ok := s.sessions.Load(key)
	if !ok {
		return
	}
	s.cancelConns(v.(*session).running.snapshot())
}

// cancelConns sends a CancelRequest for each connection's running
// statement.
func (s *Server) cancelConns(conns []*backendConn) {
	for _, c := range conns {
		go func() {
			nc, err := net.DialTimeout(topology.Network(c.addr), c.addr, 5*time.Second)
			if err != nil {
				return
			}
			defer nc.Close()
			var buf []byte
			buf, err = (&pgproto3.CancelRequest{ProcessID: c.pid, SecretKey: c.secret}).Encode(buf)
			if err != nil {
				return
			}
			nc.Write(buf)
		}()
	}
}

// startTLS answers an SSLRequest: 'S' and a TLS handshake when the
// topology has a certificate, else 'N' (the client may go on in plain
// text or hang up, as with PostgreSQL).
func (s *session) startTLS() error {
	cert := s.srv.store.Current().TLS
	if cert == nil {
		_, err := s.nc.Write([]byte{'N'})
		return err
	}
	if _, err := s.nc.Write([]byte{'S'}); err != nil {
		return err
	}
	tc := tls.Server(s.nc, &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	s.nc, s.r, s.w = tc, pgwire.NewPooledReader(tc, maxClientMessage, s.srv.bufs), pgwire.NewPooledWriter(tc, s.srv.bufs)
	return nil
}
