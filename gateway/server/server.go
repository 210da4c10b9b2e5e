// Package server is the gateway's HTTP face (Fiber): routes and middleware,
// kept thin. The work happens in ingest (events), store (ClickHouse) and the
// other gateway packages; a handler decodes, calls one of them, and answers.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/store"
)

// EventSink makes accepted events durable. Write returns only when the rows
// (TabSeparated, ingest.Columns) will reach ClickHouse; an error means they
// may not, and the client is told to retry.
type EventSink interface {
	Write(ctx context.Context, rows []byte, n int) error
}

// HealthReporter is an EventSink that can tell why events cannot be made
// durable now ("" when they can) and show its state (queue backlog) in
// /healthz.
type HealthReporter interface {
	Health() (reason string, details any)
}

// Config is what a gateway needs to listen; the store comes later (Ready).
type Config struct {
	APIToken string       // bearer token of the read/admin API
	Calls    calls.Config // provider webhooks: secrets, visitor id fields
	Log      *slog.Logger
	// StoreEmails keeps emails (forms, identify calls, opportunities) in
	// clear text besides their hash; off, only the hash is stored.
	StoreEmails bool
	// RateLimit is the most requests per second one client IP may make to
	// the ingestion endpoints (429 past it); 0 turns the limit off.
	RateLimit int
	// MaxConns bounds the connections served at once (default 10,000);
	// with the body limits it bounds the memory requests can take.
	MaxConns int
}

// Backend is what the gateway serves from once it is ready: the store and
// the durable queue events go through.
type Backend struct {
	Store  store.Store
	Events EventSink
}

// DefaultMaxConns is Config.MaxConns's default.
const DefaultMaxConns = 10_000

// Server is one gateway.
type Server struct {
	cfg      Config
	app      *fiber.App
	pipeline *ingest.Pipeline
	script   *staticFile
	// backend is nil while starting: the gateway listens (healthz 503
	// "starting") before the store is opened and migrated.
	backend  atomic.Pointer[Backend]
	draining atomic.Bool
	// events bounds the event requests being decoded, processed and
	// queued at once: a 64 KiB body can become ~1 MB of rows (the user
	// agent repeats on every row), so this, not the connection count,
	// bounds that memory.
	events chan struct{}
}

// maxEventRequests is how many event requests are worked on at once; the
// others wait (holding only their body) up to eventsWait, then get 503.
const (
	maxEventRequests = 512
	eventsWait       = 5 * time.Second
)

// New builds the gateway. Until Ready it answers /healthz, the site script,
// the dashboard's files and the demo site; /healthz and every /v1 route are
// 503 with the reason.
func New(cfg Config) (*Server, error) {
	if cfg.APIToken == "" {
		return nil, errors.New("server: an API token is required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, pipeline: ingest.NewPipeline(ingest.Options{StoreEmails: cfg.StoreEmails}), events: make(chan struct{}, maxEventRequests)}
	if script, err := newScript(); err != nil {
		// Still useful without it (API, calls, reports); say so once.
		cfg.Log.Warn("site script unavailable", "err", err)
	} else {
		s.script = script
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	s.app = fiber.New(fiber.Config{
		AppName: "calltrail",
		// The fallback: HeaderReceived below gives every request its
		// route's limit (bodyLimit).
		BodyLimit: maxOtherBody,
		// A client gets ReadTimeout to send a request (slow senders do not
		// hold a connection forever), WriteTimeout to take the answer, and
		// an idle keep-alive connection is closed after IdleTimeout.
		ReadTimeout:           10 * time.Second,
		WriteTimeout:          10 * time.Second,
		IdleTimeout:           60 * time.Second,
		Concurrency:           cfg.MaxConns,
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
	})
	s.app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		return fasthttp.RequestConfig{MaxRequestBodySize: s.bodyLimit(h).bytes}
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	a := s.app
	a.Use("/v1", s.whileStarting)
	a.Use(s.decodeBody)
	a.Get("/healthz", s.healthz)
	a.Get("/calltrail.js", s.serveScript)

	a.Options("/v1/events", s.preflight)
	if limit := s.rateLimit(); limit != nil {
		a.Post("/v1/events", limit, s.postEvents)
		a.Get("/v1/p.gif", limit, s.pixel)
	} else {
		a.Post("/v1/events", s.postEvents)
		a.Get("/v1/p.gif", s.pixel)
	}
	s.callRoutes(a)

	api := a.Group("/v1", s.requireToken)
	s.callAPIRoutes(api)
	api.Post("/opportunities", s.postOpportunities)
	api.Post("/sql", s.postSQL)
	api.Get("/reports", s.listReports)
	api.Get("/reports/:name", s.getReport)
	api.Put("/channels", s.putChannels)
	api.Get("/channels/default", s.getDefaultChannels)
	api.Post("/demo/seed", s.postDemoSeed)

	s.demoRoutes()
	s.dashboardRoutes()
}

// Ready hands the gateway its store and queue (both required): from then
// on it accepts events (healthz 200) and serves the API. Call it once.
func (s *Server) Ready(b Backend) { s.backend.Store(&b) }

// whileStarting answers every /v1 route 503 until Ready: they need the store.
func (s *Server) whileStarting(c *fiber.Ctx) error {
	if s.backend.Load() != nil {
		return c.Next()
	}
	if routePath(&c.Request().Header) == "/v1/events" {
		s.cors(c) // so the site script reads the 503 and keeps its events
	}
	return s.unavailable(c, "starting: the store is being opened")
}

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(lingerListener{ln}) }

// Shutdown stops accepting events (503, healthz 503), finishes in-flight
// requests and closes the listener, waiting at most until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	return s.app.ShutdownWithContext(ctx)
}

// Pipeline exposes the ingest counters (for /healthz and tests).
func (s *Server) Pipeline() *ingest.Pipeline { return s.pipeline }

// healthz is GET /healthz: 200 when events can be accepted, else 503 with
// the reason; with the ingest counters and the queue's state (backlog not
// yet in ClickHouse, its oldest event's age, the store's error if any).
func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	accepted, rejected := s.pipeline.Stats()
	body := fiber.Map{"accepted_events": accepted, "rejected_events": rejected}
	backend := s.backend.Load()
	var sinkReason string
	if backend != nil {
		if h, ok := backend.Events.(HealthReporter); ok {
			var details any
			sinkReason, details = h.Health()
			body["queue"] = details
		}
	}
	switch {
	case s.draining.Load():
		body["status"], body["reason"] = "draining", "shutting down: no new events accepted"
	case backend == nil:
		body["status"], body["reason"] = "starting", "the store is being opened and migrated"
	case sinkReason != "":
		body["status"], body["reason"] = "unavailable", "events cannot be made durable: "+sinkReason
	default:
		body["status"] = "ok"
		return c.JSON(body)
	}
	return c.Status(fiber.StatusServiceUnavailable).JSON(body)
}

// errorHandler answers Fiber's own errors (413 over the body limit, in the
// route's answer shape; 404, 405) with a JSON reason, and any unexpected
// error as a logged 500.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			// fasthttp refused the body unread: over its route's limit.
			lingerOnClose(c)
			return s.bodyError(c, fe.Code, s.bodyLimit(&c.Request().Header).tooLarge(""))
		}
		return c.Status(fe.Code).JSON(fiber.Map{"error": fe.Message})
	}
	s.cfg.Log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	return c.Status(fiber.StatusInternalServerError).JSON(fiber.Map{"error": "internal error"})
}
