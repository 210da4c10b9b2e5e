package server

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/demo"
)

// postDemoSeed is POST /v1/demo/seed?visitors=N&days=D: a month (by default)
// of demo data in this gateway's store (`calltrail demo seed` calls it).
func (s *Server) postDemoSeed(c *fiber.Ctx) error {
	var o demo.Options
	for name, dst := range map[string]*int{"visitors": &o.Visitors, "days": &o.Days} {
		v := c.Query(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": name + " must be a whole number from 1 to 1000000"})
		}
		*dst = n
	}
	stats, err := demo.Seed(c.UserContext(), s.backend.Load().Store, o)
	if errors.Is(err, demo.ErrSeeded) {
		return c.Status(fiber.StatusConflict).JSON(fiber.Map{"error": err.Error()})
	}
	if err != nil {
		return err
	}
	return c.JSON(stats)
}
