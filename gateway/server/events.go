package server

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"golang.org/x/net/publicsuffix"

	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/spool"
)

// eventsAnswer is the body of a 400 (and, for symmetry, of a 202).
type eventsAnswer struct {
	Accepted int                `json:"accepted"`
	Rejected []ingest.Rejection `json:"rejected"`
	Error    string             `json:"error,omitempty"`
}

// postEvents is POST /v1/events (contract §3): decode, run the pipeline,
// make the valid events durable, answer 202 or 400 with the reasons.
func (s *Server) postEvents(c *fiber.Ctx) error {
	s.cors(c)
	if s.draining.Load() {
		return s.unavailable(c, "shutting down")
	}
	// Plain and at most MaxEventsBody: fasthttp refused a larger body, and
	// decodeBody decompressed within the limit.
	body := c.Request().Body()
	if !s.acquire() {
		return s.unavailable(c, "too many requests in progress")
	}
	defer s.release()
	b, err := ingest.DecodeBody(body)
	if err != nil {
		return c.Status(fiber.StatusBadRequest).JSON(eventsAnswer{Rejected: []ingest.Rejection{}, Error: err.Error()})
	}
	events, rejected := s.pipeline.Process(b, ingest.Request{
		ReceivedAt: time.Now().UTC(),
		UserAgent:  strings.Clone(c.Get(fiber.HeaderUserAgent)),
		Source:     "js",
	})
	if ok, err := s.store(c, events); !ok {
		return err
	}
	if len(events) > 0 {
		s.setUIDCookie(c, b.UID)
	}
	if len(rejected) == 0 {
		// The common answer, written without encoding/json.
		c.Status(fiber.StatusAccepted)
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		body := c.Response().BodyWriter()
		var buf [48]byte
		_, err := body.Write(strconv.AppendInt(append(buf[:0], `{"accepted":`...), int64(len(events)), 10))
		if err == nil {
			_, err = body.Write([]byte(`,"rejected":[]}`))
		}
		return err
	}
	return c.Status(fiber.StatusBadRequest).JSON(eventsAnswer{Accepted: len(events), Rejected: rejected})
}

// acquire takes one of the maxEventRequests slots, waiting up to eventsWait.
func (s *Server) acquire() bool {
	select {
	case s.events <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(eventsWait)
	defer t.Stop()
	select {
	case s.events <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (s *Server) release() { <-s.events }

// rowsPool recycles the buffers events are encoded into: the sink copies
// what it keeps, so a buffer is free again once Write returns.
var rowsPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// store hands events to the sink. When they cannot be made durable it has
// answered 503 with Retry-After (the client keeps them in its own queue) and
// returns false with the answer's error.
func (s *Server) store(c *fiber.Ctx, events []ingest.Event) (bool, error) {
	if len(events) == 0 {
		return true, nil
	}
	buf := rowsPool.Get().(*[]byte)
	rows := (*buf)[:0]
	for i := range events {
		rows = events[i].AppendTSV(rows)
	}
	err := s.backend.Load().Events.Write(c.UserContext(), rows, len(events))
	if cap(rows) <= 1<<20 {
		*buf = rows[:0]
		rowsPool.Put(buf)
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, spool.ErrFull):
		s.cfg.Log.Warn("events refused: the queue is full", "events", len(events))
		return false, s.unavailableFor(c, err.Error(), 30)
	case errors.Is(err, spool.ErrClosed):
		return false, s.unavailable(c, "shutting down")
	}
	s.cfg.Log.Error("events not stored", "events", len(events), "err", err)
	return false, s.unavailable(c, "events cannot be made durable right now: "+err.Error())
}

func (s *Server) unavailable(c *fiber.Ctx, reason string) error {
	return s.unavailableFor(c, reason, 5)
}

func (s *Server) unavailableFor(c *fiber.Ctx, reason string, retryAfter int) error {
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfter))
	return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"error": reason + "; retry later"})
}

// transparentGIF is the smallest valid 1×1 transparent GIF.
var transparentGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// pixel is GET /v1/p.gif?site=…&url=…&ref=…&title=… for pages without
// JavaScript. With no script to keep them, the visitor and session ids live in
// cookies the gateway sets itself; the session cookie lasts 30 minutes from
// the last hit.
//
// The site script uses it as its fallback when it can neither fetch nor
// beacon, and then sends its own envelope and event: uid, sid, id, ts and
// sent_at as in POST /v1/events. Given ids are validated as there (400 when
// malformed), the event id makes a resend harmless, and the script keeps its
// own session cookie: the gateway sets _biz_sid only when it chose the id.
func (s *Server) pixel(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.draining.Load() {
		return s.unavailable(c, "shutting down")
	}
	uid := strings.Clone(c.Query("uid"))
	if uid == "" {
		if uid = strings.Clone(c.Cookies("_biz_uid")); !ingest.ValidUID(uid) {
			uid = newUID()
		}
	}
	sid := strings.Clone(c.Query("sid"))
	ownSID := sid == ""
	if ownSID {
		if sid = strings.Clone(c.Cookies("_biz_sid")); !ingest.ValidSID(sid) {
			// None yet, or not one a gateway or script made (a cookie of
			// another app on the domain): a new session, not a 400 on
			// every hit while the cookie lasts.
			sid = randomHex(8)
		}
	}
	now := time.Now().UTC()
	id, ts, sentAt := strings.Clone(c.Query("id")), now.UnixMilli(), int64(0)
	if id == "" {
		id = uuid.NewString()
	}
	if q := c.Query("ts"); q != "" {
		ts, _ = strconv.ParseInt(q, 10, 64) // 0 when malformed: rejected
	}
	if q := c.Query("sent_at"); q != "" {
		sentAt, _ = strconv.ParseInt(q, 10, 64)
	}
	ev, _ := json.Marshal(map[string]any{
		"id": id, "type": "page_view", "ts": ts,
		"url": c.Query("url"), "ref": c.Query("ref"), "title": c.Query("title"),
	})
	b := ingest.Body{Site: c.Query("site"), UID: uid, SID: sid, SentAt: sentAt, Events: []json.RawMessage{ev}}
	events, rejected := s.pipeline.Process(b, ingest.Request{
		ReceivedAt: now, UserAgent: strings.Clone(c.Get(fiber.HeaderUserAgent)), Source: "pixel"})
	if len(rejected) > 0 {
		return c.Status(fiber.StatusBadRequest).JSON(eventsAnswer{Rejected: rejected})
	}
	if ok, err := s.store(c, events); !ok {
		return err
	}
	s.setUIDCookie(c, uid)
	if ownSID {
		c.Cookie(&fiber.Cookie{Name: "_biz_sid", Value: sid, Path: "/", MaxAge: 30 * 60,
			Domain: cookieDomain(c.Hostname()), Secure: c.Protocol() == "https", SameSite: fiber.CookieSameSiteLaxMode})
	}
	c.Set(fiber.HeaderContentType, "image/gif")
	return c.Send(transparentGIF)
}

// setUIDCookie repeats the visitor id as a server-set cookie: when the gateway
// is reached on the site's own origin, this copy is not capped at 7 days by
// Safari as the script's is. Never HttpOnly: call-tracking scripts read it.
func (s *Server) setUIDCookie(c *fiber.Ctx, uid string) {
	c.Cookie(&fiber.Cookie{
		Name: "_biz_uid", Value: uid, Path: "/", MaxAge: 365 * 24 * 3600,
		Domain: cookieDomain(c.Hostname()), Secure: c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteLaxMode, HTTPOnly: false,
	})
}

// cookieDomain is the registrable domain of host (www.shop.example.co.uk →
// example.co.uk), so the cookie covers every subdomain as the script's does;
// "" (host-only) for IP addresses, localhost and other single labels.
func cookieDomain(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return ""
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(host))
	if err != nil {
		return ""
	}
	return d
}

// cors lets a page on another origin read the answer (so the script knows a
// 400 from a network failure). No credentials are involved.
func (s *Server) cors(c *fiber.Ctx) {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
}

func (s *Server) preflight(c *fiber.Ctx) error {
	s.cors(c)
	c.Set(fiber.HeaderAccessControlAllowMethods, "POST")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type")
	c.Set(fiber.HeaderAccessControlMaxAge, "86400")
	return c.SendStatus(fiber.StatusNoContent)
}

// newUID makes a visitor id in _biz_uid's format: a UUIDv4 without dashes.
func newUID() string {
	u := uuid.New()
	return hex.EncodeToString(u[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
