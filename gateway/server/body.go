package server

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/ingest"
)

// decodeBody decompresses a request body sent with Content-Encoding gzip or
// deflate, reading at most the route's limit, and hands the handlers the
// plain body. Fiber's own c.Body() would decompress without any limit: a
// 300 KB gzip body expands to gigabytes before a handler could count it.
func (s *Server) decodeBody(c *fiber.Ctx) error {
	req := c.Request()
	enc := strings.ToLower(strings.TrimSpace(string(req.Header.ContentEncoding())))
	if enc == "" || enc == "identity" {
		return c.Next()
	}
	limit := maxBody
	if c.Path() == "/v1/events" {
		limit = MaxEventsBody
	}
	var r io.Reader
	var err error
	switch enc {
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(req.Body()))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(req.Body()))
	default:
		return s.bodyError(c, fiber.StatusUnsupportedMediaType,
			fmt.Sprintf("Content-Encoding %q is not supported: send the body plain, or as gzip or deflate", enc))
	}
	var plain []byte
	if err == nil {
		plain, err = io.ReadAll(io.LimitReader(r, int64(limit)+1))
	}
	switch {
	case err != nil:
		return s.bodyError(c, fiber.StatusBadRequest, fmt.Sprintf("the %s body cannot be decoded: %v", enc, err))
	case len(plain) > limit:
		return s.bodyError(c, fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("body over %d KiB once decompressed: send less per request", limit>>10))
	}
	req.SetBodyRaw(plain)
	req.Header.Del(fiber.HeaderContentEncoding)
	return c.Next()
}

// bodyError answers a body that cannot be read, in the answer shape of its
// route (the events endpoint's has the accepted count and CORS).
func (s *Server) bodyError(c *fiber.Ctx, status int, reason string) error {
	if c.Path() == "/v1/events" {
		s.cors(c)
		return c.Status(status).JSON(eventsAnswer{Rejected: []ingest.Rejection{}, Error: reason})
	}
	return c.Status(status).JSON(fiber.Map{"error": reason})
}
