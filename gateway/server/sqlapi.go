package server

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/store"
)

// requireToken guards the read/admin API with the bearer token.
func (s *Server) requireToken(c *fiber.Ctx) error {
	if !s.validToken(c.Request().Header.Peek(fiber.HeaderAuthorization)) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="calltrail"`)
		return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{
			"error": "missing or wrong bearer token: send Authorization: Bearer <token> (calltrail serve prints it at first start and keeps it in DATA/api-token)"})
	}
	return c.Next()
}

// validToken reports whether an Authorization header carries the API token,
// compared in constant time.
func (s *Server) validToken(authorization []byte) bool {
	got, ok := bytes.CutPrefix(authorization, []byte("Bearer "))
	return ok && subtle.ConstantTimeCompare(bytes.TrimSpace(got), []byte(s.cfg.APIToken)) == 1
}

// sqlFormats are the output formats /v1/sql offers, with their content types.
var sqlFormats = map[string]string{
	"JSON":                   fiber.MIMEApplicationJSONCharsetUTF8,
	"JSONEachRow":            "application/x-ndjson; charset=utf-8",
	"JSONCompact":            fiber.MIMEApplicationJSONCharsetUTF8,
	"CSV":                    "text/csv; charset=utf-8",
	"CSVWithNames":           "text/csv; charset=utf-8",
	"TSV":                    "text/tab-separated-values; charset=utf-8",
	"TSVWithNames":           "text/tab-separated-values; charset=utf-8",
	"PrettyCompact":          fiber.MIMETextPlainCharsetUTF8,
	"PrettyCompactNoEscapes": fiber.MIMETextPlainCharsetUTF8,
}

// postSQL is POST /v1/sql: one read-only statement in the body. ClickHouse
// decides, not a match on the text: its parser names the statement's kind
// (only reads run) and readonly=1 is in force on the analyst connection
// (store.QueryReadOnly). Anything else is answered 403.
func (s *Server) postSQL(c *fiber.Ctx) error {
	format := c.Query("format", "JSON")
	contentType, ok := sqlFormats[format]
	if !ok {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "format must be one of JSON, JSONEachRow, JSONCompact, CSV, CSVWithNames, TSV, TSVWithNames, PrettyCompact, PrettyCompactNoEscapes"})
	}
	query := strings.TrimSpace(string(c.Request().Body()))
	if query == "" {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": "the body must be one SQL statement, e.g. SELECT count() FROM events"})
	}
	out, err := s.backend.Load().Store.QueryReadOnly(c.UserContext(), query, format)
	switch {
	case errors.Is(err, store.ErrReadOnly):
		return c.Status(fiber.StatusForbidden).JSON(fiber.Map{"error": err.Error()})
	case err != nil:
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
	}
	c.Set(fiber.HeaderContentType, contentType)
	return c.Send(out)
}
