package ui_test

// Real-browser tests of the dashboard: headless Chromium opens GET / of a
// real gateway (servertest) on the real embedded ClickHouse, with data put in
// through the real pipeline (events through ingest, calls through
// POST /v1/tasks, opportunities as rows of their table), and the tests check
// that what the page shows is what the API answers.
//
// Between the browser and the gateway sits a small front server that serves
// the dashboard's bundles freshly built from src/ (so the test runs the
// source, not whatever `make bundle` last put into gateway/assets/dist) and
// passes everything else, the page and the API, to the gateway.
// TestGatewayServesTheDashboard checks the gateway's own serving.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/calltrail/calltrail/build/bundle"
	"github.com/calltrail/calltrail/gateway/server/servertest"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// ── The seeded world ────────────────────────────────────────────────────

// world is what seed stored.
type world struct {
	merged      string // a merged call of person 0's first browser
	outside     string // a call 48 minutes after its session start
	personUID   string // person 0's first browser
	secondUID   string // person 0's second browser (joined by the form email)
	taskCount   int
	personCount int
}

const site = "acme"

// seed fills g with a small but complete month: twelve people over six
// channels, forms, calls with every verdict, and three opportunities.
func seed(t *testing.T, g *servertest.Gateway) world {
	t.Helper()
	day0 := time.Now().UTC().Truncate(24 * time.Hour)
	landings := []struct{ url, ref string }{
		{"https://acme.example/?gclid=Cj0KCQ&utm_source=google&utm_medium=cpc&utm_campaign=spring-sale", "https://www.google.com/"},
		{"https://acme.example/pricing", "https://www.google.com/"},
		{"https://acme.example/?fbclid=IwAR2x&utm_campaign=retargeting", "https://m.facebook.com/"},
		{"https://acme.example/?utm_source=newsletter&utm_medium=email&utm_campaign=june-news", ""},
		{"https://acme.example/", ""},
		{"https://acme.example/partners", "https://blog.partner.example/best-tools"},
	}
	uid := func(i int) string { return fmt.Sprintf("%032x", 0xda5b0000+i) }
	email := func(i int) string { return fmt.Sprintf("buyer%d@acme.example", i) }
	start := func(i int) time.Time {
		return day0.AddDate(0, 0, -(3 + 2*i)).Add(10*time.Hour + time.Duration(i)*time.Minute)
	}

	var hits []storetest.Hit
	var tasks []map[string]string
	task := func(id, typ, bizibleID string, at time.Time) {
		tk := map[string]string{"Id": id, "Type": typ, "Subject": "Inbound call", "CreatedDate": at.Format(time.RFC3339)}
		if bizibleID != "" {
			tk["bizible2__BizibleId__c"] = bizibleID
		}
		tasks = append(tasks, tk)
	}
	const people = 12
	for i := range people {
		l := landings[i%len(landings)]
		sid := fmt.Sprintf("s%d", i)
		hits = append(hits,
			storetest.Hit{Site: site, UID: uid(i), SID: sid, At: start(i), URL: l.url, Ref: l.ref},
			storetest.Hit{Site: site, UID: uid(i), SID: sid, At: start(i).Add(2 * time.Minute), URL: "https://acme.example/contact"})
		if i%2 == 0 {
			hits = append(hits, storetest.Hit{Site: site, UID: uid(i), SID: sid, Type: "form_submit", At: start(i).Add(4 * time.Minute),
				URL: "https://acme.example/contact", Email: email(i)})
		}
		id := fmt.Sprintf("00Tdash%09d", i)
		switch i {
		case 4: // 48 minutes after the session start: outside the window
			task(id, "Call", uid(i), start(i).Add(48*time.Minute))
		case 3: // no Type: a Web Visit touchpoint
			task(id, "", uid(i), start(i).Add(10*time.Minute))
		case 0, 1, 2, 5, 7, 8, 9:
			task(id, "Call", uid(i), start(i).Add(10*time.Minute))
		}
	}
	// Person 0 again, from another browser, two days later: the same email
	// joins the two uids into one person, whose call there merges too.
	second := fmt.Sprintf("%032x", 0xda5b1000)
	at := start(0).Add(48 * time.Hour)
	hits = append(hits,
		storetest.Hit{Site: site, UID: second, SID: "s0b", At: at, URL: "https://acme.example/pricing"},
		storetest.Hit{Site: site, UID: second, SID: "s0b", Type: "form_submit", At: at.Add(3 * time.Minute), URL: "https://acme.example/contact", Email: email(0)})
	task("00Tdash100000000", "Call", second, at.Add(6*time.Minute))
	// A visitor with no session at all, and two calls without a visitor id.
	task("00Tdash200000000", "Call", fmt.Sprintf("%032x", 0xdeadbeef), start(5).Add(time.Hour))
	task("00Tdash300000000", "Call", "", start(6).Add(time.Hour))
	task("00Tdash300000001", "Phone Call", "not-a-visitor-id", start(7).Add(2*time.Hour))
	storetest.Insert(t, g.Store, hits...)

	body, _ := json.Marshal(tasks)
	if code, ans := g.Post(t, "/v1/tasks", "application/json", string(body)); code != 200 {
		t.Fatalf("POST /v1/tasks: %d %s", code, ans)
	}

	// Opportunities: rows of their table, as POST /v1/opportunities stores them.
	var opps []string
	opp := func(id string, i int, amount float64, won bool, closed bool) {
		sum := sha256.Sum256([]byte(email(i)))
		created := start(i).Add(24 * time.Hour)
		closeDate := "NULL"
		if closed {
			closeDate = "'" + created.Add(72*time.Hour).Format(time.DateTime) + "'"
		}
		opps = append(opps, fmt.Sprintf("('%s', 'Deal %d', %g, '%s', '%s', %s, %d, %d, '%s', 'test', now64(3), 1)",
			id, i, amount, map[bool]string{true: "Closed Won", false: "Prospecting"}[won], created.Format(time.DateTime), closeDate,
			b2i(won), b2i(closed), hex.EncodeToString(sum[:])))
	}
	opp("006dash0", 0, 12000, true, true)
	opp("006dash2", 2, 5000, false, false)
	opp("006dash6", 6, 3000.5, true, true)
	if err := g.Store.Exec(context.Background(), `INSERT INTO opportunities
		(opportunity_id, name, amount, stage_name, created_date, close_date, is_won, is_closed, email_hash, source, received_at, version)
		VALUES `+strings.Join(opps, ", "), nil); err != nil {
		t.Fatal(err)
	}
	return world{merged: "00Tdash000000000", outside: "00Tdash000000004", personUID: uid(0), secondUID: second,
		taskCount: len(tasks), personCount: people}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ── The browser ─────────────────────────────────────────────────────────

var (
	bundleOnce sync.Once
	bundles    map[string][]byte // path under /ui/ → freshly built bundle
	bundleErr  error
)

// freshBundles builds the dashboard's entries from src/ once per test run.
func freshBundles(t *testing.T) map[string][]byte {
	t.Helper()
	bundleOnce.Do(func() {
		root, err := bundle.Root(".")
		if err != nil {
			bundleErr = err
			return
		}
		bundles = map[string][]byte{}
		for _, e := range bundle.Entries {
			if name := filepath.Base(e.Out); strings.HasPrefix(name, "dashboard.") {
				r, err := bundle.Build(root, e)
				if err != nil {
					bundleErr = err
					return
				}
				bundles["/ui/"+name] = r.Code
			}
		}
		if len(bundles) != 2 {
			bundleErr = fmt.Errorf("bundle.Entries has %d dashboard entries, want dashboard.js and dashboard.css", len(bundles))
		}
	})
	if bundleErr != nil {
		t.Fatal(bundleErr)
	}
	return bundles
}

// front serves the fresh bundles and passes the rest to the gateway.
func front(t *testing.T, g *servertest.Gateway) string {
	t.Helper()
	files := freshBundles(t)
	target, _ := url.Parse(g.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := files[r.URL.Path]; ok {
			ct := "text/javascript; charset=utf-8"
			if strings.HasSuffix(r.URL.Path, ".css") {
				ct = "text/css; charset=utf-8"
			}
			w.Header().Set("Content-Type", ct)
			w.Write(b)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// chromiumPath finds Debian's chromium; its absence fails the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: the dashboard's browser tests need it. `make deps` installs it (apt-get install chromium)")
	return ""
}

type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts headless Chromium with a fresh profile and a laptop-sized window.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	chrome := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1366, 768),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	return &browser{t: t, ctx: ctx}
}

func run[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	return run(b, chromedp.Evaluate[T](js))
}

// wait polls a JavaScript expression until it is truthy.
func (b *browser) wait(js string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited 20 s for %s (last error: %v)", js, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ready waits until every report of the page has been loaded and drawn.
func (b *browser) ready() { b.t.Helper(); b.wait(`document.body.dataset.state == "ready"`) }

// text is the trimmed text of the first element matching sel ("" when none).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").trim()`, sel))
}

// signIn types the token into the page's form.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.wait(`!document.querySelector("#token-view").hidden`)
	eval[bool](b, `(document.querySelector("#token-input").value = "", true)`)
	run(b, chromedp.SendKeys(chromedp.CSS("#token-input"), token))
	run(b, chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`)))
}

// screenshot writes a PNG into test-artifacts/ at the repository root.
func (b *browser) screenshot(name string, full bool) {
	b.t.Helper()
	var png []byte
	if full {
		png = run(b, chromedp.FullScreenshot(100))
	} else {
		png = run(b, chromedp.CaptureScreenshot())
	}
	root, err := bundle.Root(".")
	if err != nil {
		b.t.Fatal(err)
	}
	dir := filepath.Join(root, "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 1000 {
		b.t.Fatalf("screenshot %s: only %d bytes", name, len(png))
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	b.t.Logf("screenshot: test-artifacts/%s (%d bytes)", name, len(png))
}

// ── The API, as the test reads it ───────────────────────────────────────

type result struct {
	From string           `json:"from"`
	To   string           `json:"to"`
	Rows []map[string]any `json:"rows"`
}

func apiGet(t *testing.T, g *servertest.Gateway, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+servertest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// apiReport reads a report over the page's date range.
func apiReport(t *testing.T, g *servertest.Gateway, name, from, to string, params ...string) result {
	t.Helper()
	q := url.Values{"from": {from}, "to": {to}}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	var r result
	apiGet(t, g, "/v1/reports/"+name+"?"+q.Encode(), &r)
	return r
}

// pageNumber reads a number as the page writes it: 12,000.50, 66.67%, 1.5.
func pageNumber(t *testing.T, what, s string) float64 {
	t.Helper()
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	scale := 1.0
	if p, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = p, 0.01
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%s: the page shows %q, not a number", what, s)
	}
	return f * scale
}

func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return math.NaN()
}

// same compares a number on the page with the API's, to the page's precision.
func same(t *testing.T, what, page string, api any, decimals int) {
	t.Helper()
	got, want := pageNumber(t, what, page), number(api)
	p := math.Pow(10, float64(decimals))
	if math.Round(got*p) != math.Round(want*p) {
		t.Errorf("%s: the page shows %q, the API says %v", what, page, api)
	}
}

// ── Tests ───────────────────────────────────────────────────────────────

func TestDashboardShowsTheAPIsNumbers(t *testing.T) {
	g := servertest.Start(t)
	w := seed(t, g)
	base := front(t, g)
	b := newBrowser(t)

	// First visit: the token form; the token is typed once.
	run(b, chromedp.Navigate(base+"/"))
	b.signIn(servertest.Token)
	b.ready()
	from := eval[string](b, `document.querySelector('#range input[name="from"]').value`)
	to := eval[string](b, `document.querySelector('#range input[name="to"]').value`)
	if want := time.Now().UTC().Format(time.DateOnly); to != want || from != time.Now().UTC().AddDate(0, 0, -29).Format(time.DateOnly) {
		t.Errorf("default range %s..%s, want the last 30 days up to %s", from, to, want)
	}

	// A fresh load with the stored token: how fast the shell paints and the
	// reports arrive.
	run(b, chromedp.Reload())
	b.ready()
	if !eval[bool](b, `document.querySelector("#token-view").hidden`) {
		t.Fatal("the token was not remembered: the form is back after a reload")
	}
	fcp := eval[float64](b, `performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1`)
	readyAt := eval[float64](b, `performance.getEntriesByName("dashboard-ready")[0]?.startTime ?? -1`)
	t.Logf("first contentful paint %.0f ms, every report drawn %.0f ms after navigation", fcp, readyAt)
	t.Logf("requests:\n%s", eval[string](b, `performance.getEntriesByType("resource").map(e => Math.round(e.startTime) + "+" + Math.round(e.duration) + " ms  " + e.name.replace(location.origin, "")).join("\n")`))
	// Speed is measured by `make bench`, not asserted here; that the shell
	// painted at all before the reports is.
	if fcp <= 0 || (readyAt > 0 && fcp > readyAt) {
		t.Errorf("first contentful paint at %.0f ms, reports drawn at %.0f ms: the shell must paint first", fcp, readyAt)
	}

	// Headline cards = summary.
	sum := apiReport(t, g, "summary", from, to).Rows[0]
	for _, m := range []struct {
		metric   string
		decimals int
	}{{"sessions", 0}, {"visitors", 0}, {"touchpoints", 0}, {"calls", 0}, {"calls_merged", 0}, {"call_match_rate", 4}, {"revenue_won", 2}, {"pipeline", 2}} {
		same(t, "card "+m.metric, b.text(fmt.Sprintf(`#summary [data-metric=%q] .value`, m.metric)), sum[m.metric], m.decimals)
	}
	if number(sum["calls"]) != float64(w.taskCount) || number(sum["sessions"]) < float64(w.personCount) || number(sum["revenue_won"]) != 15000.5 {
		t.Fatalf("the seed did not land as planned: summary %v", sum)
	}

	// Touchpoints by channel × type: every cell, and the total.
	tps := apiReport(t, g, "touchpoints_by_channel", from, to)
	total := 0.0
	for _, r := range tps.Rows {
		sel := fmt.Sprintf(`#touchpoints [data-channel=%q][data-type=%q]`, r["marketing_channel"], r["touchpoint_type"])
		same(t, "touchpoints "+sel, b.text(sel), r["touchpoints"], 0)
		total += number(r["touchpoints"])
	}
	same(t, "touchpoints total", b.text(`#touchpoints [data-grand-total]`), total, 0)
	same(t, "touchpoints total vs summary", b.text(`#touchpoints [data-grand-total]`), sum["touchpoints"], 0)
	if len(tps.Rows) < 4 {
		t.Errorf("touchpoints report has %d rows: the seed should give several channels and types", len(tps.Rows))
	}

	// Phone calls by channel: the chart is drawn, the table adds up.
	checkCallsByChannel := func(grain string) {
		t.Helper()
		cbc := apiReport(t, g, "calls_by_channel", from, to, "grain", grain)
		n := 0.0
		for _, r := range cbc.Rows {
			n += number(r["calls"])
		}
		same(t, "calls by channel total ("+grain+")", b.text(`#calls-chart [data-calls-total]`), n, 0)
		same(t, "calls by channel total vs summary", b.text(`#calls-chart [data-calls-total]`), sum["calls"], 0)
		if !eval[bool](b, `!!document.querySelector("#calls-chart canvas")`) {
			t.Errorf("no chart drawn for grain %s", grain)
		}
	}
	checkCallsByChannel("day")
	run(b, chromedp.Click(chromedp.CSS(`#calls-chart label:has(input[value="week"])`)))
	b.wait(`location.search.includes("grain=week")`)
	b.ready()
	checkCallsByChannel("week")

	// Match rate by verdict.
	for _, r := range apiReport(t, g, "call_match_rate", from, to).Rows {
		same(t, fmt.Sprintf("calls %v", r["verdict"]), b.text(fmt.Sprintf(`#match-rate [data-verdict=%q]`, r["verdict"])), r["calls"], 0)
		same(t, fmt.Sprintf("share %v", r["verdict"]), b.text(fmt.Sprintf(`#match-rate [data-verdict-share=%q]`, r["verdict"])), r["share"], 4)
	}

	// Revenue by channel under the default model, another model, and all.
	checkRevenue := func(model string) {
		t.Helper()
		rev := apiReport(t, g, "revenue_by_channel", from, to, "model", model)
		if len(rev.Rows) == 0 {
			t.Fatalf("revenue_by_channel %s: no rows", model)
		}
		won := 0.0
		for _, r := range rev.Rows {
			if model == "" {
				sel := fmt.Sprintf(`#revenue [data-channel=%q][data-model=%q]`, r["marketing_channel"], r["model"])
				same(t, "revenue "+sel, b.text(sel), r["revenue_won"], 2)
				continue
			}
			for _, k := range []string{"revenue_won", "pipeline", "opportunities"} {
				sel := fmt.Sprintf(`#revenue [data-channel=%q][data-k=%q]`, r["marketing_channel"], k)
				same(t, model+" "+sel, b.text(sel), r[k], 2)
			}
			won += number(r["revenue_won"])
		}
		if model != "" {
			same(t, model+" revenue total", b.text(`#revenue [data-revenue-total]`), won, 2)
		}
	}
	checkRevenue("u_shaped")
	for _, model := range []string{"first_touch", ""} {
		eval[bool](b, fmt.Sprintf(`(document.querySelector("#revenue select").value = %q, document.querySelector("#revenue select").dispatchEvent(new Event("change")), true)`, model))
		b.ready()
		b.wait(fmt.Sprintf(`document.querySelector("#revenue [data-k], #revenue [data-model]") && %t == !!document.querySelector("#revenue [data-model]")`, model == ""))
		checkRevenue(model)
	}

	// The calls table: the API's rows, newest first.
	calls := apiReport(t, g, "calls", from, to)
	ids := eval[[]string](b, `[...document.querySelectorAll("#calls tbody tr")].map(tr => tr.dataset.taskId)`)
	if len(ids) != min(50, len(calls.Rows)) {
		t.Fatalf("calls table has %d rows, the API %d", len(ids), len(calls.Rows))
	}
	for i, id := range ids {
		if id != calls.Rows[i]["task_id"] {
			t.Errorf("calls table row %d is %s, the API's is %v", i, id, calls.Rows[i]["task_id"])
		}
	}

	// Unmatched calls, grouped by verdict.
	unmatched := map[string]int{}
	for _, r := range apiReport(t, g, "unmatched_calls", from, to).Rows {
		unmatched[r["verdict"].(string)]++
	}
	if len(unmatched) != 3 {
		t.Errorf("unmatched verdicts %v, want no_bizible_id, no_session and outside_window", unmatched)
	}
	for v, n := range unmatched {
		same(t, "unmatched "+v, b.text(fmt.Sprintf(`#unmatched [data-verdict-group=%q] [data-count]`, v)), n, 0)
	}

	// The first screen at 1366×768, then the whole page.
	run(b, chromedp.Evaluate[bool](`scrollTo(0, 0), true`))
	b.screenshot("dashboard.png", false)
	b.screenshot("dashboard-full.png", true)

	// A call's explanation, opened from the keyboard: its sentence is the API's.
	explained := func(taskID string) {
		t.Helper()
		b.wait(fmt.Sprintf(`document.querySelector("#explain").open && document.querySelector("#explain").dataset.taskId == %q && document.querySelector("#explain").dataset.state == "ready"`, taskID))
		var ex struct {
			Sentence string `json:"sentence"`
		}
		apiGet(t, g, "/v1/calls/"+url.PathEscape(taskID)+"/explain", &ex)
		if got := b.text(`#explain [data-field="sentence"]`); got != ex.Sentence || got == "" {
			t.Errorf("explanation of %s:\n page %q\n API  %q", taskID, got, ex.Sentence)
		}
		if !strings.Contains(eval[string](b, `location.search`), "call="+taskID) {
			t.Errorf("the open explanation is not in the URL: %s", eval[string](b, `location.search`))
		}
	}
	row := func(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`#calls tr[data-task-id=%q]`, id)) }
	run(b, chromedp.Focus(row(w.outside)))
	run(b, chromedp.KeyEvent("\r"))

	explained(w.outside)
	b.screenshot("dashboard-explain.png", false)
	run(b, chromedp.KeyEvent("\x1b")) // Esc closes it
	b.wait(`!document.querySelector("#explain").open && !location.search.includes("call=")`)

	// And one opened with the mouse, then the journey from it.
	run(b, chromedp.Click(row(w.merged)))
	explained(w.merged)
	if !strings.HasPrefix(b.text(`#explain [data-field="sentence"]`), "Merged:") {
		t.Errorf("call %s should be merged: %q", w.merged, b.text(`#explain [data-field="sentence"]`))
	}
	run(b, chromedp.Click(chromedp.CSS(`#explain [data-journey]`)))
	b.ready()
	var journey result
	apiGet(t, g, "/v1/reports/journey?person="+w.personUID, &journey)
	b.wait(fmt.Sprintf(`document.querySelectorAll("#journey .timeline li").length == %d`, len(journey.Rows)))
	items := eval[[][]string](b, `[...document.querySelectorAll("#journey .timeline li")].map(li => [li.dataset.kind, li.querySelector(".title").textContent])`)
	uids := map[string]bool{}
	for i, r := range journey.Rows {
		uids[r["uid"].(string)] = true
		if items[i][0] != r["kind"] || items[i][1] != r["title"] {
			t.Errorf("journey item %d: page %v, API %v %v", i, items[i], r["kind"], r["title"])
		}
	}
	if !uids[w.personUID] || !uids[w.secondUID] {
		t.Errorf("the journey should span both of person 0's browsers: %v", uids)
	}
	if !strings.Contains(eval[string](b, `location.search`), "person="+w.personUID) {
		t.Errorf("the journey is not in the URL: %s", eval[string](b, `location.search`))
	}

	// A shared link opens the same view: range, model, journey and explanation.
	shared := fmt.Sprintf("%s/?from=%s&to=%s&model=linear&person=%s&call=%s", base, from, to, w.secondUID, w.merged)
	run(b, chromedp.Navigate(shared))
	b.ready()
	explained(w.merged)
	if got := eval[string](b, `document.querySelector("#revenue select").value`); got != "linear" {
		t.Errorf("model from the URL: %q", got)
	}
	if !eval[bool](b, `document.querySelector('#range input[value="custom"]').checked`) {
		t.Error("a from/to link should select the custom range")
	}
	b.wait(fmt.Sprintf(`document.querySelectorAll("#journey .timeline li").length == %d`, len(journey.Rows)))
}

func TestDashboardEmptyStoreAndWrongToken(t *testing.T) {
	g := servertest.Start(t)
	base := front(t, g)
	b := newBrowser(t)

	// A wrong token typed into the form: the form stays, with the reason.
	run(b, chromedp.Navigate(base+"/"))
	b.signIn("not-the-token")
	b.wait(`document.body.dataset.state == "token" && !document.querySelector("#token-reason").hidden`)
	if reason := b.text("#token-reason"); !strings.Contains(reason, "missing or wrong bearer token") {
		t.Errorf("token form reason %q", reason)
	}
	if eval[bool](b, `!document.querySelector("#dash").hidden`) {
		t.Error("the reports are shown although the token was refused")
	}

	// A stored token that has become wrong: back to the form on load.
	eval[bool](b, `localStorage.setItem("calltrail.token", "revoked"), true`)
	run(b, chromedp.Reload())
	b.wait(`document.body.dataset.state == "token" && !document.querySelector("#token-reason").hidden`)
	if reason := b.text("#token-reason"); !strings.Contains(reason, "missing or wrong bearer token") {
		t.Errorf("token form reason after a reload %q", reason)
	}
	if got := eval[string](b, `localStorage.getItem("calltrail.token") ?? ""`); got != "" {
		t.Errorf("the refused token is still stored: %q", got)
	}
	b.screenshot("dashboard-token.png", false)

	// The right token on an empty store: empty states that say what to do.
	b.signIn(servertest.Token)
	b.ready()
	b.wait(`!document.querySelector("#notice").hidden`)
	notice := b.text("#notice")
	for _, want := range []string{"No data yet", "calltrail demo seed", `<script async src="` + base + `/calltrail.js"`} {
		if !strings.Contains(notice, want) {
			t.Errorf("empty-store notice %q lacks %q", notice, want)
		}
	}
	if !eval[bool](b, `!!document.querySelector("#demo-seed")`) {
		t.Error("no demo-seed button on an empty store")
	}
	for panel, want := range map[string]string{
		"calls-chart": "docs/calls.md",
		"calls":       "docs/calls.md",
		"revenue":     "calltrail import opportunities",
		"touchpoints": "No touchpoints",
	} {
		if got := b.text("#" + panel + " .empty"); !strings.Contains(got, want) {
			t.Errorf("%s empty state %q lacks %q", panel, got, want)
		}
	}
	for _, metric := range []string{"sessions", "calls", "revenue_won"} {
		if got := b.text(fmt.Sprintf(`#summary [data-metric=%q] .value`, metric)); pageNumber(t, metric, got) != 0 {
			t.Errorf("card %s on an empty store: %q", metric, got)
		}
	}
	b.screenshot("dashboard-empty.png", false)

	// The empty state's button loads the demo month (POST /v1/demo/seed);
	// the cards then show what the API says for the page's range.
	run(b, chromedp.Click(chromedp.CSS("#demo-seed")))
	b.wait(`document.body.dataset.state == "ready" && /[1-9]/.test(document.querySelector('#summary [data-metric="sessions"] .value').textContent)`)
	from := eval[string](b, `document.querySelector('input[name=from]').value`)
	to := eval[string](b, `document.querySelector('input[name=to]').value`)
	seeded := apiReport(t, g, "summary", from, to).Rows[0]
	same(t, "sessions after the demo seed", b.text(`#summary [data-metric="sessions"] .value`), seeded["sessions"], 0)
	if number(seeded["calls"]) == 0 || number(seeded["revenue_won"]) == 0 {
		t.Errorf("the demo month has no calls or revenue in %s..%s: %v", from, to, seeded)
	}

	// Change token: back to the form, and the token is forgotten.
	run(b, chromedp.Click(chromedp.CSS("#signout")))
	b.wait(`document.body.dataset.state == "token" && document.querySelector("#token-reason").hidden`)
	if got := eval[string](b, `localStorage.getItem("calltrail.token") ?? ""`); got != "" {
		t.Errorf("sign out kept the token: %q", got)
	}
}
