package server

import (
	"bytes"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/channels"
)

// putChannels is PUT /v1/channels: a new channel sheet (CSV) in the body.
// A sheet with an error is refused whole with its line and reason; a good
// one reclassifies every stored session and touchpoint at once.
func (s *Server) putChannels(c *fiber.Ctx) error {
	rules, err := channels.Parse(bytes.NewReader(c.Request().Body()))
	var le *channels.LineError
	if errors.As(err, &le) {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": le.Error(), "line": le.Line, "reason": le.Reason})
	}
	if err != nil {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
	}
	changed, err := channels.Apply(c.UserContext(), s.backend.Load().Store, rules, "api")
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"rules": len(rules), "changed": changed})
}

// getDefaultChannels is GET /v1/channels/default: the default sheet, as a starting point
// for one's own (the sheet in force is the channel_sheet SQL view).
func (s *Server) getDefaultChannels(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	return c.Send(channels.DefaultSheet())
}
