package topology

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Parse decodes and validates a topology file's bytes. name is used in
// problem locations. On any problem it returns a *ValidationError (which
// is ErrInvalid) listing all of them, and no snapshot.
func Parse(name string, data []byte) (*Snapshot, error) {
	p := &problems{file: name, lines: map[string]int{"": 1}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p.list = append(p.list, syntaxProblem(name, err))
		return nil, p.err()
	}
	var cfg Config
	if len(root.Content) > 0 {
		(&decoder{p}).decode(&root, "", reflect.ValueOf(&cfg).Elem())
	}
	snap := build(&cfg, p)
	if err := p.err(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	snap.Source = Source{Path: name, SHA256: hex.EncodeToString(sum[:]), LoadedAt: time.Now()}
	return snap, nil
}

// Load reads and parses a topology file.
func Load(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	return Parse(path, data)
}

func syntaxProblem(file string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if l, convErr := strconv.Atoi(n); convErr == nil {
				line, msg = l, tail
			}
		}
	}
	return Problem{File: file, Line: line, Message: "YAML syntax: " + msg}
}

// build validates the decoded file and, in the same pass, builds the
// snapshot. The snapshot is only used when no problem was recorded.
func build(cfg *Config, p *problems) *Snapshot {
	s := &Snapshot{Listen: cfg.Listen, Admin: cfg.Admin, users: map[string]User{}, byName: map[dbKey]*DB{}}
	checkAddress(p, "listen.postgres", cfg.Listen.Postgres, false)
	checkAddress(p, "listen.mysql", cfg.Listen.MySQL, false)
	checkAddress(p, "admin", cfg.Admin, false)
	checkListenSocket(p, "listen.postgres_socket", cfg.Listen.PostgresSocket, true)
	checkListenSocket(p, "listen.mysql_socket", cfg.Listen.MySQLSocket, false)
	s.TLS = loadTLS(p, cfg.TLS)
	s.Health = buildHealth(p, cfg.Health)
	if !cfg.Listen.ServesPostgres() && !cfg.Listen.ServesMySQL() {
		p.at("listen", "no listen address: set listen.postgres, listen.mysql or both (or their _socket forms)")
	}

	for i, u := range cfg.Users {
		path := fmt.Sprintf("users[%d]", i)
		if u.Name == "" {
			p.at(path+".name", "user has no name")
			continue
		}
		if _, dup := s.users[u.Name]; dup {
			p.at(path+".name", "user %q is listed twice", u.Name)
			continue
		}
		pw, ok := secret(p, path, u.Password, u.PasswordEnv)
		if ok && pw == "" {
			p.at(path, "user %q has no password: set password or password_env", u.Name)
		}
		s.users[u.Name] = User{Name: u.Name, Password: pw, Admin: u.Admin}
	}
	if len(cfg.Users) == 0 {
		p.at("users", "no users: clients could not log in")
	}

	if len(cfg.Databases) == 0 {
		p.at("databases", "no databases")
	}
	serverProtocol := map[string]Protocol{} // address -> protocol, across databases
	for i := range cfg.Databases {
		d := buildDB(p, fmt.Sprintf("databases[%d]", i), &cfg.Databases[i], cfg.Listen, serverProtocol)
		if d == nil {
			continue
		}
		k := dbKey{d.Protocol, d.Name}
		if _, dup := s.byName[k]; dup {
			p.at(fmt.Sprintf("databases[%d].name", i), "database %q (%s) is listed twice", d.Name, d.Protocol)
			continue
		}
		s.byName[k] = d
		s.databases = append(s.databases, d)
	}
	return s
}

// secret resolves a password given inline or through an environment
// variable; it reports a problem when both or a missing variable are given.
func secret(p *problems, path, inline, env string) (string, bool) {
	if env == "" {
		return inline, true
	}
	if inline != "" {
		p.at(path+".password_env", "give password or password_env, not both")
		return "", false
	}
	v, ok := os.LookupEnv(env)
	if !ok || v == "" {
		p.at(path+".password_env", "environment variable %s is not set", env)
		return "", false
	}
	return v, true
}

func checkAddress(p *problems, path, addr string, required bool) bool {
	if addr == "" {
		if required {
			p.at(path, "address is missing (want host:port)")
		}
		return false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.at(path, "%q is not host:port", addr)
		return false
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		p.at(path, "%q has no valid port (1-65535)", addr)
		return false
	}
	if host == "" {
		p.at(path, "%q has no host (write 127.0.0.1:%s or 0.0.0.0:%s)", addr, port, port)
		return false
	}
	return true
}

func buildDB(p *problems, path string, c *Database, listen Listen, serverProtocol map[string]Protocol) *DB {
	d := &DB{
		Name:                   c.Name,
		Protocol:               Protocol(c.Protocol),
		ReadPolicy:             ReadPolicy(c.ReadPolicy),
		MaxReplicaLag:          time.Duration(c.MaxReplicaLag),
		ReadYourWrites:         time.Duration(c.ReadYourWrites),
		ReplicaFallback:        ReplicaFallback(c.ReplicaFallback),
		Transactions:           TxMode(c.Transactions),
		MaxPerBackend:          c.Pool.MaxPerBackend,
		IdleTimeout:            time.Duration(c.Pool.IdleTimeout),
		IdleTransactionTimeout: time.Duration(c.IdleTransactionTimeout),
		tables:                 map[string]*Table{},
		shardsByName:           map[string]*Shard{},
	}
	if c.Name == "" {
		p.at(path+".name", "database has no name")
	}
	switch d.Protocol {
	case Postgres:
		if !listen.ServesPostgres() {
			p.at(path+".protocol", "database %q speaks postgres but neither listen.postgres nor listen.postgres_socket is set", c.Name)
		}
	case MySQL:
		if !listen.ServesMySQL() {
			p.at(path+".protocol", "database %q speaks mysql but neither listen.mysql nor listen.mysql_socket is set", c.Name)
		}
	case "":
		p.at(path+".protocol", "protocol is missing (want postgres or mysql)")
	default:
		p.at(path+".protocol", "unknown protocol %q (want postgres or mysql)", c.Protocol)
	}
	if d.ReadPolicy == "" {
		d.ReadPolicy = DefaultReadPolicy
	} else if !slices.Contains(readPolicies, d.ReadPolicy) {
		p.at(path+".read_policy", "unknown read policy %q (want one of %s)", c.ReadPolicy, policyNames())
	}
	switch d.ReplicaFallback {
	case "":
		d.ReplicaFallback = DefaultReplicaFallback
	case FallbackPrimary, FallbackError:
	default:
		p.at(path+".replica_fallback", "unknown replica_fallback %q (want primary or error)", c.ReplicaFallback)
	}
	if d.Transactions == "" {
		d.Transactions = DefaultTxMode
	} else if !slices.Contains(txModes, d.Transactions) {
		p.at(path+".transactions", "unknown transactions mode %q (want single_shard, multi_shard or two_phase)", c.Transactions)
	}
	switch {
	case c.PrepareSimple == nil:
		d.PrepareSimple = d.Protocol == Postgres
	case *c.PrepareSimple && d.Protocol != Postgres:
		p.at(path+".prepare_simple", "applies to postgres databases only")
	default:
		d.PrepareSimple = *c.PrepareSimple
	}
	switch v := c.CrossShardLockTimeout; {
	case v == nil:
		d.CrossShardLockTimeout = DefaultCrossShardLockTimeout
	case d.Protocol == MySQL && *v != 0 && (time.Duration(*v) < time.Second || time.Duration(*v)%time.Second != 0):
		p.at(path+".cross_shard_lock_timeout", "mysql counts innodb_lock_wait_timeout in whole seconds: want 0 or e.g. 1s, 10s, got %s", time.Duration(*v))
	default:
		d.CrossShardLockTimeout = time.Duration(*v)
	}
	if d.MaxPerBackend == 0 {
		d.MaxPerBackend = DefaultMaxPerBackend
	} else if d.MaxPerBackend < 0 {
		p.at(path+".pool.max_per_backend", "must be at least 1, got %d", d.MaxPerBackend)
	}
	if d.IdleTimeout == 0 {
		d.IdleTimeout = DefaultIdleTimeout
	}
	d.PoolWaitTimeout = DefaultPoolWaitTimeout
	if c.Pool.WaitTimeout != nil {
		d.PoolWaitTimeout = time.Duration(*c.Pool.WaitTimeout)
	}
	d.PoolMaxLifetime = DefaultPoolMaxLifetime
	if c.Pool.MaxLifetime != nil {
		d.PoolMaxLifetime = time.Duration(*c.Pool.MaxLifetime)
	}

	pw, _ := secret(p, path+".backend", c.Backend.Password, c.Backend.PasswordEnv)
	d.Backend = Backend{User: c.Backend.User, Password: pw, Database: c.Backend.Database, TLS: c.Backend.TLS, CA: c.Backend.CA}
	checkBackendTLS(p, path+".backend", &d.Backend)
	if d.Backend.User == "" {
		p.at(path+".backend.user", "backend user is missing: the proxy needs it to log in to the shards")
	}
	if d.Backend.Database == "" {
		d.Backend.Database = c.Name
	}

	buildTables(p, path, c, d)
	buildShards(p, path, c, d, serverProtocol)
	checkFallback(p, path, c, d)
	return d
}

// checkFallback refuses replica_fallback: error on a shard without
// replicas: every read of it would fail, which is never what was meant.
func checkFallback(p *problems, path string, c *Database, d *DB) {
	if d.ReplicaFallback != FallbackError || d.ReadPolicy == PrimaryOnly {
		return
	}
	for i, sc := range c.Shards {
		if len(sc.Replicas) == 0 {
			p.at(fmt.Sprintf("%s.shards[%d]", path, i), "shard %q has no replicas but replica_fallback is error: every read of it would fail", sc.KeyRange)
		}
	}
}

// reported tells whether path already has a problem.
func reported(p *problems, path string) bool {
	return slices.ContainsFunc(p.list, func(pr Problem) bool { return pr.Path == path })
}

// buildHealth applies the defaults of the health block and refuses
// explicit values that cannot work.
func buildHealth(p *problems, c Health) HealthSettings {
	h := HealthSettings{
		Interval: DefaultHealthInterval,
		Timeout:  DefaultHealthTimeout,
		Failures: DefaultHealthFailures,
		Recover:  DefaultHealthRecover,
	}
	// A value that failed to decode was reported already and left zero.
	duration := func(field string, v *Duration, dst *time.Duration) {
		switch {
		case v == nil || reported(p, "health."+field):
		case *v <= 0:
			p.at("health."+field, "must be more than 0 (e.g. 1s)")
		default:
			*dst = time.Duration(*v)
		}
	}
	count := func(field string, v *int, dst *int) {
		switch {
		case v == nil || reported(p, "health."+field):
		case *v < 1:
			p.at("health."+field, "must be at least 1, got %d", *v)
		default:
			*dst = *v
		}
	}
	duration("interval", c.Interval, &h.Interval)
	duration("timeout", c.Timeout, &h.Timeout)
	count("failures", c.Failures, &h.Failures)
	count("recover", c.Recover, &h.Recover)
	return h
}

func policyNames() string {
	names := make([]string, len(readPolicies))
	for i, r := range readPolicies {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

func buildTables(p *problems, path string, c *Database, d *DB) {
	names := make([]string, 0, len(c.Tables))
	for name := range c.Tables {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		rule, tpath := c.Tables[name], path+".tables."+name
		t := &Table{Name: name}
		switch {
		case name == "":
			p.at(tpath, "table has no name")
			continue
		case rule.Reference && (rule.Key != "" || rule.Type != ""):
			p.at(tpath, "table %q is a reference table and also has a sharding key: choose one", name)
			continue
		case rule.Reference:
			t.Kind = Reference
		case rule.Key == "":
			p.at(tpath, "table %q has no sharding key: give key and type, or reference: true", name)
			continue
		case rule.Type == "":
			p.at(tpath+".type", "table %q: key %q has no type (want int, string or uuid)", name, rule.Key)
			continue
		default:
			kt, err := ParseKeyType(rule.Type)
			if err != nil {
				p.at(tpath+".type", "table %q: %v", name, err)
				continue
			}
			t.Kind, t.Key, t.KeyType = Sharded, rule.Key, kt
		}
		d.tables[name] = t
	}
}

// checkBackendTLS validates the TLS settings toward the servers and reads
// the CA file, so `check` and a reload refuse one that cannot be used.
func checkBackendTLS(p *problems, path string, b *Backend) {
	switch b.TLS {
	case "":
		b.TLS = BackendTLSDisable
	case BackendTLSDisable, BackendTLSRequire, BackendTLSVerifyFull:
	default:
		p.at(path+".tls", "unknown tls mode %q (want disable, require or verify-full)", b.TLS)
		return
	}
	if b.CA == "" {
		return
	}
	if b.TLS != BackendTLSVerifyFull {
		p.at(path+".ca", "ca is only used with tls: verify-full")
	}
	pem, err := os.ReadFile(b.CA)
	if err != nil {
		p.at(path+".ca", "cannot read the CA file: %v", err)
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		p.at(path+".ca", "%s holds no PEM certificate", b.CA)
		return
	}
	b.CAPEM = string(pem)
}

// loadTLS loads the certificate at load time, so `check` and a reload
// refuse a file whose certificate cannot be used.
func loadTLS(p *problems, c TLSConfig) *tls.Certificate {
	switch {
	case c.Cert == "" && c.Key == "":
		return nil
	case c.Cert == "":
		p.at("tls.cert", "tls.key is set but tls.cert is not: give both")
		return nil
	case c.Key == "":
		p.at("tls.key", "tls.cert is set but tls.key is not: give both")
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		p.at("tls", "cannot load certificate %s and key %s: %v", c.Cert, c.Key, err)
		return nil
	}
	return &cert
}
