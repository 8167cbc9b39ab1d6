package main

import (
	"fmt"
	"log"
	"net"
	"runtime"
	"syscall"
)

// relayEpoll relays on one locked OS thread with a level-triggered epoll
// loop over raw non-blocking sockets: a read only when epoll says there is
// something to read, one write per read. The server is dialled blocking
// when a client arrives, and a write the kernel cannot take at once waits
// in blocking mode with the loop stopped: both are fine for a
// yardstick that relays small request/response traffic, not for a
// product.
func relayEpoll(listen, target string) error {
	runtime.LockOSThread()
	lsa, err := sockaddr(listen)
	if err != nil {
		return err
	}
	tsa, err := sockaddr(target)
	if err != nil {
		return err
	}
	lfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return err
	}
	_ = syscall.SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	if err := syscall.Bind(lfd, lsa); err != nil {
		return fmt.Errorf("bind %s: %w", listen, err)
	}
	if err := syscall.Listen(lfd, 1024); err != nil {
		return err
	}
	ep, err := syscall.EpollCreate1(0)
	if err != nil {
		return err
	}
	watch := func(fd int) error {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}
		return syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev)
	}
	if err := watch(lfd); err != nil {
		return err
	}
	log.Printf("relay (epoll): %s -> %s", listen, target)
	peer := map[int]int{} // each socket's other end
	closePair := func(fd int) {
		other := peer[fd]
		delete(peer, fd)
		delete(peer, other)
		syscall.Close(fd) // closing also removes it from the epoll set
		syscall.Close(other)
	}
	buf := make([]byte, 64<<10)
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(ep, events, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			if fd == lfd {
				if c, s, err := accept(lfd, tsa); err != nil {
					log.Printf("relay: %v", err)
				} else if err := watch(c); err != nil {
					return err
				} else if err := watch(s); err != nil {
					return err
				} else {
					peer[c], peer[s] = s, c
				}
				continue
			}
			other, ok := peer[fd]
			if !ok {
				continue // closed earlier in this batch
			}
			m, err := syscall.Read(fd, buf)
			if err == syscall.EAGAIN || err == syscall.EINTR {
				continue
			}
			if err != nil || m == 0 || writeAll(other, buf[:m]) != nil {
				closePair(fd)
			}
		}
	}
}

// accept takes one client and dials its server connection.
func accept(lfd int, target syscall.Sockaddr) (client, server int, err error) {
	client, _, err = syscall.Accept4(lfd, syscall.SOCK_NONBLOCK)
	if err != nil {
		return -1, -1, err
	}
	server, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		if err = syscall.Connect(server, target); err == nil {
			err = syscall.SetNonblock(server, true)
		}
		if err != nil {
			syscall.Close(server)
		}
	}
	if err != nil {
		syscall.Close(client)
		return -1, -1, err
	}
	for _, fd := range []int{client, server} {
		_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	return client, server, nil
}

// writeAll writes p; when the socket is full, it finishes the write in
// blocking mode.
func writeAll(fd int, p []byte) error {
	for len(p) > 0 {
		w, err := syscall.Write(fd, p)
		switch {
		case err == syscall.EAGAIN:
			if err := syscall.SetNonblock(fd, false); err != nil {
				return err
			}
			defer syscall.SetNonblock(fd, true)
		case err == syscall.EINTR:
		case err != nil:
			return err
		default:
			p = p[w:]
		}
	}
	return nil
}

// sockaddr resolves an IPv4 host:port.
func sockaddr(addr string) (*syscall.SockaddrInet4, error) {
	a, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: a.Port}
	copy(sa.Addr[:], a.IP.To4())
	return sa, nil
}
