package server

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/reports"
)

// getReport is GET /v1/reports/{name}?from=YYYY-MM-DD&to=YYYY-MM-DD&…
func (s *Server) getReport(c *fiber.Ctx) error {
	query := map[string]string{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) { query[string(k)] = string(v) })
	res, err := reports.Run(c.UserContext(), s.backend.Load().Store, c.Params("name"), query, time.Now())
	var bad *reports.BadRequest
	switch {
	case errors.Is(err, reports.ErrUnknown):
		return c.Status(fiber.StatusNotFound).JSON(fiber.Map{"error": err.Error()})
	case errors.As(err, &bad):
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": bad.Reason})
	case err != nil:
		return err
	}
	return c.JSON(res)
}

// listReports is GET /v1/reports: the reports and their parameters.
func (s *Server) listReports(c *fiber.Ctx) error {
	list := make([]reports.Report, len(reports.All))
	for i, r := range reports.All {
		if r.Params == nil {
			r.Params = []reports.Param{} // [] rather than null for clients
		}
		list[i] = r
	}
	return c.JSON(list)
}
