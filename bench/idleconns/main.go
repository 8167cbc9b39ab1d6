// Command idleconns opens many idle client connections to a PostgreSQL
// endpoint and reports how much the RSS of a process (the proxy) grew per
// connection. Used by bench/idle.sh; not a test.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func rssKB(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

func main() {
	dsn := flag.String("dsn", "", "PostgreSQL DSN of the proxy")
	n := flag.Int("n", 5000, "idle connections to open")
	pid := flag.Int("pid", 0, "process whose RSS to measure")
	hold := flag.Duration("hold", 0, "keep the connections open this long after measuring (to inspect the proxy)")
	flag.Parse()
	ctx := context.Background()
	before := rssKB(*pid)
	conns := make([]*pgconn.PgConn, *n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := 0
	var mu sync.Mutex
	start := time.Now()
	for i := range *n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := pgconn.Connect(ctx, *dsn)
			if err != nil {
				mu.Lock()
				errs++
				if errs == 1 {
					fmt.Fprintln(os.Stderr, "connect:", err)
				}
				mu.Unlock()
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // let the proxy settle (GC) before measuring
	after := rssKB(*pid)
	open := *n - errs
	fmt.Printf("opened %d idle connections in %v (%d failed)\n", open, time.Since(start).Round(time.Millisecond), errs)
	fmt.Printf("proxy RSS %d kB -> %d kB: %.1f kB per idle connection\n", before, after, float64(after-before)/float64(max(open, 1)))
	time.Sleep(*hold)
	for _, c := range conns {
		if c != nil {
			c.Close(ctx)
		}
	}
}
