package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/opportunities"
	"github.com/calltrail/calltrail/gateway/store"
)

// Options size the demo data.
type Options struct {
	Visitors int       // visitors who arrive in the period (default 3,000)
	Days     int       // length of the period (default 30)
	End      time.Time // the period's end (default now)
	Seed     uint64    // the same seed and End give the same data
}

// Stats count what Seed stored.
type Stats struct {
	Visitors      int            `json:"visitors"`
	Sessions      int            `json:"sessions"`
	Events        int            `json:"events"`
	Forms         int            `json:"forms"`
	Chats         int            `json:"chats"`
	Calls         map[string]int `json:"calls"` // by source: ctm, callrail, invoca, tasks_api
	Opportunities int            `json:"opportunities"`
}

// ErrSeeded is returned when the store already holds demo data: seeding
// twice would double the numbers rather than refresh them.
var ErrSeeded = errors.New("this store already holds demo data (site " + Site + "); start on an empty --data folder to seed again")

// Seed generates the data and stores it.
func Seed(ctx context.Context, st store.Store, o Options) (Stats, error) {
	if o.Visitors <= 0 {
		o.Visitors = 3000
	}
	if o.Days <= 0 {
		o.Days = 30
	}
	if o.End.IsZero() {
		o.End = time.Now()
	}
	o.End = o.End.UTC().Truncate(time.Minute)
	out, err := st.Query(ctx, "SELECT count() FROM events_raw WHERE site = {site:String}", "TSV", store.Params{"site": Site})
	if err != nil {
		return Stats{}, err
	}
	if strings.TrimSpace(string(out)) != "0" {
		return Stats{}, ErrSeeded
	}
	g := newGenerator(o)
	g.run()
	if err := g.store(ctx, st); err != nil {
		return Stats{}, err
	}
	return g.stats, nil
}

// person is someone who converted: the opportunities are theirs.
type person struct {
	email string
	who   string    // a CRM Contact id, when a call was logged on one
	lcAt  time.Time // their first conversion
}

type generator struct {
	o        Options
	r        *rand.Rand
	start    time.Time
	pipeline *ingest.Pipeline
	rows     []byte
	calls    *calls.Config
	tasks    []*calls.Task
	opps     []*opportunities.Opportunity
	persons  []*person
	stats    Stats
	err      error
}

// secrets sign the demo's webhook deliveries, so they pass the real checks.
const demoSecret = "calltrail-demo-secret"

func newGenerator(o Options) *generator {
	return &generator{
		o:        o,
		r:        rand.New(rand.NewPCG(o.Seed, uint64(o.End.Unix()))),
		start:    o.End.Add(-time.Duration(o.Days) * 24 * time.Hour),
		pipeline: ingest.NewPipeline(ingest.Options{}),
		calls: &calls.Config{CallRailSecrets: []string{demoSecret}, CTMSecrets: []string{demoSecret},
			InvocaTokens: []string{demoSecret}, Now: func() time.Time { return o.End }},
		stats: Stats{Calls: map[string]int{}},
	}
}

var browsers = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
}

func (g *generator) run() {
	for v := 0; v < g.o.Visitors; v++ {
		g.visitor()
	}
	// Calls that cannot be merged: some providers lose the cookie (no visitor
	// id), and some ids have no session before the call.
	for i := 0; i < g.o.Visitors/100; i++ {
		g.call("", g.start.Add(jitter(g.r, 0, g.o.End.Sub(g.start))), nil)
	}
	for i := 0; i < g.o.Visitors/200; i++ {
		g.call(hex32(g.r), g.start.Add(jitter(g.r, 0, g.o.End.Sub(g.start))), nil)
	}
	for _, p := range g.persons {
		g.opportunity(p)
	}
}

// opportunity gives about a third of the people who converted an
// opportunity a few days later, as a Salesforce record: found by its
// ContactId when their call was logged on one, else by their email. Some are
// won, some lost, the rest still open.
func (g *generator) opportunity(p *person) {
	r := g.r
	if r.Float64() > 0.35 {
		return
	}
	created := p.lcAt.Add(jitter(r, 12*time.Hour, 6*24*time.Hour))
	if created.After(g.o.End) {
		return
	}
	rec := map[string]any{
		"Id": "006" + strings.ToUpper(hex32(r)[:15]), "Name": "Acme for " + strings.Split(p.email, "@")[1],
		"Amount": strconv.FormatFloat(amount(r), 'f', 2, 64), "CreatedDate": created.Format(time.RFC3339),
	}
	if p.who != "" {
		rec["ContactId"] = p.who
	} else {
		rec["Email"] = p.email
	}
	closeAt := created.Add(jitter(r, 2*24*time.Hour, 20*24*time.Hour))
	switch x := r.Float64(); {
	case x < 0.4 && closeAt.Before(g.o.End):
		rec["StageName"], rec["IsClosed"], rec["IsWon"], rec["CloseDate"] = "Closed Won", "true", "true", closeAt.Format(time.DateOnly)
	case x < 0.6 && closeAt.Before(g.o.End):
		rec["StageName"], rec["IsClosed"], rec["IsWon"], rec["CloseDate"] = "Closed Lost", "true", "false", closeAt.Format(time.DateOnly)
	default:
		rec["StageName"], rec["IsClosed"], rec["IsWon"] = pick(r, "Qualification", "Proposal", "Negotiation"), "false", "false"
	}
	o, err := opportunities.Parse(rec, opportunities.SourceAPI, created, opportunities.Config{})
	if err != nil {
		if g.err == nil {
			g.err = fmt.Errorf("demo opportunity: %w", err)
		}
		return
	}
	g.opps = append(g.opps, o)
	g.stats.Opportunities++
}

// visitor is one browser's sessions over the period.
func (g *generator) visitor() {
	r := g.r
	uid := hex32(r)
	ua := pick(r, browsers...)
	g.stats.Visitors++
	at := g.start.Add(jitter(r, 0, g.o.End.Sub(g.start)))
	var p *person
	for s := 0; ; s++ {
		how := weighted(r)
		if s > 0 && r.IntN(2) == 0 {
			how = arrivals[len(arrivals)-1] // a return visit, direct
		}
		p = g.session(uid, ua, at, how, p)
		if r.Float64() > 0.35 || s >= 4 {
			break
		}
		at = at.Add(jitter(r, 3*time.Hour, 6*24*time.Hour))
		if at.After(g.o.End) {
			break
		}
	}
	// One in ten converters comes back on another device and fills in a
	// form with the same email: the two browsers make one person.
	if p != nil && r.IntN(10) == 0 {
		at := at.Add(jitter(r, 24*time.Hour, 5*24*time.Hour))
		if at.Before(g.o.End) {
			phone := hex32(r)
			g.stats.Visitors++
			g.emit(phone, hex32(r)[:12], browsers[2], at, []page{{Origin + "/pricing", ""}, {Origin + "/contact", Origin + "/pricing"}}, "form_submit", p.email)
		}
	}
}

type page struct{ url, ref string }

// session emits one session's events and maybe a call; it returns the
// visitor's person once they have converted.
func (g *generator) session(uid, ua string, at time.Time, how arrival, p *person) *person {
	r := g.r
	sid := hex32(r)[:12]
	landing := Origin + pick(r, landingPaths...)
	if q := how.query(r); q != "" {
		landing += "?" + q
	}
	pages := []page{{landing, how.ref(r)}}
	for n := r.IntN(5); n > 0; n-- {
		pages = append(pages, page{Origin + pick(r, pagePaths...), pages[len(pages)-1].url})
	}
	conversion := ""
	switch x := r.Float64(); {
	case x < 0.06:
		conversion = "form_submit"
		pages = append(pages, page{Origin + "/contact", pages[len(pages)-1].url})
	case x < 0.08:
		conversion = "chat"
	}
	if conversion != "" && p == nil {
		p = &person{email: fmt.Sprintf("%s.%s@%s", pick(r, "ann", "bob", "chen", "dana", "eli", "femke", "gus", "hana"), uid[:6], pick(r, "acme-buyer.example", "globex.example", "initech.example")), lcAt: at}
		g.persons = append(g.persons, p)
	}
	email := ""
	if p != nil {
		email = p.email
	}
	g.emit(uid, sid, ua, at, pages, conversion, email)
	if r.Float64() < 0.05 {
		// A call: mostly while the session is fresh, some too late to merge,
		// a few a minute "before" it (the provider's clock runs behind).
		var after time.Duration
		switch x := r.Float64(); {
		case x < 0.78:
			after = jitter(r, 2*time.Minute, 25*time.Minute)
		case x < 0.95:
			after = jitter(r, 35*time.Minute, 3*time.Hour)
		default:
			after = -time.Minute
		}
		callAt := at.Add(after)
		caller := p == nil
		if caller {
			p = &person{email: fmt.Sprintf("caller.%s@%s", uid[:6], pick(r, "acme-buyer.example", "hooli.example")), lcAt: callAt}
			g.persons = append(g.persons, p)
		}
		if source := g.call(uid, callAt, p); caller && source != calls.SourceTasksAPI {
			g.signUp(uid, ua, callAt, p)
		}
	}
	return p
}

// signUp is what makes a caller known by email when their call came by
// webhook, which carries no CRM id: hours later the rep's trial link brings
// them back, and the trial's sign-up page identifies them
// (calltrail.identify). A Task-logged call needs none: its WhoId is the
// opportunity's ContactId. The sign-up comes before any opportunity (at
// least 12 hours after the call), so every caller's deal can be attributed.
func (g *generator) signUp(uid, ua string, callAt time.Time, p *person) {
	at := callAt.Add(jitter(g.r, time.Hour, 10*time.Hour))
	if at.After(g.o.End) {
		return
	}
	g.emit(uid, hex32(g.r)[:12], ua, at, []page{{Origin + "/trial/welcome", ""}}, "identify", p.email)
}

// emit runs one session's events through the ingest pipeline, as the site
// script would have sent them.
func (g *generator) emit(uid, sid, ua string, at time.Time, pages []page, conversion, email string) {
	r := g.r
	var raw []json.RawMessage
	add := func(ev map[string]any) {
		b, _ := json.Marshal(ev)
		raw = append(raw, b)
	}
	t := at
	for i, pg := range pages {
		if i > 0 {
			t = t.Add(jitter(r, 15*time.Second, 3*time.Minute))
		}
		add(map[string]any{"id": uuid4(r), "type": "page_view", "ts": t.UnixMilli(), "url": pg.url, "ref": pg.ref, "title": "Acme — call tracking"})
	}
	switch conversion {
	case "form_submit":
		t = t.Add(jitter(r, 30*time.Second, 4*time.Minute))
		add(map[string]any{"id": uuid4(r), "type": "form_submit", "ts": t.UnixMilli(), "url": Origin + "/contact", "form": "contact", "email": email})
		g.stats.Forms++
	case "chat":
		// A chat counts once the visitor gives an email (Drift's rule), and
		// the email joins the chat to the person's deals.
		t = t.Add(jitter(r, 30*time.Second, 4*time.Minute))
		add(map[string]any{"id": uuid4(r), "type": "chat", "ts": t.UnixMilli(), "url": pages[len(pages)-1].url, "email": email})
		g.stats.Chats++
	case "identify":
		t = t.Add(jitter(r, 10*time.Second, time.Minute))
		add(map[string]any{"id": uuid4(r), "type": "identify", "ts": t.UnixMilli(), "url": pages[len(pages)-1].url, "email": email})
	}
	// Each event is "sent" as it happens: no clock skew to correct.
	for _, ev := range raw {
		var ts struct {
			TS int64 `json:"ts"`
		}
		_ = json.Unmarshal(ev, &ts)
		events, rejected := g.pipeline.Process(ingest.Body{Site: Site, UID: uid, SID: sid, SentAt: ts.TS, Events: []json.RawMessage{ev}},
			ingest.Request{ReceivedAt: time.UnixMilli(ts.TS).UTC(), UserAgent: ua, Source: "js"})
		if len(rejected) > 0 && g.err == nil {
			g.err = fmt.Errorf("demo event rejected: %s", rejected[0].Reason)
		}
		for i := range events {
			g.rows = events[i].AppendTSV(g.rows)
			g.stats.Events++
		}
	}
	g.stats.Sessions++
}

// call delivers one call through a provider's webhook format (signed and
// parsed by the real adapters) or as a Salesforce Task record, and says
// which.
func (g *generator) call(uid string, at time.Time, p *person) string {
	r := g.r
	phone := fmt.Sprintf("+1%03d555%04d", 200+r.IntN(700), r.IntN(10000))
	duration := 20 + r.IntN(600)
	var task *calls.Task
	var err error
	switch source := pick(r, calls.SourceCallRail, calls.SourceCallRail, calls.SourceCTM, calls.SourceCTM, calls.SourceInvoca, calls.SourceTasksAPI); source {
	case calls.SourceCallRail:
		custom := ""
		if uid != "" {
			custom = "_biz_uid=" + uid
		}
		body, _ := json.Marshal(map[string]any{
			"resource_id": "CAL" + hex32(r) + "abc", "answered": true, "call_type": "inbound", "direction": "inbound",
			"duration": strconv.Itoa(duration), "start_time": at.Format(time.RFC3339Nano), "customer_phone_number": phone,
			"tracking_phone_number": "+14045558514", "source_name": "Website pool", "custom": custom,
			"company_id": 155920786, "company_name": "Acme",
		})
		task, err = g.calls.Receive(calls.Delivery{Provider: source, Body: body,
			Header: func(string) string { return calls.SignCallRail(demoSecret, body) }})
	case calls.SourceCTM:
		fields := map[string]any{}
		if uid != "" {
			fields["_biz_uid"] = uid
		}
		body, _ := json.Marshal(map[string]any{
			"id": 1_000_000 + r.IntN(8_000_000), "unix_time": at.Unix(), "called_at": at.Format("2006-01-02 03:04 PM -07:00"),
			"caller_number": phone, "tracking_number": "+14045550199", "duration": duration, "direction": "inbound",
			"source": "Website", "visitor": uid != "", "custom_fields": fields,
		})
		ts := strconv.FormatInt(g.o.End.Unix(), 10)
		task, err = g.calls.Receive(calls.Delivery{Provider: source, Body: body, Header: func(h string) string {
			if h == "X-CTM-Time" {
				return ts
			}
			return calls.SignCTM(demoSecret, ts, body)
		}})
	case calls.SourceInvoca:
		var data []map[string]any
		if uid != "" {
			data = append(data, map[string]any{"name": "_biz_uid", "data_type": "Short Text", "source": "DynamicAttribution", "value": uid})
		}
		body, _ := json.Marshal(map[string]any{
			"transaction_id": fmt.Sprintf("%08X-%08X", r.Uint32(), r.Uint32()), "complete_call_id": fmt.Sprintf("%08X-%04X", r.Uint32(), r.IntN(65536)),
			"transaction_type": "Call", "start_time_utc": at.UnixMilli(), "duration": duration,
			"calling_phone_number": phone, "call_source_description": "Website", "custom_data": data,
		})
		task, err = g.calls.Receive(calls.Delivery{Provider: source, Body: body, PathToken: demoSecret})
	case calls.SourceTasksAPI:
		rec := map[string]any{
			"Id": "00T" + strings.ToUpper(hex32(r)[:15]), "Type": pick(r, "Call", "Call", "Phone Call", ""),
			"Subject": "Inbound call " + phone, "CreatedDate": at.Add(2 * time.Minute).Format(time.RFC3339),
			"bizible2__Bizible_Touchpoint_Date__c": at.Format(time.RFC3339), "CallDurationInSeconds": strconv.Itoa(duration),
			"CallType": "Inbound", "Phone": phone, "bizible2__BizibleId__c": uid,
		}
		if p != nil {
			if p.who == "" {
				p.who = "003" + strings.ToUpper(hex32(r)[:15])
			}
			rec["WhoId"] = p.who
		}
		task, err = calls.ParseTask(rec, calls.SourceTasksAPI, at.Add(3*time.Minute))
	}
	if err != nil {
		if g.err == nil {
			g.err = fmt.Errorf("demo call: %w", err)
		}
		return ""
	}
	g.tasks = append(g.tasks, task)
	g.stats.Calls[task.Source]++
	return task.Source
}

// store writes everything: events in large inserts, then calls.
func (g *generator) store(ctx context.Context, st store.Store) error {
	if g.err != nil {
		return g.err
	}
	const chunk = 8 << 20
	for rows := g.rows; len(rows) > 0; {
		n := min(len(rows), chunk)
		if n < len(rows) {
			n = strings.LastIndexByte(string(rows[:n]), '\n') + 1
		}
		if err := st.Insert(ctx, "events_raw", ingest.Columns, "TabSeparated", rows[:n], ""); err != nil {
			return fmt.Errorf("store demo events: %w", err)
		}
		rows = rows[n:]
	}
	if _, err := calls.Save(ctx, st, g.tasks); err != nil {
		return fmt.Errorf("store demo calls: %w", err)
	}
	if _, err := opportunities.Save(ctx, st, g.opps); err != nil {
		return fmt.Errorf("store demo opportunities: %w", err)
	}
	return nil
}
