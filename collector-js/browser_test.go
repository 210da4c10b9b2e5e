package collectorjs_test

// Real-browser tests of the site script: headless Chromium loads pages that
// embed calltrail.js, the script posts to a real gateway (servertest), and
// the tests read what landed in the real embedded ClickHouse. Between the
// browser and the gateway sits a small front server, playing the site's own
// origin: it serves the freshly built script (so the test runs the source,
// not whatever was last bundled into the gateway), a few test pages, and can
// make the events endpoint and the pixel fail like an overloaded or
// unreachable gateway.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/calltrail/calltrail/build/bundle"
	"github.com/calltrail/calltrail/gateway/server/servertest"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var uidPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Front-server modes for POST /v1/events (and GET /v1/p.gif).
const (
	pass        = iota // forward to the gateway
	unavailable        // 503 with Retry-After, as a gateway that cannot store
	unreachable        // the connection drops: a network error in the browser
)

var (
	scriptOnce sync.Once
	script     []byte
	scriptErr  error
)

// builtScript bundles collector-js/src once per test run.
func builtScript(t *testing.T) []byte {
	t.Helper()
	scriptOnce.Do(func() {
		root, err := bundle.Root(".")
		if err != nil {
			scriptErr = err
			return
		}
		for _, e := range bundle.Entries {
			if e.In == "collector-js/src/index.ts" {
				r, err := bundle.Build(root, e)
				script, scriptErr = r.Code, err
				return
			}
		}
		scriptErr = fmt.Errorf("no bundle entry for collector-js/src/index.ts")
	})
	if scriptErr != nil {
		t.Fatal(scriptErr)
	}
	return script
}

// chromiumPath finds Debian's chromium; its absence fails the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: the browser tests need it. `make deps` installs it (apt-get install chromium)")
	return ""
}

type env struct {
	t     *testing.T
	gw    *servertest.Gateway
	URL   string // the front server, e.g. http://127.0.0.1:PORT
	port  string
	mode  atomic.Int32
	posts atomic.Int32 // POST /v1/events requests that reached the front
	// GET /v1/p.gif requests (the script's fallback) that reached the front;
	// the modes apply to them too: a gateway that is down is down for both.
	pixels atomic.Int32
	hosts  sync.Map // Host headers those requests were sent to
	ctx    context.Context
}

// newEnv starts a gateway, the front server with the given test pages
// (path → HTML, served at /t/path, with {{FRONT}} replaced by the front
// server's URL) and a fresh browser profile.
func newEnv(t *testing.T, pages map[string]string) *env {
	t.Helper()
	chrome := chromiumPath(t)
	js := builtScript(t)
	e := &env{t: t, gw: servertest.Start(t)}
	target, err := url.Parse(e.gw.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if !errors.Is(err, context.Canceled) { // a browser that left the page
			t.Logf("front: %s %s: %v", r.Method, r.URL, err)
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/calltrail.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Write(js)
		case strings.HasPrefix(r.URL.Path, "/t/"):
			html, ok := pages[strings.TrimPrefix(r.URL.Path, "/t/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(strings.ReplaceAll(html, "{{FRONT}}", e.URL)))
		case r.URL.Path == "/v1/events" && r.Method == http.MethodPost, r.URL.Path == "/v1/p.gif":
			if r.Method == http.MethodPost {
				e.posts.Add(1)
				e.hosts.Store(r.Host, true)
			} else {
				e.pixels.Add(1)
			}
			switch e.mode.Load() {
			case unavailable:
				w.Header().Set("Access-Control-Allow-Origin", "*")
				w.Header().Set("Retry-After", "5")
				http.Error(w, `{"error":"events cannot be stored right now; retry later"}`, http.StatusServiceUnavailable)
			case unreachable:
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					conn.Close()
				}
			default:
				proxy.ServeHTTP(w, r)
			}
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(front.Close)
	e.URL = front.URL
	e.port = front.URL[strings.LastIndex(front.URL, ":")+1:]

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Names under example.co.uk reach the front server, so the test
		// of the registrable-domain probe has a public suffix to refuse.
		chromedp.Flag("host-resolver-rules", "MAP *.example.co.uk 127.0.0.1"),
		// The gateway counts HeadlessChrome as a bot, and bots make no
		// sessions: the tests browse as a plain desktop Chrome.
		chromedp.UserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"),
		// No https:// attempt before http:// on those names.
		chromedp.Flag("disable-features", "Translate,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", chrome, err)
	}
	e.ctx = ctx
	return e
}

// run runs one browser action with a deadline.
func run[T any](e *env, a chromedp.Action[T]) T {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func eval[T any](e *env, js string) T {
	e.t.Helper()
	return run(e, chromedp.Evaluate[T](js))
}

// wait polls a JavaScript expression in the page until it is truthy. It
// keeps polling across navigations (an evaluation fails while the next page
// replaces the current one).
func (e *env) wait(js string) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("waited 20 s for %s (last error: %v)", js, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open loads a page and waits until the script has run.
func (e *env) open(u string) {
	e.t.Helper()
	run(e, chromedp.Navigate(u))
	e.wait("window.calltrail")
}

// openFrom loads a page as if the visitor clicked a link on ref.
func (e *env) openFrom(u, ref string) {
	e.t.Helper()
	run(e, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, page.Navigate, page.NavigateParams{URL: u, Referrer: ref, ReferrerPolicy: page.ReferrerPolicyUnsafeURL})
		if err == nil && res.ErrorText != "" {
			err = fmt.Errorf("navigate %s: %s", u, res.ErrorText)
		}
		return err
	}))
	e.wait(fmt.Sprintf("location.href == %q && document.readyState == 'complete' && window.calltrail", u))
}

// sent waits until the script's queue is empty: every event answered.
func (e *env) sent() {
	e.t.Helper()
	e.wait("JSON.parse(localStorage._calltrail_q || '[]').length == 0")
}

func (e *env) cookies() []*network.Cookie {
	e.t.Helper()
	return run(e, func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{})
		return res.Cookies, err
	})
}

func (e *env) cookie(name string) *network.Cookie {
	e.t.Helper()
	for _, c := range e.cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

type row map[string]any

func (r row) str(k string) string { return fmt.Sprint(r[k]) }

// num reads an integer column (ClickHouse quotes 64-bit ones in JSON).
func (r row) num(k string) int64 {
	var s string
	switch v := r[k].(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("column %s = %#v is not an integer", k, r[k]))
	}
	return n
}

// rows polls the store until the query returns n rows (ClickHouse sees a
// batch some milliseconds after the gateway answered), then returns them.
func (e *env) rows(n int, query string, args ...any) []row {
	e.t.Helper()
	q := fmt.Sprintf(query, args...)
	deadline := time.Now().Add(30 * time.Second)
	var got []row
	for {
		out, err := e.gw.Store.Query(context.Background(), q, "JSONEachRow", nil)
		if err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
		got = got[:0]
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line == "" {
				continue
			}
			var r row
			d := json.NewDecoder(strings.NewReader(line))
			d.UseNumber()
			if err := d.Decode(&r); err != nil {
				e.t.Fatalf("%s: %v", line, err)
			}
			got = append(got, r)
		}
		if len(got) == n {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s\nwant %d rows, have %d: %v", q, n, len(got), got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// page builds a test page that embeds the script; head goes before it.
func testPage(head, attrs, body string) string {
	return `<!doctype html><meta charset="utf-8"><title>test</title>` + head +
		`<script async src="/calltrail.js" data-site="test"` + attrs + `></script><body>` + body
}

func TestCookieFormatAndAttributes(t *testing.T) {
	e := newEnv(t, nil)
	e.open(e.URL + "/demo/index.html")
	e.sent()
	now := time.Now()
	uid := e.cookie("_biz_uid")
	if uid == nil {
		t.Fatalf("no _biz_uid cookie; have %v", e.cookies())
	}
	if !uidPattern.MatchString(uid.Value) || uid.Value[12] != '4' {
		t.Errorf("_biz_uid = %q, want 32 lowercase hex, a UUIDv4 without dashes", uid.Value)
	}
	if uid.Path != "/" || uid.HTTPOnly || uid.SameSite != network.CookieSameSiteLax || uid.Secure {
		t.Errorf("_biz_uid: path %q httpOnly %v sameSite %q secure %v; want /, false, Lax, false (http)", uid.Path, uid.HTTPOnly, uid.SameSite, uid.Secure)
	}
	if exp := time.Unix(int64(uid.Expires), 0); exp.Before(now.Add(364*24*time.Hour)) || exp.After(now.Add(366*24*time.Hour)) {
		t.Errorf("_biz_uid expires %v, want a year from now", exp)
	}
	sid := e.cookie("_biz_sid")
	if sid == nil || !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(sid.Value) {
		t.Fatalf("_biz_sid = %+v, want 12 hex digits (a direct visit: no source hash)", sid)
	}
	if exp := time.Unix(int64(sid.Expires), 0); exp.Before(now.Add(29*time.Minute)) || exp.After(now.Add(31*time.Minute)) {
		t.Errorf("_biz_sid expires %v, want 30 minutes from now", exp)
	}
	if sid.Path != "/" || sid.HTTPOnly || sid.SameSite != network.CookieSameSiteLax {
		t.Errorf("_biz_sid: path %q httpOnly %v sameSite %q", sid.Path, sid.HTTPOnly, sid.SameSite)
	}
	if c := e.cookie("_biz_probe"); c != nil {
		t.Errorf("the domain probe cookie was left behind: %+v", c)
	}
}

func TestCookieOnRegistrableDomain(t *testing.T) {
	e := newEnv(t, nil)
	// co.uk is a public suffix: the probe must settle on example.co.uk.
	e.open("http://www.shop.example.co.uk:" + e.port + "/demo/pricing.html")
	e.sent()
	uid := e.cookie("_biz_uid")
	if uid == nil || uid.Domain != ".example.co.uk" {
		t.Fatalf("_biz_uid = %+v, want it on .example.co.uk", uid)
	}
	if sid := e.cookie("_biz_sid"); sid == nil || sid.Domain != ".example.co.uk" {
		t.Fatalf("_biz_sid = %+v, want it on .example.co.uk", sid)
	}
	// Another subdomain of the site sees the same visitor and session.
	sid := e.cookie("_biz_sid").Value
	e.open("http://app.example.co.uk:" + e.port + "/demo/index.html")
	if got := eval[string](e, "calltrail.uid() + ' ' + calltrail.sessionId()"); got != uid.Value+" "+sid {
		t.Errorf("on app.example.co.uk: %q, want %q", got, uid.Value+" "+sid)
	}
}

func TestScriptFromAnotherOrigin(t *testing.T) {
	// The usual embed: the page on the customer's site, the script (and so,
	// by default, the events endpoint) on the gateway's host.
	e := newEnv(t, map[string]string{
		"xorigin.html": `<!doctype html><meta charset="utf-8"><title>x</title>
			<script async src="{{FRONT}}/calltrail.js" data-site="shop"></script>`,
		// The script from the site itself, the events to data-api.
		"api.html": `<!doctype html><meta charset="utf-8"><title>x</title>
			<script async src="/calltrail.js" data-site="shop" data-api="{{FRONT}}"></script>`,
	})
	gatewayHost := strings.TrimPrefix(e.URL, "http://")
	for _, p := range []string{"xorigin.html", "api.html"} {
		e.hosts.Clear()
		page := "http://www.example.co.uk:" + e.port + "/t/" + p
		e.open(page)
		e.sent()
		uid := eval[string](e, "calltrail.uid()")
		if c := e.cookie("_biz_uid"); c == nil || c.Value != uid || c.Domain != ".example.co.uk" {
			t.Errorf("%s: _biz_uid on the site: %+v", p, c)
		}
		if _, ok := e.hosts.Load(gatewayHost); !ok {
			t.Errorf("%s: events were not posted to %s", p, gatewayHost)
		}
		e.hosts.Range(func(h, _ any) bool {
			if h != gatewayHost {
				t.Errorf("%s: events posted to %s", p, h)
			}
			return true
		})
		r := e.rows(1, "SELECT site, uid, hostname FROM events WHERE type = 'page_view' AND url = '%s'", page)[0]
		if r.str("site") != "shop" || r.str("uid") != uid || r.str("hostname") != "www.example.co.uk" {
			t.Errorf("%s: page view row %v", p, r)
		}
	}
}

func TestCookieDomainAttribute(t *testing.T) {
	e := newEnv(t, map[string]string{"shop.html": testPage("", ` data-cookie-domain="shop.example.co.uk"`, "")})
	e.open("http://www.shop.example.co.uk:" + e.port + "/t/shop.html")
	if c := e.cookie("_biz_uid"); c == nil || c.Domain != ".shop.example.co.uk" {
		t.Fatalf("_biz_uid = %+v, want it on .shop.example.co.uk as data-cookie-domain says", c)
	}
}

func TestBeaconWhenThePageGoes(t *testing.T) {
	e := newEnv(t, nil)
	e.open(e.URL + "/demo/index.html")
	e.sent()
	// Recorded and left in the same moment: the debounced fetch never runs,
	// the pagehide beacon carries the event.
	eval[chromedp.Void](e, "calltrail.track('chat'); location.href = 'about:blank'")
	e.wait("location.href == 'about:blank'")
	e.rows(1, "SELECT 1 FROM events WHERE type = 'chat'")
}

func TestVisitorIDReadableByOtherScripts(t *testing.T) {
	e := newEnv(t, map[string]string{"ready.html": testPage(
		`<script>addEventListener('calltrail:ready', function (e) { window.readyDetail = e.detail })</script>`, "", "")})
	// The demo's stand-in call-tracking script shows what it read.
	e.open(e.URL + "/demo/index.html")
	e.wait("document.getElementById('ct-uid').textContent.length == 32")
	shown := eval[string](e, "document.getElementById('ct-uid').textContent")
	how := eval[string](e, "document.getElementById('ct-how').textContent")
	fromCookie := eval[string](e, "document.cookie.match(/(?:^|; )_biz_uid=([^;]*)/)[1]")
	if shown != fromCookie || shown != eval[string](e, "calltrail.uid()") || !uidPattern.MatchString(shown) {
		t.Fatalf("stand-in read %q (%s); cookie %q; calltrail.uid() differs or is malformed", shown, how, fromCookie)
	}
	if how != "from the calltrail:ready event" {
		t.Errorf("a first visit should get the id from the event, got %q", how)
	}
	// The event's detail carries the same uid and the session id.
	e.open(e.URL + "/t/ready.html")
	e.wait("window.readyDetail")
	detail := eval[map[string]string](e, "window.readyDetail")
	if detail["uid"] != shown || detail["sid"] != eval[string](e, "calltrail.sessionId()") || detail["sid"] == "" {
		t.Errorf("calltrail:ready detail %v; want uid %s and the session id", detail, shown)
	}
	// A returning visitor's page gets it from the cookie before the event.
	e.open(e.URL + "/demo/index.html")
	e.wait("document.getElementById('ct-uid').textContent == " + fmt.Sprintf("%q", shown))
}

func TestPageViewsFillEventsAndSessions(t *testing.T) {
	e := newEnv(t, nil)
	landing := e.URL + "/demo/index.html?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=leak+repair&gclid=EAIa-test"
	e.openFrom(landing, "https://www.google.com/")
	run(e, chromedp.Click(chromedp.CSS("#next")))
	e.wait("location.pathname == '/demo/pricing.html' && window.calltrail")
	e.sent()
	uid := eval[string](e, "calltrail.uid()")
	sid := eval[string](e, "calltrail.sessionId()")

	pv := e.rows(2, `SELECT uid, session_id, url, referrer, referrer_host, title, utm_source, utm_medium, utm_campaign, utm_term, gclid
		FROM events WHERE type = 'page_view' ORDER BY event_time`)
	first, second := pv[0], pv[1]
	for _, r := range pv {
		if r.str("uid") != uid || r.str("session_id") != sid {
			t.Errorf("row uid/session %s/%s, want %s/%s", r.str("uid"), r.str("session_id"), uid, sid)
		}
	}
	for k, want := range map[string]string{
		"url": landing, "referrer_host": "www.google.com", "title": "Acme Plumbing — CallTrail demo",
		"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring", "utm_term": "leak repair", "gclid": "EAIa-test",
	} {
		if first.str(k) != want {
			t.Errorf("landing page view %s = %q, want %q", k, first.str(k), want)
		}
	}
	if !strings.HasPrefix(first.str("referrer"), "https://www.google.com/") {
		t.Errorf("landing referrer %q", first.str("referrer"))
	}
	if second.str("url") != e.URL+"/demo/pricing.html" || second.str("referrer") != landing {
		t.Errorf("second page view url %q referrer %q; want pricing.html from the landing page", second.str("url"), second.str("referrer"))
	}

	s := e.rows(1, "SELECT session_id, pageviews, landing_page, landing_page_raw, utm_source, utm_campaign, gclid, marketing_channel FROM sessions")[0]
	if s.str("session_id") != sid || s.num("pageviews") != 2 || s.str("landing_page") != e.URL+"/demo/index.html" ||
		s.str("landing_page_raw") != landing || s.str("utm_source") != "google" || s.str("utm_campaign") != "spring" ||
		s.str("gclid") != "EAIa-test" || s.str("marketing_channel") != "Paid Search" {
		t.Errorf("session row %v", s)
	}
}

func TestNewCampaignStartsNewSession(t *testing.T) {
	e := newEnv(t, nil)
	e.openFrom(e.URL+"/demo/index.html?utm_source=google&utm_medium=cpc&utm_campaign=spring", "https://www.google.com/")
	first := eval[string](e, "calltrail.sessionId()")
	// The same campaign again (a reload, a second click on the ad) keeps it.
	e.openFrom(e.URL+"/demo/index.html?utm_source=google&utm_medium=cpc&utm_campaign=spring", "https://www.google.com/")
	if again := eval[string](e, "calltrail.sessionId()"); again != first {
		t.Errorf("same source again: session %s, want %s", again, first)
	}
	// Other campaign parameters: a new session.
	e.open(e.URL + "/demo/index.html?utm_source=facebook&utm_medium=paid_social&utm_campaign=summer")
	second := eval[string](e, "calltrail.sessionId()")
	if second == first {
		t.Fatalf("new campaign kept session %s", first)
	}
	// A direct arrival (typed URL: no referrer, no campaign) keeps it.
	e.open(e.URL + "/demo/pricing.html")
	if third := eval[string](e, "calltrail.sessionId()"); third != second {
		t.Errorf("direct arrival: session %s, want %s", third, second)
	}
	// Another external referrer: a new session.
	e.openFrom(e.URL+"/demo/pricing.html", "https://www.bing.com/")
	fourth := eval[string](e, "calltrail.sessionId()")
	if fourth == second {
		t.Errorf("arrival from bing kept session %s", second)
	}
	e.sent()
	sessions := e.rows(3, "SELECT session_id, pageviews, utm_campaign, referrer_host FROM sessions ORDER BY session_start")
	want := []struct {
		sid               string
		pageviews         int64
		campaign, refHost string
	}{{first, 2, "spring", "www.google.com"}, {second, 2, "summer", ""}, {fourth, 1, "", "www.bing.com"}}
	for i, w := range want {
		s := sessions[i]
		if s.str("session_id") != w.sid || s.num("pageviews") != w.pageviews || s.str("utm_campaign") != w.campaign || s.str("referrer_host") != w.refHost {
			t.Errorf("session %d = %v, want %+v", i, s, w)
		}
	}
}

func TestSPANavigation(t *testing.T) {
	e := newEnv(t, map[string]string{"spa.html": testPage("", "", "<h1>app</h1>")})
	e.open(e.URL + "/t/spa.html")
	eval[chromedp.Void](e, `
		history.pushState({}, '', '/t/spa/a');
		history.pushState({}, '', '/t/spa/a');     // same URL: no page view
		history.replaceState({}, '', '/t/spa/a');  // same URL: no page view
		history.pushState({}, '', '/t/spa/a#part'); // fragment only: no page view
		history.pushState({}, '', '/t/spa/b');
			history.back();                            // popstate to /t/spa/a#part: a page view of /a`)
	e.wait("location.hash == '#part'")
	eval[chromedp.Void](e, `history.back()`) // to /t/spa/a, the same page: no page view
	e.wait("location.pathname == '/t/spa/a' && location.hash == ''")
	eval[chromedp.Void](e, `history.replaceState({}, '', '/t/spa/c')`)
	e.sent()
	// One page view per change of URL (fragments aside), each from the previous URL.
	u := e.URL + "/t/"
	want := [][2]string{{u + "spa.html", ""}, {u + "spa/a", u + "spa.html"}, {u + "spa/b", u + "spa/a"},
		{u + "spa/a", u + "spa/b"}, {u + "spa/c", u + "spa/a"}}
	pv := e.rows(len(want), "SELECT url, referrer FROM events WHERE type = 'page_view' ORDER BY event_time")
	for i, w := range want {
		if pv[i].str("url") != w[0] || pv[i].str("referrer") != w[1] {
			t.Errorf("page view %d: %s from %q; want %s from %q", i, pv[i].str("url"), pv[i].str("referrer"), w[0], w[1])
		}
	}
}

func TestFormSubmit(t *testing.T) {
	e := newEnv(t, nil)
	e.open(e.URL + "/demo/contact.html")
	uid := eval[string](e, "calltrail.uid()")
	sid := eval[string](e, "calltrail.sessionId()")
	run(e, chromedp.SendKeys(chromedp.CSS("#name"), "Jane Doe"))
	run(e, chromedp.SendKeys(chromedp.CSS("#email"), "Jane.Doe@Example.com"))
	run(e, chromedp.Click(chromedp.CSS("#send")))
	e.wait("location.pathname == '/demo/thanks.html' && window.calltrail")
	// The hidden field went out with the form, filled with the visitor id.
	posted := eval[string](e, "new URLSearchParams(location.search).get('bizible_id')")
	if posted != uid {
		t.Errorf("form posted bizible_id=%q, want the uid %q", posted, uid)
	}
	e.sent()
	f := e.rows(1, "SELECT uid, session_id, form, email_hash, url FROM events WHERE type = 'form_submit'")[0]
	if f.str("uid") != uid || f.str("session_id") != sid || f.str("form") != "contact" ||
		f.str("email_hash") != sha("jane.doe@example.com") || f.str("url") != e.URL+"/demo/contact.html" {
		t.Errorf("form_submit row %v", f)
	}
	// The submit counts as activity of the session that the thanks page continues.
	e.rows(1, "SELECT 1 FROM sessions WHERE session_id = '%s' AND pageviews = 2 AND events = 3", sid)
}

func TestQueuedWhileGatewayDownArrivesWithOriginalTimes(t *testing.T) {
	e := newEnv(t, nil)
	e.mode.Store(unavailable)
	e.open(e.URL + "/demo/index.html")
	e.wait("JSON.parse(localStorage._calltrail_q || '[]').length == 1")
	// A second page while the gateway cannot even be reached: the queue
	// survives the navigation, and a chat on that page joins it.
	e.mode.Store(unreachable)
	e.open(e.URL + "/demo/pricing.html")
	eval[chromedp.Void](e, "calltrail.track('chat')")
	e.wait("JSON.parse(localStorage._calltrail_q || '[]').length == 3")
	if e.posts.Load() == 0 {
		t.Fatal("the script never tried to send while the gateway was down")
	}
	type queued struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		TS   int64  `json:"ts"`
	}
	q := eval[[]queued](e, "JSON.parse(localStorage._calltrail_q).map(x => x[1])")
	time.Sleep(3 * time.Second) // the outage lasts a while
	e.mode.Store(pass)
	eval[chromedp.Void](e, "dispatchEvent(new Event('online'))")
	e.sent()
	got := e.rows(3, `SELECT toString(event_id) AS id, type, toUnixTimestamp64Milli(event_time) AS t, toUnixTimestamp64Milli(received_at) AS r
		FROM events ORDER BY event_time`)
	for i, ev := range q {
		r := got[i]
		if r.str("id") != ev.ID || r.str("type") != ev.Type {
			t.Fatalf("row %d = %v, want %+v", i, r, ev)
		}
		if d := r.num("t") - ev.TS; d < -250 || d > 250 {
			t.Errorf("%s: stored time %d, the event's own time %d (off by %d ms)", ev.Type, r.num("t"), ev.TS, d)
		}
		if late := r.num("r") - r.num("t"); late < 2500 {
			t.Errorf("%s arrived %d ms after it happened; the outage was 3 s", ev.Type, late)
		}
	}
}

func TestQueueIsBoundedAndKeepsTheLandingPageView(t *testing.T) {
	e := newEnv(t, nil)
	e.mode.Store(unavailable)
	e.open(e.URL + "/demo/index.html?utm_source=newsletter&utm_medium=email")
	eval[chromedp.Void](e, "for (let i = 0; i < 120; i++) calltrail.track('e' + i)")
	// 121 events, room for 100: the 21 oldest go, except the landing page view.
	type queued struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	q := eval[[]queued](e, "JSON.parse(localStorage._calltrail_q).map(x => x[1])")
	if len(q) != 100 || q[0].Type != "page_view" || q[1].Name != "e21" || q[99].Name != "e119" {
		t.Fatalf("queue of %d: first %+v, second %+v, last %+v", len(q), q[0], q[1], q[len(q)-1])
	}
	e.mode.Store(pass)
	eval[chromedp.Void](e, "dispatchEvent(new Event('online'))")
	e.sent()
	e.rows(1, "SELECT 1 FROM events WHERE type = 'page_view' AND utm_source = 'newsletter'")
	e.rows(99, "SELECT name FROM events WHERE type = 'custom'")
}

func TestRejectedEventsAreNotRetried(t *testing.T) {
	e := newEnv(t, nil)
	e.open(e.URL + "/demo/index.html")
	e.sent()
	before := e.posts.Load()
	// The gateway refuses this event (400: no @ in the email): the script
	// must drop it, not retry it.
	eval[chromedp.Void](e, "calltrail.identify({email: 'not-an-email'}); calltrail.track('signup', {plan: 'pro'})")
	e.sent()
	if n := e.posts.Load() - before; n != 1 {
		t.Errorf("%d posts for one batch", n)
	}
	c := e.rows(1, "SELECT name, props FROM events WHERE type = 'custom'")[0]
	if c.str("name") != "signup" || !strings.Contains(c.str("props"), `"plan":"pro"`) {
		t.Errorf("custom event row %v", c)
	}
	e.rows(0, "SELECT 1 FROM events WHERE type = 'identify'")
	time.Sleep(1500 * time.Millisecond) // longer than the first backoff
	if n := e.posts.Load() - before; n != 1 {
		t.Errorf("the refused batch was sent %d times", n)
	}
}

func TestExistingUIDIsKept(t *testing.T) {
	const old = "763be9ab75d94327b701ee0313740eee" // as Marketo Measure's bizible.js set it
	e := newEnv(t, nil)
	run(e, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
			Name: "_biz_uid", Value: old, URL: e.URL + "/", Path: "/",
			Expires: cdp.TimeSinceEpoch(time.Now().Add(30 * 24 * time.Hour).Unix()),
		})
		return err
	}))
	e.open(e.URL + "/demo/index.html")
	if got := eval[string](e, "calltrail.uid()"); got != old {
		t.Fatalf("uid %q, want the existing %q", got, old)
	}
	e.sent()
	e.rows(1, "SELECT 1 FROM events WHERE type = 'page_view' AND uid = '%s'", old)
	// Renewed for a year.
	if c := e.cookie("_biz_uid"); c == nil || c.Value != old || time.Unix(int64(c.Expires), 0).Before(time.Now().Add(364*24*time.Hour)) {
		t.Errorf("_biz_uid after the visit: %+v", c)
	}
}

func TestBizibleQueue(t *testing.T) {
	e := newEnv(t, map[string]string{"bizible.html": testPage(`<script>
		window['Bizible'] = window['Bizible'] || { _queue: [], Push: function (o, p) { this._queue.push({ type: o, data: p }); } };
		Bizible.Push('User', { eMail: 'Lead@Example.com' });
	</script>`, "", `<form id="ajax"><input name="work_email" value="ajax@example.com"><input type="hidden" name="calltrail_uid"></form>
		<form name="callback"><input name="phone" value="555-0100"></form>`)})
	e.open(e.URL + "/t/bizible.html")
	// AJAX forms that never submit natively, reported by id and by element.
	eval[chromedp.Void](e, "Bizible.Push('Form', 'ajax'); Bizible.Push('Form', document.forms.callback)")
	eval[chromedp.Void](e, "calltrail.identify({email: 'jane@example.com', leadId: '00Q5e00000AbCdE'})")
	e.sent()
	uid := eval[string](e, "calltrail.uid()")
	if got := eval[string](e, "document.querySelector('[name=calltrail_uid]').value"); got != uid {
		t.Errorf("hidden calltrail_uid = %q, want %q", got, uid)
	}
	ids := e.rows(2, "SELECT email_hash, props FROM events WHERE type = 'identify' ORDER BY event_time")
	if ids[0].str("email_hash") != sha("lead@example.com") {
		t.Errorf("identify row from Bizible.Push('User') %v", ids[0])
	}
	if ids[1].str("email_hash") != sha("jane@example.com") || !strings.Contains(ids[1].str("props"), `"lead_id":"00Q5e00000AbCdE"`) {
		t.Errorf("identify row from calltrail.identify %v", ids[1])
	}
	f := e.rows(2, "SELECT form, email_hash FROM events WHERE type = 'form_submit' ORDER BY event_time")
	if f[0].str("form") != "ajax" || f[0].str("email_hash") != sha("ajax@example.com") {
		t.Errorf("form_submit row %v", f[0])
	}
	// A form without an email field is reported by its name, with no email.
	if f[1].str("form") != "callback" || f[1].str("email_hash") != "" {
		t.Errorf("form_submit row %v", f[1])
	}
}

func TestConsentRequired(t *testing.T) {
	e := newEnv(t, map[string]string{
		"consent.html": testPage("", ` data-consent="required"`, ""),
		"gpc.html": testPage(`<script>Object.defineProperty(navigator, 'globalPrivacyControl', { value: true })</script>`,
			` data-respect-gpc="true"`, ""),
	})
	for _, p := range []string{"consent.html", "gpc.html"} {
		e.open(e.URL + "/t/" + p)
		time.Sleep(300 * time.Millisecond) // what would have been sent, would be on its way
		if cs := e.cookies(); len(cs) != 0 {
			t.Fatalf("%s: cookies before consent: %v", p, cs)
		}
		if n := eval[int](e, "JSON.parse(localStorage._calltrail_q || '[]').length"); n != 0 || e.posts.Load() != 0 {
			t.Fatalf("%s: %d events queued, %d posts before consent", p, n, e.posts.Load())
		}
	}
	eval[chromedp.Void](e, "Bizible.Push('Consent', true)")
	e.sent()
	uid := eval[string](e, "calltrail.uid()")
	if c := e.cookie("_biz_uid"); c == nil || c.Value != uid {
		t.Fatalf("after consent: _biz_uid %+v, uid() %q", c, uid)
	}
	e.rows(1, "SELECT 1 FROM events WHERE type = 'page_view' AND uid = '%s' AND url LIKE '%%/t/gpc.html'", uid)
	// Consent remembered on the next page.
	e.open(e.URL + "/t/consent.html")
	e.sent()
	e.rows(2, "SELECT 1 FROM events WHERE type = 'page_view' AND uid = '%s'", uid)
	// Withdrawn: the script's cookies go (the gateway's copy of _biz_uid
	// too), and the refusal is remembered.
	eval[chromedp.Void](e, "calltrail.consent(false)")
	for _, c := range e.cookies() {
		if c.Name != "_biz_consent" || c.Value != "0" {
			t.Errorf("after withdrawal: cookie %s=%s", c.Name, c.Value)
		}
	}
	posts := e.posts.Load()
	e.open(e.URL + "/demo/index.html")
	time.Sleep(300 * time.Millisecond)
	if e.cookie("_biz_uid") != nil || e.posts.Load() != posts || eval[bool](e, "calltrail.uid() !== undefined") {
		t.Errorf("tracking after withdrawal: cookies %v, posts %d → %d", e.cookies(), posts, e.posts.Load())
	}
}

func TestFormAndSPAKeepTheAdSession(t *testing.T) {
	// An ad landing page: external referrer plus campaign parameters. A form
	// submit on it and SPA navigations (including back to the landing URL,
	// whose query string still holds the campaign) are direct: one session.
	e := newEnv(t, map[string]string{"ad.html": testPage("", "",
		`<form id="lead" onsubmit="event.preventDefault()"><input type="email" name="email" value="ad@example.com"></form>`)})
	landing := e.URL + "/t/ad.html?utm_source=google&utm_medium=cpc&gclid=EAIa-ad"
	e.openFrom(landing, "https://www.google.com/")
	sid := eval[string](e, "calltrail.sessionId()")
	eval[chromedp.Void](e, "document.getElementById('lead').requestSubmit()")
	eval[chromedp.Void](e, "history.pushState({}, '', '/t/ad/next'); history.back()")
	e.wait("location.search.includes('gclid') && history.length > 1")
	e.wait("JSON.parse(localStorage._calltrail_q || '[]').length == 0 && calltrail.sessionId()")
	if got := eval[string](e, "calltrail.sessionId()"); got != sid {
		t.Errorf("session cookie %s after the submit and SPA navigation, want %s", got, sid)
	}
	rows := e.rows(4, "SELECT type, url, session_id FROM events ORDER BY event_time")
	for _, r := range rows {
		if r.str("session_id") != sid {
			t.Errorf("%s %s in session %s, want the landing's %s", r.str("type"), r.str("url"), r.str("session_id"), sid)
		}
	}
	if rows[3].str("url") != landing || rows[3].str("type") != "page_view" {
		t.Errorf("last event %v, want the page view of the landing URL after history.back()", rows[3])
	}
	e.rows(1, "SELECT 1 FROM sessions WHERE session_id = '%s' AND gclid = 'EAIa-ad' AND pageviews = 3", sid)
}

func TestCampaignParametersInAnyCase(t *testing.T) {
	// The gateway reads campaign parameters case-insensitively; so does the
	// session rule: other campaign parameters, a new session.
	e := newEnv(t, nil)
	e.open(e.URL + "/demo/index.html?utm_source=newsletter")
	first := eval[string](e, "calltrail.sessionId()")
	e.open(e.URL + "/demo/pricing.html?UTM_Source=Partner")
	if second := eval[string](e, "calltrail.sessionId()"); second == first {
		t.Errorf("?UTM_Source=Partner kept the session %s of ?utm_source=newsletter", first)
	}
}

func TestPixelFallbackWithoutFetchAndBeacon(t *testing.T) {
	// A browser (or a page's content policy) without fetch and sendBeacon:
	// page views go by the pixel, under the script's own uid, session and
	// event id; other events wait in the queue.
	e := newEnv(t, map[string]string{"nofetch.html": testPage(
		`<script>window.fetch = undefined; delete window.fetch; delete Navigator.prototype.sendBeacon</script>`, "", "")})
	e.open(e.URL + "/t/nofetch.html?utm_source=newsletter")
	if eval[bool](e, "!!(window.fetch || navigator.sendBeacon)") {
		t.Fatal("the page still has fetch or sendBeacon")
	}
	uid := eval[string](e, "calltrail.uid()")
	sid := eval[string](e, "calltrail.sessionId()")
	id := eval[string](e, "JSON.parse(localStorage._calltrail_q || '[]').map(x => x[1].id).join()")
	e.sent()
	r := e.rows(1, `SELECT toString(event_id) AS id, uid, session_id, source, url, utm_source, title FROM events WHERE type = 'page_view'`)[0]
	if r.str("uid") != uid || r.str("session_id") != sid || r.str("source") != "pixel" ||
		r.str("url") != e.URL+"/t/nofetch.html?utm_source=newsletter" || r.str("utm_source") != "newsletter" || r.str("title") != "test" {
		t.Errorf("page view row %v; want uid %s, session %s, by the pixel", r, uid, sid)
	}
	if id != "" && r.str("id") != id {
		t.Errorf("stored event id %s, the queued event's id %s", r.str("id"), id)
	}
	if got := eval[string](e, "calltrail.sessionId()"); got != sid {
		t.Errorf("session cookie %s after the pixel, want the script's %s", got, sid)
	}
	e.rows(1, "SELECT 1 FROM sessions WHERE session_id = '%s' AND uid = '%s' AND pageviews = 1", sid, uid)
	// A chat cannot go by the pixel: it stays queued for a page that can post it.
	eval[chromedp.Void](e, "calltrail.track('chat')")
	time.Sleep(300 * time.Millisecond)
	if q := eval[string](e, "JSON.parse(localStorage._calltrail_q).map(x => x[1].type).join()"); q != "chat" {
		t.Errorf("queue %q, want the chat", q)
	}
}

func TestOversizedEventDoesNotDropItsBatch(t *testing.T) {
	e := newEnv(t, nil)
	e.mode.Store(unavailable)
	e.open(e.URL + "/demo/index.html")
	// An event far over the gateway's 64 KiB body limit, queued next to the
	// page view: both would make one batch.
	eval[chromedp.Void](e, "calltrail.track('huge', {blob: 'x'.repeat(70000)})")
	e.wait("JSON.parse(localStorage._calltrail_q || '[]').length == 2")
	e.mode.Store(pass)
	before := e.posts.Load()
	eval[chromedp.Void](e, "dispatchEvent(new Event('online'))")
	e.sent()
	e.rows(1, "SELECT 1 FROM events WHERE type = 'page_view' AND url = '%s'", e.URL+"/demo/index.html")
	time.Sleep(1500 * time.Millisecond) // longer than the first backoff
	if n := e.posts.Load() - before; n != 2 {
		t.Errorf("%d posts, want 2: the page view, and the oversized event once (413, not retried)", n)
	}
	e.rows(0, "SELECT 1 FROM events WHERE type = 'custom'")
}

func TestEventsUseTheCurrentSession(t *testing.T) {
	e := newEnv(t, nil)
	e.open(e.URL + "/demo/index.html")
	first := eval[string](e, "calltrail.sessionId()")
	// Another tab arrives from a campaign: a new session, for every tab.
	ctx, cancel := chromedp.NewContext(e.ctx)
	defer cancel()
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	if _, err := chromedp.Run(tctx, chromedp.Navigate(e.URL+"/demo/pricing.html?utm_source=newsletter")); err != nil {
		t.Fatal(err)
	}
	second, err := chromedp.Run(tctx, chromedp.Poll[string]("window.calltrail && calltrail.sessionId()"))
	if err != nil {
		t.Fatal(err)
	}
	// The tabs share the queue in localStorage, and its read-modify-write is
	// not atomic across tabs: let the second tab's page view go, and close
	// the tab, before the first records anything.
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool]("JSON.parse(localStorage._calltrail_q || '[]').length == 0")); err != nil {
		t.Fatal(err)
	}
	tcancel()
	cancel()
	if second == first {
		t.Fatalf("the campaign arrival kept session %s", first)
	}
	// Back in the first tab: a chat belongs to the current session.
	eval[chromedp.Void](e, "calltrail.track('chat')")
	// Thirty minutes without a page view or form submit: the cookie is gone
	// (here: deleted, as its max-age would). The next event starts a new
	// session rather than joining the expired one, and later events share it.
	eval[chromedp.Void](e, "document.cookie = '_biz_sid=; path=/; max-age=0'")
	eval[chromedp.Void](e, "calltrail.track('after_idle'); calltrail.identify({email: 'idle@example.com'})")
	third := eval[string](e, "calltrail.sessionId() || ''")
	if third == "" || third == first || third == second {
		t.Fatalf("after the session expired: cookie %q (sessions so far %s, %s)", third, first, second)
	}
	e.sent()
	// By type, not time: the three are a few milliseconds apart and go in
	// separate batches, so their skew-corrected times may swap.
	rows := e.rows(3, "SELECT type, session_id FROM events WHERE type != 'page_view' ORDER BY type")
	for i, want := range []string{second, third, third} { // chat, custom, identify
		if rows[i].str("session_id") != want {
			t.Errorf("%s in session %s, want %s", rows[i].str("type"), rows[i].str("session_id"), want)
		}
	}
}

func TestBackoffGrowsPerAttempt(t *testing.T) {
	// Four batches (four envelope keys) fail together: that is one failed
	// attempt, and the next retry comes after the first backoff step
	// (0.5–1.5 s), the one after that 1–3 s later.
	e := newEnv(t, map[string]string{"plain.html": "<!doctype html><title>no script</title>"})
	run(e, chromedp.Navigate(e.URL+"/t/plain.html")) // the site's origin, without the script
	e.mode.Store(unavailable)
	eval[chromedp.Void](e, `localStorage._calltrail_q = JSON.stringify(['a', 'b', 'c'].map((s, i) => [
		'test 0123456789abcdef0123456789abcdef old-' + s,
		{id: crypto.randomUUID(), type: 'custom', name: 'n' + i, ts: Date.now(), url: location.href}]))`)
	e.open(e.URL + "/demo/index.html")
	// Per attempt, the second retry comes at most 1.5 + 3 s after the first
	// try. Counted per batch, the first retry would wait 8 s × 0.5–1.5 (the
	// fourth failure's step) and the second 128 s × 0.5–1.5.
	deadline := time.Now().Add(8 * time.Second)
	for e.posts.Load() < 12 {
		if time.Now().After(deadline) {
			t.Fatalf("%d posts in 8 s; want 4 batches tried three times (two retries after 0.5–1.5 s and 1–3 s)", e.posts.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
