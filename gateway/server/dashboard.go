package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/calltrail/calltrail/gateway/assets"
	"github.com/calltrail/calltrail/gateway/ui"
)

// The dashboard: GET / is the page (not behind the token: the page asks for
// it and sends it with every API call), /ui/dashboard.{js,css} its bundles.
// All three come from memory with an ETag, gzip and brotli (staticFile).

// dashboardCSP allows the page its own scripts, styles and API, nothing
// else: no inline script or style, no other origin, no framing.
const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type dashboard struct {
	page, js, css *staticFile
}

func newDashboard() (*dashboard, error) {
	js, css, err := assets.Dashboard()
	if err != nil {
		return nil, err
	}
	d := &dashboard{
		js:  newStaticFile("text/javascript; charset=utf-8", js),
		css: newStaticFile("text/css; charset=utf-8", css),
	}
	page := strings.NewReplacer(
		"{{JS_VERSION}}", strings.Trim(d.js.etag, `"`),
		"{{CSS_VERSION}}", strings.Trim(d.css.etag, `"`),
	).Replace(string(ui.IndexHTML))
	d.page = newStaticFile("text/html; charset=utf-8", []byte(page))
	return d, nil
}

func (s *Server) dashboardRoutes() {
	d, err := newDashboard()
	if err != nil {
		s.cfg.Log.Warn("dashboard unavailable", "err", err)
		s.app.Get("/", func(c *fiber.Ctx) error {
			return c.Status(fiber.StatusServiceUnavailable).
				SendString("The CallTrail dashboard is not built into this binary: run `make bundle`, then rebuild. The API (/v1/reports) works without it.\n")
		})
		return
	}
	s.app.Get("/", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentSecurityPolicy, dashboardCSP)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
		return d.page.serve(c, "0") // revalidated each time: a new binary shows at once
	})
	// The page names the bundles with their ETag (?v=), so they never change
	// under a URL: cached for a year.
	s.app.Get("/ui/dashboard.js", func(c *fiber.Ctx) error { return d.js.serve(c, "31536000, immutable") })
	s.app.Get("/ui/dashboard.css", func(c *fiber.Ctx) error { return d.css.serve(c, "31536000, immutable") })
}
