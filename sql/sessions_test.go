package sql_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const (
	uidA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	uidB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var t0 = time.Date(2026, 11, 2, 12, 17, 0, 0, time.UTC)

// hit is a test event at t0 + at.
type hit struct {
	id       string
	uid, sid string
	typ      string
	at       time.Duration
	url, ref string
	email    string
}

func insert(t *testing.T, s store.Store, hits ...hit) {
	t.Helper()
	var hs []storetest.Hit
	for _, h := range hits {
		hs = append(hs, storetest.Hit{ID: h.id, UID: h.uid, SID: h.sid, Type: h.typ, At: t0.Add(h.at), URL: h.url, Ref: h.ref, Email: h.email})
	}
	storetest.Insert(t, s, hs...)
}

func query(t *testing.T, s store.Store, q string) string {
	t.Helper()
	return storetest.Query(t, s, q)
}

const sessionCols = `SELECT uid, session_id, formatDateTime(session_start, '%H:%i:%S'), formatDateTime(session_end, '%H:%i:%S'),
	pageviews, events, landing_page, landing_page_raw, referrer_page, utm_source, utm_medium, utm_campaign, gclid, marketing_channel_path
	FROM sessions ORDER BY uid, session_start`

func TestSessionsFromEvents(t *testing.T) {
	s := storetest.Open(t)
	landing := "https://www.example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=G1#plans"
	// uid A: a paid-search session of three page views split over two
	// batches (the second arriving first), then a later direct session.
	insert(t, s,
		hit{uid: uidA, sid: "s1", at: 4 * time.Minute, url: "https://www.example.com/contact", ref: "https://www.example.com/pricing"},
		hit{uid: uidA, sid: "s1", at: 5 * time.Minute, typ: "form_submit", url: "https://www.example.com/contact", email: "a@b.example"},
	)
	insert(t, s,
		hit{uid: uidA, sid: "s1", url: landing, ref: "https://www.google.com/"},
		hit{uid: uidA, sid: "s1", at: 2 * time.Minute, url: "https://www.example.com/features", ref: landing},
	)
	insert(t, s, hit{uid: uidA, sid: "s2", at: 3 * time.Hour, url: "https://www.example.com/"})
	// uid B: a referral from a blog.
	insert(t, s, hit{uid: uidB, sid: "s9", at: time.Hour, url: "https://www.example.com/blog/x", ref: "https://blog.partner.example/post"})

	want := strings.Join([]string{
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ts1\t12:17:00\t12:22:00\t3\t4\thttps://www.example.com/pricing\t" + landing + "\thttps://www.google.com/\tgoogle\tcpc\tspring\tG1\tPaid Search.Google",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ts2\t15:17:00\t15:17:00\t1\t1\thttps://www.example.com/\thttps://www.example.com/\t\t\t\t\t\tDirect",
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\ts9\t13:17:00\t13:17:00\t1\t1\thttps://www.example.com/blog/x\thttps://www.example.com/blog/x\thttps://blog.partner.example/post\t\t\t\t\tWeb Referral",
	}, "\n")
	if got := query(t, s, sessionCols); got != want {
		t.Fatalf("sessions:\n%s\nwant:\n%s", got, want)
	}
}

func TestDuplicateEventIDsCountOnce(t *testing.T) {
	s := storetest.Open(t)
	const id1, id2 = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	insert(t, s, hit{id: id1, uid: uidA, sid: "s1", url: "https://example.com/a"}, hit{id: id2, uid: uidA, sid: "s1", at: time.Minute, url: "https://example.com/b"})
	// The client retried the whole batch, then the second event alone.
	insert(t, s, hit{id: id1, uid: uidA, sid: "s1", url: "https://example.com/a"}, hit{id: id2, uid: uidA, sid: "s1", at: time.Minute, url: "https://example.com/b"})
	insert(t, s, hit{id: id2, uid: uidA, sid: "s1", at: time.Minute, url: "https://example.com/b"})

	if got := query(t, s, "SELECT count() FROM events"); got != "2" {
		t.Errorf("events view has %s rows, want 2", got)
	}
	if got := query(t, s, "SELECT pageviews, events, landing_page FROM sessions"); got != "2\t2\thttps://example.com/a" {
		t.Errorf("session = %q", got)
	}
	// After a merge the raw table itself holds one row per id.
	query(t, s, "OPTIMIZE TABLE events_raw FINAL")
	if got := query(t, s, "SELECT count() FROM events_raw"); got != "2" {
		t.Errorf("events_raw after merge: %s rows", got)
	}
}

func TestBotsMakeNoSessions(t *testing.T) {
	s := storetest.Open(t)
	storetest.Insert(t, s, storetest.Hit{UID: uidA, SID: "s1", At: t0, URL: "https://example.com/",
		UA: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"})
	if got := query(t, s, "SELECT count() FROM events WHERE is_bot = 1"); got != "1" {
		t.Fatalf("bot event not kept: %s", got)
	}
	if got := query(t, s, "SELECT count() FROM sessions"); got != "0" {
		t.Fatalf("a bot made %s sessions", got)
	}
}

func TestManySessionsManyBatches(t *testing.T) {
	s := storetest.Open(t)
	// 20 visitors × 3 sessions × 4 page views, inserted one page view per
	// batch in reverse order: every session must come out whole.
	var all []hit
	for v := 0; v < 20; v++ {
		uid := fmt.Sprintf("%032x", v+1)
		for sn := 0; sn < 3; sn++ {
			for pv := 0; pv < 4; pv++ {
				all = append(all, hit{uid: uid, sid: fmt.Sprintf("s%d", sn), at: time.Duration(sn)*time.Hour + time.Duration(pv)*time.Minute,
					url: fmt.Sprintf("https://example.com/p%d?utm_campaign=c%d", pv, sn)})
			}
		}
	}
	for i := len(all) - 1; i >= 0; i-- {
		insert(t, s, all[i])
	}
	got := query(t, s, "SELECT count(), uniqExact(uid), min(pageviews), max(pageviews), countIf(landing_page = 'https://example.com/p0'), countIf(utm_campaign = concat('c', substring(session_id, 2))) FROM sessions")
	if got != "60\t20\t4\t4\t60\t60" {
		t.Fatalf("sessions summary = %q", got)
	}
}

// sessions_agg.last_activity is the last page view or form submit (what ends
// a session after 30 minutes, and what a call's last_activity anchor counts
// from); session_end stays the latest event of any type. Batches may hold
// neither, and arrive in any order.
func TestLastActivityIsTheLastPageViewOrFormSubmit(t *testing.T) {
	s := storetest.Open(t)
	insert(t, s, hit{uid: uidA, sid: "s1", typ: "chat", at: 40 * time.Minute, url: "https://example.com/help"})
	insert(t, s,
		hit{uid: uidA, sid: "s1", url: "https://example.com/"},
		hit{uid: uidA, sid: "s1", typ: "form_submit", at: 10 * time.Minute, url: "https://example.com/contact"},
		hit{uid: uidA, sid: "s1", typ: "identify", at: 45 * time.Minute, email: "a@b.example"},
	)
	insert(t, s, hit{uid: uidA, sid: "s1", at: 5 * time.Minute, url: "https://example.com/pricing"})
	// A session of a chat alone has no last activity yet (1970: max() of
	// nothing); readers fall back to its start.
	insert(t, s, hit{uid: uidB, sid: "s2", typ: "chat", at: time.Hour, url: "https://example.com/help"})

	got := query(t, s, `SELECT uid, formatDateTime(min(session_start), '%H:%i'), formatDateTime(max(last_activity), '%Y %H:%i'),
		formatDateTime(max(session_end), '%H:%i') FROM sessions_agg GROUP BY uid ORDER BY uid`)
	want := uidA + "\t12:17\t2026 12:27\t13:02\n" + uidB + "\t13:17\t1970 00:00\t13:17"
	if got != want {
		t.Fatalf("start, last activity, end:\n%s\nwant:\n%s", got, want)
	}
}

// An internal referrer (the site's own host, or another host of the same
// registrable domain) is no referrer: Marketo Measure treats it as Direct
// (domain-facts §2.5). The collector sends one on the first hit of a
// session that starts after the 30-minute timeout. The rule is in
// sessions_base, so touchpoints, which take their fields from sessions,
// follow it too.
func TestInternalReferrerIsDirect(t *testing.T) {
	s := storetest.Open(t)
	cases := []struct {
		url, ref               string
		path, source, referrer string
	}{
		{"https://www.acme.example/pricing", "https://www.acme.example/features", "Direct", "Web Direct", ""},
		{"https://www.acme.example/", "https://blog.acme.example/post-1", "Direct", "Web Direct", ""},
		{"https://www.acme.example/", "https://acme.example/", "Direct", "Web Direct", ""},
		{"https://shop.acme.co.uk/", "https://www.acme.co.uk/", "Direct", "Web Direct", ""},
		// Tags still count; only the referrer is dropped.
		{"https://www.acme.example/?utm_source=newsletter&utm_medium=email", "https://www.acme.example/", "Email", "newsletter", ""},
		// Another registrable domain is a referral, even under the same public suffix.
		{"https://www.acme.example/", "https://www.acme.co.uk/", "Web Referral", "www.acme.co.uk", "https://www.acme.co.uk/"},
		{"https://www.acme.co.uk/", "https://www.google.co.uk/", "Organic Search.Google", "Google", "https://www.google.co.uk/"},
		{"https://acme.github.io/", "https://other.github.io/", "Web Referral", "other.github.io", "https://other.github.io/"},
		{"http://10.0.1.5/", "http://10.0.2.5/", "Web Referral", "10.0.2.5", "http://10.0.2.5/"},
	}
	var hits []hit
	for i, c := range cases {
		uid := fmt.Sprintf("%032x", i+1)
		hits = append(hits, hit{uid: uid, sid: "s", url: c.url, ref: c.ref})
		if i == 0 {
			hits = append(hits, hit{uid: uid, sid: "s", typ: "form_submit", at: time.Minute, url: c.url, email: "ann@acme.example"})
		}
	}
	insert(t, s, hits...)
	rows := strings.Split(query(t, s, "SELECT marketing_channel_path, touchpoint_source, referrer_page, referrer_host = domain(referrer_page) FROM sessions ORDER BY uid"), "\n")
	if len(rows) != len(cases) {
		t.Fatalf("%d sessions for %d cases", len(rows), len(cases))
	}
	for i, c := range cases {
		if want := c.path + "\t" + c.source + "\t" + c.referrer + "\t1"; rows[i] != want {
			t.Errorf("%s from %s:\n got %q\nwant %q", c.url, c.ref, rows[i], want)
		}
	}
	// The form's touchpoint is Direct too, with no referrer page.
	if got := query(t, s, "SELECT touchpoint_type, marketing_channel_path, touchpoint_source, medium, referrer_page FROM touchpoints"); got != "Web Form\tDirect\tWeb Direct\tdirect\t" {
		t.Errorf("touchpoint: %q", got)
	}
}
