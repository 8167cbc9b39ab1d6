package mysqlwire

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"
)

// acceptHandler is what go-mysql's handshake calls back, for one
// connection: the credential lookup, the database check after
// authentication, and the database name of the handshake.
type acceptHandler struct {
	a     *Acceptor
	local net.Addr
	host  string // the client's, without the port
	user  string
	db    string
}

// GetCredential answers for every user name, so that an unknown user
// goes through the same exchange and gets the same 1045 as a wrong
// password (go-mysql answers an unknown user with 1449 "The user
// specified as a definer does not exist", which also tells a prober the
// name is wrong): it gets a random password nobody can know.
func (h *acceptHandler) GetCredential(user string) (server.Credential, bool, error) {
	h.user = user
	pw, ok := h.a.cfg.Password(user)
	if !ok {
		var b [32]byte
		_, _ = rand.Read(b[:])
		pw = hex.EncodeToString(b[:])
	} else if h.a.method == AuthCachingSha2Password {
		h.a.sha2.forget(h.a.srv, user, h.local, pw)
	}
	return server.Credential{Passwords: []string{pw}, AuthPluginName: h.a.method}, true, nil
}

// OnAuthSuccess checks the handshake's database once the client has
// authenticated: go-mysql calls UseDB while parsing the handshake
// response, before authentication, so answering 1049 there would tell an
// unauthenticated client which databases exist.
func (h *acceptHandler) OnAuthSuccess(c *server.Conn) error {
	if h.db != "" && h.a.cfg.KnownDatabase != nil && !h.a.cfg.KnownDatabase(h.db) {
		return mysql.NewDefaultError(mysql.ER_BAD_DB_ERROR, h.db)
	}
	// The login OK then says autocommit, as a server's does.
	c.SetStatus(mysql.SERVER_STATUS_AUTOCOMMIT)
	return nil
}

func (h *acceptHandler) OnAuthFailure(*server.Conn, error) {}

// sentError is the *Error go-mysql sent the client for the handshake
// failure err, or err itself when none was (I/O errors).
func (h *acceptHandler) sentError(err error) error {
	var me *mysql.MyError
	switch {
	case errors.Is(err, server.ErrAccessDenied):
		using := "YES"
		if errors.Is(err, server.ErrAccessDeniedNoPassword) {
			using = "NO"
		}
		return &Error{Code: ErAccessDenied, State: "28000",
			Message: fmt.Sprintf("Access denied for user '%s'@'%s' (using password: %s)", h.user, h.host, using)}
	case errors.As(err, &me):
		return &Error{Code: me.Code, State: me.State, Message: me.Message}
	}
	return err
}

// server.Handler: only UseDB is called, during the handshake; the
// command phase is ours.

func (h *acceptHandler) UseDB(db string) error { h.db = db; return nil }

func (h *acceptHandler) HandleQuery(string) (*mysql.Result, error) { return nil, errNotHere }

func (h *acceptHandler) HandleFieldList(string, string) ([]*mysql.Field, error) {
	return nil, errNotHere
}

func (h *acceptHandler) HandleStmtPrepare(string) (int, int, any, error) {
	return 0, 0, nil, errNotHere
}

func (h *acceptHandler) HandleStmtExecute(any, string, []any) (*mysql.Result, error) {
	return nil, errNotHere
}

func (h *acceptHandler) HandleStmtClose(any) error { return errNotHere }

func (h *acceptHandler) HandleOtherCommand(byte, []byte) error { return errNotHere }

var errNotHere = errors.New("mysqlwire: commands are not handled by go-mysql")

// sha2Cache keeps go-mysql's caching_sha2_password cache honest. go-mysql
// remembers SHA256(SHA256(password)) per user@local-address after a full
// authentication and lets the fast path match against it forever, so
// after a password change (a topology reload) the OLD password would keep
// working. We remember which password each entry was made from and
// invalidate it when the configured one differs.
type sha2Cache struct {
	seen sync.Map // "user@local" -> [32]byte SHA-256 of the password
}

func (s *sha2Cache) forget(srv *server.Server, user string, local net.Addr, password string) {
	host := local.String()
	key := user + "@" + host
	sum := sha256.Sum256([]byte(password))
	if old, ok := s.seen.Load(key); ok && old.([32]byte) == sum {
		return
	}
	// A login that fetched the old password just before the change and
	// completes a full authentication after this could re-cache it; the
	// next change clears it again. That window is a few round trips.
	srv.InvalidateCache(user, host)
	s.seen.Store(key, sum)
}
