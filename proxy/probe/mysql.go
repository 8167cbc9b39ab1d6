package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/shardgate/shardgate/topology"
	"github.com/shardgate/shardgate/topology/health"
)

// mysqlCollation is sent in the handshake. go-mysql's default (id 255,
// utf8mb4_0900_ai_ci) is unknown to MariaDB, which then falls back to
// latin1.
const mysqlCollation = "utf8mb4_general_ci"

// MySQL probes MariaDB servers (and MySQL ones: GTID sets are compared
// only for equality there). Safe for concurrent use.
type MySQL struct {
	servers registry[*myServer]
}

// myServer is the probe connection to one server.
type myServer struct {
	conn    *client.Conn // nil: dial on the next probe
	raw     net.Conn     // under conn: where deadlines are set
	cred    topology.Backend
	mariadb bool
}

func (s *myServer) reset() {
	if s.conn != nil {
		_ = s.raw.SetDeadline(deadlineSoon())
		_ = s.conn.Quit() // best effort: spares the server an "aborted connection" note
		_ = s.raw.Close()
		s.conn, s.raw = nil, nil
	}
}

// NewMySQL returns a prober with no connection open yet.
func NewMySQL() *MySQL { return &MySQL{servers: newRegistry(func() *myServer { return &myServer{} })} }

// ProbePrimary reads the server's GTID position and read_only.
func (p *MySQL) ProbePrimary(ctx context.Context, db *topology.DB, addr string) (health.Observation, error) {
	var obs health.Observation
	err := p.servers.with(addr, func(s *myServer) error {
		pos, ro, err := p.position(ctx, s, db, addr, false)
		obs = health.Observation{Position: pos, ReadOnly: ro, LagKnown: true}
		return err
	})
	return obs, err
}

// ProbeReplica reads the replica's replication status and GTID position
// and works out its lag against primaryPos (see myReplicaObservation).
func (p *MySQL) ProbeReplica(ctx context.Context, db *topology.DB, addr, primaryPos string) (health.Observation, error) {
	var obs health.Observation
	err := p.servers.with(addr, func(s *myServer) error {
		status, err := p.replicaStatus(ctx, s, db, addr)
		if err != nil {
			return err
		}
		pos, ro, err := p.position(ctx, s, db, addr, true)
		if err != nil {
			return err
		}
		obs = myReplicaObservation(status, pos, primaryPos)
		obs.ReadOnly = ro
		return nil
	})
	return obs, err
}

// position reads the server's GTID position and read_only. On MariaDB a
// primary reports gtid_current_pos (what it wrote) and a replica
// gtid_slave_pos (what it applied from its primary); MySQL has one
// gtid_executed set for both.
func (p *MySQL) position(ctx context.Context, s *myServer, db *topology.DB, addr string, replica bool) (string, bool, error) {
	row, err := p.query(ctx, s, db, addr, func() string {
		switch {
		case !s.mariadb:
			return "SELECT @@GLOBAL.gtid_executed AS pos, @@GLOBAL.read_only AS ro"
		case replica:
			return "SELECT @@GLOBAL.gtid_slave_pos AS pos, @@GLOBAL.read_only AS ro"
		}
		return "SELECT @@GLOBAL.gtid_current_pos AS pos, @@GLOBAL.read_only AS ro"
	})
	if err != nil {
		return "", false, err
	}
	if row == nil {
		return "", false, fmt.Errorf("probe %s: position query returned no row", addr)
	}
	return row["pos"].s, row["ro"].s == "1", nil
}

// replicaStatus is SHOW SLAVE STATUS (MariaDB) or SHOW REPLICA STATUS
// (MySQL 8.0.22+, falling back to the old name on older servers); nil
// when the server replicates from nobody.
func (p *MySQL) replicaStatus(ctx context.Context, s *myServer, db *topology.DB, addr string) (map[string]value, error) {
	row, err := p.query(ctx, s, db, addr, func() string {
		if s.mariadb {
			return "SHOW SLAVE STATUS"
		}
		return "SHOW REPLICA STATUS"
	})
	var myErr *mysql.MyError
	if err != nil && s.conn != nil && !s.mariadb && errors.As(err, &myErr) {
		row, err = p.query(ctx, s, db, addr, func() string { return "SHOW SLAVE STATUS" })
	}
	return row, err
}

// query runs one statement and returns its first row as column name ->
// value (nil: no row). The statement is chosen after connecting, since it
// depends on the server's flavour. A connection that was open before this
// probe gets one retry on a fresh one (the server may have restarted or
// closed the idle session); a server error leaves it open.
func (p *MySQL) query(ctx context.Context, s *myServer, db *topology.DB, addr string, stmt func() string) (map[string]value, error) {
	if s.conn != nil && s.cred != db.Backend {
		s.reset()
	}
	for attempt := 0; ; attempt++ {
		reused := s.conn != nil
		if !reused {
			if err := s.dial(ctx, addr, db.Backend); err != nil {
				return nil, ioError(ctx, addr, err)
			}
		}
		release := bind(ctx, s.raw)
		res, err := s.conn.Execute(stmt())
		release()
		if err == nil {
			defer res.Close()
			return firstRow(res), nil
		}
		var myErr *mysql.MyError
		if errors.As(err, &myErr) {
			return nil, fmt.Errorf("probe %s: %w", addr, myErr)
		}
		s.reset()
		if !reused || attempt > 0 || ctx.Err() != nil {
			return nil, ioError(ctx, addr, err)
		}
	}
}

// dial connects and logs in within ctx.
func (s *myServer) dial(ctx context.Context, addr string, cred topology.Backend) error {
	var raw net.Conn
	release := func() {}
	dialer := func(ctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		raw, release = nc, bind(ctx, nc) // bounds the handshake too
		return nc, nil
	}
	conf, err := cred.TLSConfig(addr)
	if err != nil {
		return err
	}
	opts := []client.Option{
		func(c *client.Conn) error { return c.SetCollation(mysqlCollation) },
		func(c *client.Conn) error {
			if conf != nil {
				c.SetTLSConfig(conf)
			}
			return nil
		},
		func(c *client.Conn) error {
			c.SetAttributes(map[string]string{"program_name": applicationName})
			return nil
		},
	}
	c, err := client.ConnectWithDialer(ctx, topology.Network(addr), addr, cred.User, cred.Password, cred.Database, dialer, opts...)
	release()
	if err != nil {
		if raw != nil {
			_ = raw.Close()
		}
		return err
	}
	s.conn, s.raw, s.cred = c, raw, cred
	s.mariadb = strings.Contains(c.GetServerVersion(), "MariaDB")
	return nil
}

// Forget closes the connection to a server removed from the topology.
func (p *MySQL) Forget(addr string) { p.servers.forget(addr, (*myServer).reset) }

// Close closes every probe connection.
func (p *MySQL) Close() error {
	p.servers.closeAll((*myServer).reset)
	return nil
}

// firstRow copies the first row of a result: go-mysql's strings alias
// buffers that Close gives back to a pool.
func firstRow(res *mysql.Result) map[string]value {
	rs := res.Resultset
	if rs == nil || rs.RowNumber() == 0 {
		return nil
	}
	row := make(map[string]value, len(rs.FieldNames))
	for name, i := range rs.FieldNames {
		if v, err := rs.GetValue(0, i); err != nil || v == nil {
			row[name] = value{null: true}
			continue
		}
		s, _ := rs.GetString(0, i)
		row[name] = value{s: strings.Clone(s)}
	}
	return row
}
