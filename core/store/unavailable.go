package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/uptrace/bun/driver/pgdriver"
)

// Unavailable reports whether err means the database could not be reached
// or cut the connection (it is down, shutting down, starting up, or
// restarting) rather than anything wrong with the statement: the same
// request may well pass in a moment, so it is a 503 and not a 500.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		// Class 08 is connection exceptions; 57P01 to 57P03 an
		// administrator's or a crash's shutdown, and "cannot connect now"
		// while the server starts or stops.
		code := pgErr.Field('C')
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
	}
	var opErr *net.OpError
	return errors.Is(err, driver.ErrBadConn) || errors.As(err, &opErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// dropDead refuses a pooled connection that the server has ended while it
// sat idle, so that the pool dials a new one instead of failing the query
// it was taken for. An idle connection has nothing to read; anything
// waiting (a restarting server's goodbye, or the end of the stream) means it
// is gone. A peek that does not wait costs one system call.
func dropDead(_ context.Context, cn *pgdriver.Conn) error {
	nc := cn.Conn()
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok { // TLS
		nc = u.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var dead bool
	var b [1]byte
	// Control, not Read: Read fails outright once the driver's last read
	// deadline has passed, which it has on any connection idle for long.
	err = raw.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		dead = n > 0 || err == nil || (err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR)
	})
	if err != nil || dead {
		return driver.ErrBadConn
	}
	return nil
}
