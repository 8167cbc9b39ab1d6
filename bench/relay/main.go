// Command relay is the benchmarks' yardstick for "a process in the path":
// a TCP relay that does no work at all. Each client connection gets its
// own server connection and the bytes are copied both ways (io.Copy, which
// splices on Linux). Whatever a benchmark loses through it, next to going
// straight to the server, is what one more hop costs on that machine
// (loopback writes, wake-ups, cores shared with the servers), before any
// parsing, routing or pooling; shardgate's number is read against it.
//
//	relay -listen 127.0.0.1:7000 -target 127.0.0.1:5432
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
	flag.Parse()
	if *target == "" {
		log.Fatal("relay: -target is required")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("relay: %s -> %s", ln.Addr(), *target)
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go relay(c, *target)
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
