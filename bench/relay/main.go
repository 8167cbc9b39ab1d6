// Command relay is the benchmarks' yardstick for "a process in the path":
// a TCP relay that does no work at all. Whatever a benchmark loses through
// it, next to going straight to the server, is what one more hop costs on
// that machine (loopback writes, wake-ups, cores shared with the servers),
// before any parsing, routing or pooling; shardgate's number is read
// against it.
//
// Two ways to relay, the two floors a Go proxy is measured against:
//
//   - goroutines (default): each client connection gets its own server
//     connection and two goroutines copy the bytes (io.Copy). This is the
//     Go runtime's network path, the one shardgate uses: its CPU per
//     transaction is what any goroutine-per-connection Go proxy pays
//     before doing anything.
//   - epoll: one thread, one epoll loop, raw non-blocking reads and writes
//     (see epoll_linux.go). No scheduler, no netpoller, no read that
//     finds nothing: the cheapest a Go process in the path gets, the
//     shape of PgBouncer's event loop.
//
// Usage:
//
//	relay -listen 127.0.0.1:7000 -target 127.0.0.1:5432 [-mode epoll]
package main

import (
	"flag"
	"io"
	"log"
	"net"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to accept clients on")
	target := flag.String("target", "", "server address every client is relayed to")
	mode := flag.String("mode", "goroutines", "goroutines | epoll")
	flag.Parse()
	if *target == "" {
		log.Fatal("relay: -target is required")
	}
	switch *mode {
	case "goroutines":
		relayGoroutines(*listen, *target)
	case "epoll":
		if err := relayEpoll(*listen, *target); err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("relay: unknown -mode %q", *mode)
	}
}

func relayGoroutines(listen, target string) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("relay: %s -> %s", ln.Addr(), target)
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go relay(c, target)
	}
}

// relay copies both ways until either side closes, then closes both (the
// database protocols have no use for a half-closed connection).
func relay(client net.Conn, target string) {
	server, err := net.Dial("tcp", target)
	if err != nil {
		log.Printf("relay: %v", err)
		client.Close()
		return
	}
	go func() {
		io.Copy(server, client)
		server.Close()
		client.Close()
	}()
	io.Copy(client, server)
	client.Close()
	server.Close()
}
