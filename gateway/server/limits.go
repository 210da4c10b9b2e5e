package server

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// rateLimit is the per-client-IP limit on the ingestion endpoints
// (--rate-limit N requests per second), or nil when it is off. It is Fiber's
// own limiter: a fixed one-second window per IP, kept in memory and
// expired with it, so an idle IP costs nothing after a second.
func (s *Server) rateLimit() fiber.Handler {
	if s.cfg.RateLimit <= 0 {
		return nil
	}
	return limiter.New(limiter.Config{
		Max:        s.cfg.RateLimit,
		Expiration: time.Second,
		LimitReached: func(c *fiber.Ctx) error {
			s.cors(c)
			return c.Status(fiber.StatusTooManyRequests).JSON(fiber.Map{
				"error": "too many requests from this address; retry after the time in Retry-After"})
		},
	})
}
