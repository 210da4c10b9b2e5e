package server

import (
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// A body over its route's limit is refused unread: fasthttp writes the 413
// and closes the connection with the rest of the body still arriving. A
// close with unread data sends a TCP reset, and the reset makes the
// client's kernel drop the answer it has not read yet: the client sees
// "connection reset" instead of the 413 and its reason (and the site script
// would retry what it should drop). So such a connection is closed as
// net/http closes one: FIN first, then what the client still sends is
// discarded for up to lingerTime, long enough for it to read the answer.
const lingerTime = 500 * time.Millisecond

// lingerListener hands fasthttp connections that can be closed that way.
type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &lingerConn{Conn: c}, nil
}

type lingerConn struct {
	net.Conn
	linger atomic.Bool
}

func (c *lingerConn) Close() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok && c.linger.Load() && cw.CloseWrite() == nil {
		_ = c.Conn.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.Copy(io.Discard, c.Conn) // until the client closes, or the deadline
	}
	return c.Conn.Close()
}

// lingerOnClose marks the request's connection to be closed that way.
func lingerOnClose(c *fiber.Ctx) {
	if lc, ok := c.Context().Conn().(*lingerConn); ok {
		lc.linger.Store(true)
	}
}
