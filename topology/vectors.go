package topology

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// HashVector is one pinned placement of testdata/hash_vectors.tsv; tests of
// the hash and of the CLI fail if any row would land elsewhere.
type HashVector struct {
	Type, Value, Shard string
	ID                 uint64
}

// ReadHashVectors parses hash_vectors.tsv (type, quoted value, id, shard).
func ReadHashVectors(path string) ([]HashVector, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []HashVector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			return nil, fmt.Errorf("%q: want 4 tab-separated columns", line)
		}
		value, err := strconv.Unquote(cols[1])
		if err != nil {
			return nil, fmt.Errorf("%q: value: %w", line, err)
		}
		id, err := strconv.ParseUint(cols[2], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: id: %w", line, err)
		}
		out = append(out, HashVector{Type: cols[0], Value: value, ID: id, Shard: cols[3]})
	}
	return out, sc.Err()
}
