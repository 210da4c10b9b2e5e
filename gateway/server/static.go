package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/valyala/fasthttp"

	"github.com/calltrail/calltrail/gateway/assets"
)

// staticFile is a file served from memory with an ETag and its gzip and
// brotli forms compressed once at start.
type staticFile struct {
	contentType, etag string
	raw, gzip, br     []byte
}

func newStaticFile(contentType string, raw []byte) *staticFile {
	sum := sha256.Sum256(raw)
	return &staticFile{
		contentType: contentType,
		etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
		raw:         raw,
		gzip:        fasthttp.AppendGzipBytesLevel(nil, raw, fasthttp.CompressBestCompression),
		br:          fasthttp.AppendBrotliBytesLevel(nil, raw, fasthttp.CompressBrotliBestCompression),
	}
}

func newScript() (*staticFile, error) {
	b, err := assets.Script()
	if err != nil {
		return nil, err
	}
	return newStaticFile("text/javascript; charset=utf-8", b), nil
}

// serve answers with the best encoding the client accepts, or 304 when its
// copy is current. Sites load the script on every page: an hour of caching
// plus revalidation keeps that cheap while updates still spread within the hour.
func (f *staticFile) serve(c *fiber.Ctx, maxAge string) error {
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderCacheControl, "public, max-age="+maxAge)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	if match := c.Get(fiber.HeaderIfNoneMatch); match != "" && strings.Contains(match, f.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	switch acceptedEncoding(c.Get(fiber.HeaderAcceptEncoding)) {
	case "br":
		c.Set(fiber.HeaderContentEncoding, "br")
		return c.Send(f.br)
	case "gzip":
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(f.gzip)
	}
	return c.Send(f.raw)
}

// acceptedEncoding is the coding to send for an Accept-Encoding header: br
// or gzip, whichever has the higher q-value (br on a tie, being smaller),
// "" for the plain file. A coding with q=0, or a q that is not a number
// from 0 to 1, is refused; "*" stands for every coding not named.
func acceptedEncoding(accept string) string {
	br, gzip, other := -1.0, -1.0, -1.0 // -1: not named
	for entry := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(entry, ";")
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(param, "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					q = f
				} else {
					q = 0
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "br":
			br = q
		case "gzip":
			gzip = q
		case "*":
			other = q
		}
	}
	if br < 0 {
		br = other
	}
	if gzip < 0 {
		gzip = other
	}
	switch {
	case br > 0 && br >= gzip:
		return "br"
	case gzip > 0:
		return "gzip"
	}
	return ""
}

func (s *Server) serveScript(c *fiber.Ctx) error {
	if s.script == nil {
		return c.Status(fiber.StatusNotFound).SendString("// calltrail.js is not built into this binary: run `make bundle`, then rebuild\n")
	}
	return s.script.serve(c, "3600")
}

// demoRoutes serves the demo site at /demo/: pages that embed the script and
// show the visitor id a call-tracking script would read.
func (s *Server) demoRoutes() {
	s.app.Use("/demo", filesystem.New(filesystem.Config{
		Root:   http.FS(assets.Demo()),
		Index:  "index.html",
		MaxAge: 60,
	}))
}
