package localcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
)

// ErrMissingBinary is matched (errors.Is) by the error returned when a
// server binary cannot be found; its message names the binary and the
// Debian package that provides it.
var ErrMissingBinary = errors.New("localcluster: server binary not found")

// MissingBinaryError names a binary that was not found and its package.
type MissingBinaryError struct {
	Binary   string   // e.g. "mariadbd"
	Package  string   // Debian package, e.g. "mariadb-server"
	Searched []string // directories looked in besides $PATH
}

func (e *MissingBinaryError) Error() string {
	return fmt.Sprintf("%s not found: install the Debian package %s (scripts/deps.sh does)", e.Binary, e.Package)
}

// Is makes errors.Is(err, ErrMissingBinary) true.
func (e *MissingBinaryError) Is(target error) bool { return target == ErrMissingBinary }

type pgBinaries struct{ postgres, initdb, basebackup string }

type mariaBinaries struct{ mariadbd, installDB string }

// Available reports whether the server binaries of kind can be found
// (binDir as in Options.BinDir); the error matches ErrMissingBinary.
func Available(kind Kind, binDir string) error {
	switch kind {
	case KindPostgres:
		_, err := findPostgres(binDir)
		return err
	case KindMySQL:
		_, err := findMariaDB(binDir)
		return err
	}
	return fmt.Errorf("localcluster: unknown kind %q", kind)
}

// findPostgres picks one directory holding postgres, initdb and
// pg_basebackup: binDir, else the newest /usr/lib/postgresql/N/bin (Debian
// keeps them off $PATH), else $PATH.
func findPostgres(binDir string) (pgBinaries, error) {
	dirs, version := []string{binDir}, "15"
	if binDir == "" {
		dirs = nil
		for _, v := range debianPGVersions() {
			dirs = append(dirs, filepath.Join("/usr/lib/postgresql", v, "bin"))
		}
		if p, err := exec.LookPath("postgres"); err == nil {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	dir := ""
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "postgres")) {
			dir = d
			break
		}
	}
	if dir == "" {
		return pgBinaries{}, &MissingBinaryError{Binary: "postgres", Package: "postgresql-" + version, Searched: dirs}
	}
	if v := filepath.Base(filepath.Dir(dir)); filepath.Dir(filepath.Dir(dir)) == "/usr/lib/postgresql" {
		version = v
	}
	b := pgBinaries{
		postgres:   filepath.Join(dir, "postgres"),
		initdb:     filepath.Join(dir, "initdb"),
		basebackup: filepath.Join(dir, "pg_basebackup"),
	}
	if !isExecutable(b.initdb) {
		return b, &MissingBinaryError{Binary: "initdb", Package: "postgresql-" + version, Searched: []string{dir}}
	}
	if !isExecutable(b.basebackup) {
		return b, &MissingBinaryError{Binary: "pg_basebackup", Package: "postgresql-client-" + version, Searched: []string{dir}}
	}
	return b, nil
}

// PostgresTool finds a PostgreSQL client program (psql, pg_dump,
// pg_restore) next to the server binaries the clusters run (binDir as in
// Options.BinDir), so tests drive the servers with tools of their own
// version; the error matches ErrMissingBinary.
func PostgresTool(name, binDir string) (string, error) {
	b, err := findPostgres(binDir)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(b.postgres)
	if p := filepath.Join(dir, name); isExecutable(p) {
		return p, nil
	}
	return "", &MissingBinaryError{Binary: name, Package: "postgresql-client", Searched: []string{dir}}
}

// debianPGVersions lists the versions under /usr/lib/postgresql, newest first.
func debianPGVersions() []string {
	entries, _ := os.ReadDir("/usr/lib/postgresql")
	var vs []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			vs = append(vs, e.Name())
		}
	}
	slices.SortFunc(vs, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return y - x
	})
	return vs
}

func findMariaDB(binDir string) (mariaBinaries, error) {
	d, err := findBinary("mariadbd", "mariadb-server", binDir, "/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin")
	if err != nil {
		return mariaBinaries{}, err
	}
	i, err := findBinary("mariadb-install-db", "mariadb-server", binDir, "/usr/bin", "/usr/local/bin", "/usr/local/mysql/scripts")
	if err != nil {
		return mariaBinaries{}, err
	}
	return mariaBinaries{mariadbd: d, installDB: i}, nil
}

// findBinary looks in binDir only when set, else in $PATH then extra.
func findBinary(name, pkg, binDir string, extra ...string) (string, error) {
	if binDir != "" {
		if p := filepath.Join(binDir, name); isExecutable(p) {
			return p, nil
		}
		return "", &MissingBinaryError{Binary: name, Package: pkg, Searched: []string{binDir}}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range extra {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", &MissingBinaryError{Binary: name, Package: pkg, Searched: extra}
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
