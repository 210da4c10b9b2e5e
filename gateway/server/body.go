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
	limit := s.bodyLimit(&req.Header)
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
		plain, err = io.ReadAll(io.LimitReader(r, int64(limit.bytes)+1))
	}
	switch {
	case err != nil:
		return s.bodyError(c, fiber.StatusBadRequest, fmt.Sprintf("the %s body cannot be decoded: %v", enc, err))
	case len(plain) > limit.bytes:
		return s.bodyError(c, fiber.StatusRequestEntityTooLarge, limit.tooLarge(" once decompressed"))
	}
	req.SetBodyRaw(plain)
	req.Header.Del(fiber.HeaderContentEncoding) // every one of them
	return c.Next()
}

// contentCodings lists the codings applied to the body, as RFC 9110 has
// them: every Content-Encoding header and every comma-separated entry of
// each, lower-case, without identity, which changes nothing.
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
	if routePath(&c.Request().Header) == "/v1/events" {
		s.cors(c)
		return c.Status(status).JSON(eventsAnswer{Rejected: []ingest.Rejection{}, Error: reason})
	}
	return c.Status(status).JSON(fiber.Map{"error": reason})
}

// Body limits by route. fasthttp reads a whole body before any handler runs,
// so each request's limit is decided from its header alone (HeaderReceived,
// set in New) and a larger body is refused unread with 413; a compressed body
// is held to the same limit once decompressed (decodeBody). With them, the
// bodies of requests without the token take at most MaxConns × 2 ×
// maxCallBody (a compressed body and its decoded copy).
const (
	// MaxEventsBody is the contract's limit on one POST /v1/events.
	MaxEventsBody = 64 << 10
	// maxCallBody bounds a provider's call webhook (a few KiB of JSON).
	maxCallBody = 256 << 10
	// maxAPIBody bounds a request that carries the API token: task and
	// opportunity imports (`calltrail import` sends at most 4 MiB a
	// request), SQL, channel sheets.
	maxAPIBody = 8 << 20
	// maxOtherBody bounds every other request, among them a request to a
	// token route without the valid token.
	maxOtherBody = 64 << 10
)

// bodyLimit is the most a request may send, and what to do when it sends more.
type bodyLimit struct {
	bytes  int
	advice string
}

// bodyLimit is the limit of the route a request goes to.
func (s *Server) bodyLimit(h *fasthttp.RequestHeader) bodyLimit {
	path := routePath(h)
	switch {
	case path == "/v1/events":
		return bodyLimit{MaxEventsBody, "send fewer events per request"}
	case strings.HasPrefix(path, "/v1/calls/"):
		return bodyLimit{maxCallBody, "a call webhook may carry at most this much"}
	case strings.HasPrefix(path, "/v1/") && s.validToken(h.Peek(fiber.HeaderAuthorization)):
		return bodyLimit{maxAPIBody, "send fewer records per request"}
	case strings.HasPrefix(path, "/v1/"):
		return bodyLimit{maxOtherBody, fmt.Sprintf("without the valid API token a request may carry at most this much (%s with it)", size(maxAPIBody))}
	}
	return bodyLimit{maxOtherBody, "this route takes no larger body"}
}

// tooLarge is the reason of the 413 for a body over the limit.
func (l bodyLimit) tooLarge(when string) string {
	return fmt.Sprintf("body over %s%s: %s", size(l.bytes), when, l.advice)
}

func size(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// routePath is the request's path as Fiber matches it to a route: without
// the query, lower-case, without trailing slashes (Fiber's routing is
// neither case-sensitive nor strict). The URI is parsed as fasthttp parses
// it for Fiber, so an absolute-form request line gets its route's limit too.
func routePath(h *fasthttp.RequestHeader) string {
	u := fasthttp.AcquireURI()
	defer fasthttp.ReleaseURI(u)
	if err := u.Parse(nil, h.RequestURI()); err != nil {
		return ""
	}
	path := strings.ToLower(string(u.PathOriginal()))
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	return path
}
