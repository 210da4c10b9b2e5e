package server

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/calltrail/calltrail/gateway/ingest"
)

// decodeBody decompresses a request body sent with Content-Encoding gzip or
// deflate, reading at most the route's limit, and hands the handlers the
// plain body; handlers read it with c.Request().Body(). Fiber's own c.Body()
// would decompress without any limit (a 300 KB gzip body expands to
// gigabytes before a handler could count it), so no handler calls it.
func (s *Server) decodeBody(c *fiber.Ctx) error {
	req := c.Request()
	codings := contentCodings(&req.Header)
	if len(codings) == 0 {
		return c.Next()
	}
	if len(codings) > 1 {
		return s.bodyError(c, fiber.StatusUnsupportedMediaType,
			fmt.Sprintf("Content-Encoding %s: send the body plain or with one coding, gzip or deflate", strings.Join(codings, ", ")))
	}
	enc := codings[0]
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
	req.Header.Del(fiber.HeaderContentEncoding) // every one of them
	return c.Next()
}

// contentCodings lists the codings applied to the body: every
// Content-Encoding header and every comma-separated entry of each (as
// Fiber's c.Body() and other HTTP software read them), lower-case, without
// identity, which changes nothing.
func contentCodings(h *fasthttp.RequestHeader) []string {
	var codings []string
	for _, v := range h.PeekAll(fiber.HeaderContentEncoding) {
		for coding := range strings.SplitSeq(string(v), ",") {
			if coding = strings.ToLower(strings.TrimSpace(coding)); coding != "" && coding != "identity" {
				codings = append(codings, coding)
			}
		}
	}
	return codings
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
