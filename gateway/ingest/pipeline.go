package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/medama-io/go-useragent"
)

// Request is what the gateway knows about the HTTP request a batch came in.
type Request struct {
	ReceivedAt time.Time
	UserAgent  string
	Source     string // "js" or "pixel"
}

// Rejection tells the client which event was refused and why.
type Rejection struct {
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

// Field limits, in bytes. Over them an event is rejected, not cut, so that
// what is stored is what was sent.
const (
	maxSite  = 128
	maxSID   = 64
	maxURL   = 4096
	maxTitle = 2048
	maxName  = 128
	maxForm  = 256
	maxEmail = 254
	maxProps = 8192
	maxUA    = 1024
)

var (
	eventTypes = map[string]bool{"page_view": true, "form_submit": true, "chat": true, "identify": true, "custom": true}
	needsURL   = map[string]bool{"page_view": true, "form_submit": true, "chat": true}
)

// validSite: 1 to maxSite printable ASCII characters without spaces.
func validSite(s string) bool {
	if len(s) == 0 || len(s) > maxSite {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ValidUID tells a _biz_uid: 32 lowercase hex characters.
func ValidUID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidSID tells a session id: 1 to maxSID characters of [0-9A-Za-z_-].
func ValidSID(s string) bool {
	if len(s) == 0 || len(s) > maxSID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Pipeline validates and enriches batches. It is safe for concurrent use.
type Pipeline struct {
	o          Options
	ua         *useragent.Parser
	agents     sync.Map // user agent → browserInfo
	agentCount atomic.Int64
	mu         sync.Mutex
	rejected   map[string]*atomic.Uint64
	accepted   atomic.Uint64
}

// NewPipeline builds the user-agent parser once (it takes a few ms).
func NewPipeline(o Options) *Pipeline {
	return &Pipeline{o: o, ua: useragent.NewParser(), rejected: map[string]*atomic.Uint64{}}
}

// Options change what the pipeline keeps.
type Options struct {
	// StoreEmails keeps a form's or identify call's email in clear text
	// (column email) besides its hash; the operator opts in (--store-emails).
	StoreEmails bool
}

// drop is a step's refusal: code is the counter's name, msg the client's reason.
type drop struct{ code, msg string }

func dropf(code, format string, args ...any) *drop {
	return &drop{code: code, msg: fmt.Sprintf(format, args...)}
}

// input is what a step reads: the event as sent, the envelope's send time,
// and the request.
type input struct {
	raw    RawEvent
	sentAt int64
	req    Request
}

// A step reads the input and fills or checks part of the row.
type step struct {
	name string
	run  func(p *Pipeline, in *input, ev *Event) *drop
}

// steps run in this order for every event; the first drop ends the event.
var steps = []step{
	{"validate", validate},
	{"time", correctTime},
	{"landing", readLanding},
	{"browser", readBrowser},
	{"identity", readIdentity},
}

// Process turns a decoded body into rows. Events that fail a step are
// rejected with their index; the others are returned in order.
func (p *Pipeline) Process(b Body, r Request) ([]Event, []Rejection) {
	var rejected []Rejection
	reject := func(i int, d *drop) {
		p.count(d.code)
		rejected = append(rejected, Rejection{Index: i, Reason: d.msg})
	}
	if d := validateBatch(&b); d != nil {
		for i := range b.Events {
			reject(i, d)
		}
		return nil, rejected
	}
	events := make([]Event, 0, len(b.Events))
	for i, rawJSON := range b.Events {
		raw, err := decodeEvent(rawJSON)
		if err != nil {
			reject(i, &drop{"bad_json", err.Error()})
			continue
		}
		in := input{raw: raw, sentAt: b.SentAt, req: r}
		ev := Event{Site: b.Site, UID: b.UID, SessionID: b.SID, ReceivedAt: r.ReceivedAt, Source: r.Source}
		if d := p.run(&in, &ev); d != nil {
			reject(i, d)
			continue
		}
		events = append(events, ev)
	}
	p.accepted.Add(uint64(len(events)))
	return events, rejected
}

func (p *Pipeline) run(in *input, ev *Event) *drop {
	for _, s := range steps {
		if d := s.run(p, in, ev); d != nil {
			return d
		}
	}
	return nil
}

func validateBatch(b *Body) *drop {
	switch {
	case !validSite(b.Site):
		return dropf("bad_site", "site must be 1 to %d printable characters without spaces", maxSite)
	case !ValidUID(b.UID):
		return dropf("bad_uid", "uid must be 32 lowercase hex characters (the _biz_uid cookie)")
	case !ValidSID(b.SID):
		return dropf("bad_sid", "sid must be 1 to %d characters of [0-9A-Za-z_-]", maxSID)
	}
	return nil
}

func validate(_ *Pipeline, in *input, ev *Event) *drop {
	raw := &in.raw
	id, err := uuid.Parse(raw.ID)
	if err != nil || len(raw.ID) != 36 {
		return dropf("bad_id", "id must be a UUID like 2f1c…-…, got %q", clip(raw.ID, 64))
	}
	ev.ID = id
	if !eventTypes[raw.Type] {
		return dropf("bad_type", "type must be one of page_view, form_submit, chat, identify, custom; got %q", clip(raw.Type, 64))
	}
	ev.Type = raw.Type
	if raw.TS <= 0 {
		return dropf("bad_ts", "ts must be the event's time in epoch milliseconds")
	}
	for _, f := range [...]struct {
		name string
		size int
		max  int
	}{
		{"url", len(raw.URL), maxURL}, {"ref", len(raw.Ref), maxURL}, {"title", len(raw.Title), maxTitle},
		{"name", len(raw.Name), maxName}, {"form", len(raw.Form), maxForm}, {"email", len(raw.Email), maxEmail},
		{"lead_id", len(raw.LeadID), maxForm}, {"props", len(raw.Props), maxProps},
	} {
		if f.size > f.max {
			return dropf("too_long", "%s is %d bytes, at most %d", f.name, f.size, f.max)
		}
	}
	if raw.Type == "custom" && strings.TrimSpace(raw.Name) == "" {
		return dropf("bad_name", "a custom event needs a name")
	}
	if len(raw.Props) > 0 && string(raw.Props) != "null" {
		// The decoder checked its syntax; an object is all it may be.
		if raw.Props[0] != '{' {
			return dropf("bad_props", "props must be a JSON object")
		}
		ev.Props = string(raw.Props)
	}
	ev.Name, ev.Title, ev.Form = raw.Name, raw.Title, raw.Form
	return nil
}

func correctTime(_ *Pipeline, in *input, ev *Event) *drop {
	t, ok := EventTime(in.raw.TS, in.sentAt, in.req.ReceivedAt)
	if !ok {
		return dropf("too_old", "event is more than %d days old", int(MaxAge/(24*time.Hour)))
	}
	ev.Time = t
	return nil
}

func readLanding(_ *Pipeline, in *input, ev *Event) *drop {
	raw := &in.raw
	if raw.URL == "" {
		if needsURL[raw.Type] {
			return dropf("bad_url", "url is required for %s", raw.Type)
		}
		return nil
	}
	l, ok := ParseLanding(raw.URL)
	if !ok {
		return dropf("bad_url", "url must be an absolute http(s) URL, got %q", clip(raw.URL, 128))
	}
	ev.URL, ev.Landing = raw.URL, l
	ev.Referrer, ev.ReferrerHost = raw.Ref, ReferrerHost(raw.Ref)
	return nil
}

func readBrowser(p *Pipeline, in *input, ev *Event) *drop {
	ua := clip(in.req.UserAgent, maxUA)
	ev.UserAgent = ua
	b := p.browser(ua)
	ev.Browser, ev.OS, ev.Device, ev.IsBot = b.browser, b.os, b.device, b.bot
	return nil
}

// browserInfo is what readBrowser derives from a user agent.
type browserInfo struct {
	browser, os, device string
	bot                 bool
}

// maxCachedAgents bounds the user-agent cache. Real traffic has a few
// hundred distinct agents at a time; past the bound agents are parsed
// each time, so a flood of made-up agents cannot grow memory.
const maxCachedAgents = 4096

// browser parses ua, remembering the answer: parsing is a good part of a
// request's cost, and most requests repeat an agent seen before.
func (p *Pipeline) browser(ua string) browserInfo {
	if v, ok := p.agents.Load(ua); ok {
		return v.(browserInfo)
	}
	a := p.ua.Parse(ua)
	b := browserInfo{browser: string(a.Browser()), os: string(a.OS()), device: string(a.Device()),
		bot: a.IsBot() || isCrawler(ua)}
	if p.agentCount.Load() < maxCachedAgents {
		if _, loaded := p.agents.LoadOrStore(ua, b); !loaded {
			p.agentCount.Add(1)
		}
	}
	return b
}

// isCrawler catches scripted clients the parser does not call bots (the
// parser already flags crawlers by name and headless browsers).
func isCrawler(ua string) bool {
	if ua == "" {
		return true
	}
	l := strings.ToLower(ua)
	for _, s := range []string{"bot", "crawl", "spider", "slurp", "curl/", "wget/", "python-", "go-http-client", "java/", "okhttp", "facebookexternalhit", "lighthouse", "pingdom", "uptime"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// readIdentity keeps a form's or identify call's email as a hash, which joins
// a person's browsers without storing the address (in clear text as well only
// when the operator opted in).
func readIdentity(p *Pipeline, in *input, ev *Event) *drop {
	raw := &in.raw
	hash, ok := HashEmail(raw.Email)
	if !ok {
		return dropf("bad_email", "email %q has no @", clip(NormalizeEmail(raw.Email), 64))
	}
	ev.EmailHash = hash
	if p.o.StoreEmails && hash != "" {
		ev.Email = NormalizeEmail(raw.Email)
	}
	if raw.LeadID != "" {
		props := map[string]any{}
		if ev.Props != "" {
			_ = json.Unmarshal([]byte(ev.Props), &props)
		}
		props["lead_id"] = raw.LeadID
		b, _ := json.Marshal(props)
		ev.Props = string(b)
	}
	return nil
}

func (p *Pipeline) count(code string) {
	p.mu.Lock()
	c := p.rejected[code]
	if c == nil {
		c = new(atomic.Uint64)
		p.rejected[code] = c
	}
	p.mu.Unlock()
	c.Add(1)
}

// Stats returns how many events were accepted and, per reason code, rejected.
func (p *Pipeline) Stats() (accepted uint64, rejected map[string]uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rejected = make(map[string]uint64, len(p.rejected))
	for k, v := range p.rejected {
		rejected[k] = v.Load()
	}
	return p.accepted.Load(), rejected
}
