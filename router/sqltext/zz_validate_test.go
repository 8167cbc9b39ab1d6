//go:build validate

package sqltext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/pingcap/tidb/pkg/parser"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

func validateInputs(d Dialect) []string {
	var out []string
	cases := postgresCases()
	if d == MySQL {
		cases = mysqlCases()
	}
	for _, c := range cases {
		out = append(out, c.sql)
	}
	src, _ := os.ReadFile(filepath.Join("testdata", d.String()+".sql"))
	for _, s := range strings.Split(string(src), "\n----\n") {
		out = append(out, strings.TrimSpace(s))
	}
	if extra, err := os.ReadFile("/tmp/extra_" + d.String() + ".sql"); err == nil {
		for _, s := range strings.Split(string(extra), "\n----\n") {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

func TestValidateWithRealParsers(t *testing.T) {
	for _, sql := range validateInputs(Postgres) {
		if _, err := pg.Parse(sql); err != nil {
			continue
		}
		n, err := Normalize(Postgres, sql)
		if err != nil {
			t.Errorf("pg: %q: %v", sql, err)
			continue
		}
		if _, err := pg.Parse(n.Text); err != nil {
			t.Errorf("pg: normalized text does not parse: %v\n  in %q\nnorm %q", err, sql, n.Text)
		}
	}
	p := parser.New()
	for _, sql := range validateInputs(MySQL) {
		if _, _, err := p.Parse(sql, "", ""); err != nil {
			t.Logf("mysql: original does not parse: %q: %v", sql, err)
			continue
		}
		n, err := Normalize(MySQL, sql)
		if err != nil {
			t.Errorf("mysql: %q: %v", sql, err)
			continue
		}
		if _, _, err := p.Parse(n.Text, "", ""); err != nil {
			t.Errorf("mysql: normalized text does not parse: %v\n  in %q\nnorm %q", err, sql, n.Text)
		}
	}
}
