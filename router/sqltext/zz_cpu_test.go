//go:build cpuscratch

package sqltext

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_THREAD, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestCPUScratch(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, q := range benchQueries() {
		n := 200000
		if len(q.sql) > 500 {
			n = 20000
		}
		best := time.Hour
		for r := 0; r < 5; r++ {
			c0 := cpuNow()
			for i := 0; i < n; i++ {
				Normalize(q.d, q.sql)
			}
			if d := (cpuNow() - c0) / time.Duration(n); d < best {
				best = d
			}
		}
		fmt.Printf("%-25s %v/op cpu\n", q.name, best)
	}
}
