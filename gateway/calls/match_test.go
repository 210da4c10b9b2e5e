package calls_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

// session is one visit of a test case: its id, and its hits.
type session struct {
	sid  string
	hits []hit
}

const (
	site     = "shop"
	adURL    = "https://shop.example/offer?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_content=ad-7&utm_term=plumber&gclid=Cj0K"
	homeURL  = "https://shop.example/"
	googleUK = "https://www.google.co.uk/"
)

// matchCase is one call and the visits around it, with the verdict and
// touchpoint the source document's rules give.
type matchCase struct {
	name     string
	sessions []session
	rec      func(t *testing.T, uid string) map[string]any

	verdict    string
	sessionID  string  // the session considered ("" when none)
	minutes    float64 // minutes_from_session_start, when sessionID != ""
	touchpoint []string
}

// touchpoint columns compared: type, source, medium, channel path, campaign,
// ad content, landing page, session_id.
const tpColumns = "touchpoint_type, touchpoint_source, medium, marketing_channel_path, ad_campaign_name, ad_content, keyword_text, landing_page, referrer_page, session_id"

// adTouchpoint is the merged touchpoint (tpColumns) of a call of Task.Type typ
// in session sid, which came from the Google ad click adURL.
func adTouchpoint(typ, sid string) []string {
	return []string{typ, "Google AdWords", typ, "Paid Search.Google", "spring", "ad-7", "plumber", "https://shop.example/offer", "https://www.google.com/", sid}
}

// crmTouchpoint is the separate CRM Task touchpoint (tpColumns) of an unmerged
// call of Task.Type typ: no web fields, the Task's subject as ad content.
func crmTouchpoint(typ string) []string {
	return []string{typ, "CRM Activity", typ, "Other", "", "Call from +31 20 555 0101", "", "", "", ""}
}

func TestVerdictsUnderTheSourceRules(t *testing.T) {
	ad := func(sid, clock string) session {
		return session{sid, []hit{page(clock, adURL, "https://www.google.com/")}}
	}
	cases := []matchCase{
		{
			name:     "source example: ad click 12:17, call 13:05 is not merged",
			sessions: []session{ad("s1217", "12:17")},
			rec:      func(t *testing.T, uid string) map[string]any { return callTask(t, "T-1305", "Call", uid, "13:05") },
			verdict:  "outside_window", sessionID: "s1217", minutes: 48,
			touchpoint: crmTouchpoint("Call"),
		},
		{
			name:     "call 29 minutes after the session start is merged",
			sessions: []session{ad("s29", "12:00")},
			rec:      func(t *testing.T, uid string) map[string]any { return callTask(t, "T-29", "Call", uid, "12:29") },
			verdict:  "merged", sessionID: "s29", minutes: 29,
			touchpoint: adTouchpoint("Call", "s29"),
		},
		{
			name:     "call exactly 30 minutes after the session start is merged",
			sessions: []session{ad("s30", "12:00")},
			rec:      func(t *testing.T, uid string) map[string]any { return callTask(t, "T-30", "Call", uid, "12:30") },
			verdict:  "merged", sessionID: "s30", minutes: 30,
			touchpoint: adTouchpoint("Call", "s30"),
		},
		{
			name:     "call 31 minutes after the session start is not merged",
			sessions: []session{ad("s31", "12:00")},
			rec:      func(t *testing.T, uid string) map[string]any { return callTask(t, "T-31", "Call", uid, "12:31") },
			verdict:  "outside_window", sessionID: "s31", minutes: 31,
			touchpoint: crmTouchpoint("Call"),
		},
		{
			name:     "call 1 minute before the first hit is merged (clock skew)",
			sessions: []session{ad("early1", "12:00")},
			rec:      func(t *testing.T, uid string) map[string]any { return callTask(t, "T-early1", "Call", uid, "11:59") },
			verdict:  "merged", sessionID: "early1", minutes: -1,
			touchpoint: adTouchpoint("Call", "early1"),
		},
		{
			name:       "call 3 minutes before the first hit has no session",
			sessions:   []session{ad("early3", "12:00")},
			rec:        func(t *testing.T, uid string) map[string]any { return callTask(t, "T-early3", "Call", uid, "11:57") },
			verdict:    "no_session",
			touchpoint: crmTouchpoint("Call"),
		},
		{
			name:     "empty Task.Type gives a Web Visit touchpoint, merged",
			sessions: []session{ad("notype", "12:00")},
			rec:      func(t *testing.T, uid string) map[string]any { return callTask(t, "T-notype", "", uid, "12:10") },
			verdict:  "merged", sessionID: "notype", minutes: 10,
			touchpoint: adTouchpoint("Web Visit", "notype"),
		},
		{
			name:     "empty Task.Type gives a Web Visit touchpoint, not merged",
			sessions: []session{ad("notype-late", "12:00")},
			rec:      func(t *testing.T, uid string) map[string]any { return callTask(t, "T-notype-late", "", uid, "14:00") },
			verdict:  "outside_window", sessionID: "notype-late", minutes: 120,
			touchpoint: crmTouchpoint("Web Visit"),
		},
		{
			name: "Task.Type Phone Call: type and medium from the Task, the rest from an organic session",
			sessions: []session{{"organic", []hit{
				page("09:00", "https://shop.example/pricing#plans", googleUK),
				page("09:02", homeURL, "https://shop.example/pricing")}}},
			rec: func(t *testing.T, uid string) map[string]any {
				return callTask(t, "T-phone", "Phone Call", uid, "09:05")
			},
			verdict: "merged", sessionID: "organic", minutes: 5,
			touchpoint: []string{"Phone Call", "Google", "Phone Call", "Organic Search.Google", "", "", "", "https://shop.example/pricing", googleUK, "organic"},
		},
		{
			name: "two sessions: the latest that started before the call",
			sessions: []session{
				{"first", []hit{page("12:00", homeURL, "")}},
				ad("second", "12:40"),
				{"after", []hit{page("13:30", homeURL, "https://news.example/article")}},
			},
			rec:     func(t *testing.T, uid string) map[string]any { return callTask(t, "T-two", "Call", uid, "12:50") },
			verdict: "merged", sessionID: "second", minutes: 10,
			touchpoint: adTouchpoint("Call", "second"),
		},
		{
			name: "two sessions, the latest too old: not merged into the earlier one either",
			sessions: []session{
				ad("older", "11:00"),
				{"old", []hit{page("12:00", homeURL, "https://news.example/article")}},
			},
			rec:     func(t *testing.T, uid string) map[string]any { return callTask(t, "T-old", "Call", uid, "12:45") },
			verdict: "outside_window", sessionID: "old", minutes: 45,
			touchpoint: crmTouchpoint("Call"),
		},
		{
			// The early tolerance is for a provider clock running behind, not
			// a way to pass over the session the visitor was in.
			name: "ad 12:00, referral 12:11, call 12:10: the session that started before the call",
			sessions: []session{
				ad("before-ad", "12:00"),
				{"after-ref", []hit{page("12:11", homeURL, "https://news.example/article")}},
			},
			rec: func(t *testing.T, uid string) map[string]any {
				return callTask(t, "T-before-early", "Call", uid, "12:10")
			},
			verdict: "merged", sessionID: "before-ad", minutes: 10,
			touchpoint: adTouchpoint("Call", "before-ad"),
		},
		{
			name: "the session before is too old, one starts 1 minute after the call: the early one",
			sessions: []session{
				{"too-old", []hit{page("12:00", homeURL, "https://news.example/article")}},
				ad("early-ad", "12:41"),
			},
			rec:     func(t *testing.T, uid string) map[string]any { return callTask(t, "T-old-early", "Call", uid, "12:40") },
			verdict: "merged", sessionID: "early-ad", minutes: -1,
			touchpoint: adTouchpoint("Call", "early-ad"),
		},
		{
			name: "the session before is too old, the next starts 3 minutes after the call: outside the window",
			sessions: []session{
				ad("too-old-3", "12:00"),
				{"late-3", []hit{page("12:43", homeURL, "https://news.example/article")}},
			},
			rec:     func(t *testing.T, uid string) map[string]any { return callTask(t, "T-old-late3", "Call", uid, "12:40") },
			verdict: "outside_window", sessionID: "too-old-3", minutes: 40,
			touchpoint: crmTouchpoint("Call"),
		},
		{
			name: "two sessions within the tolerance after the call: the first of them",
			sessions: []session{
				ad("after-1", "12:11"),
				{"after-2", []hit{page("12:12", homeURL, "https://news.example/article")}},
			},
			rec:     func(t *testing.T, uid string) map[string]any { return callTask(t, "T-two-early", "Call", uid, "12:10") },
			verdict: "merged", sessionID: "after-1", minutes: -1,
			touchpoint: adTouchpoint("Call", "after-1"),
		},
		{
			name: "a session starting at the call's minute counts as before it",
			sessions: []session{
				{"earlier", []hit{page("11:50", homeURL, "https://news.example/article")}},
				ad("same-minute", "12:10"),
				{"skewed", []hit{page("12:11", homeURL, "")}},
			},
			rec: func(t *testing.T, uid string) map[string]any {
				return callTask(t, "T-same-minute", "Call", uid, "12:10")
			},
			verdict: "merged", sessionID: "same-minute", minutes: 0,
			touchpoint: adTouchpoint("Call", "same-minute"),
		},
		{
			name:       "no web session at all",
			rec:        func(t *testing.T, uid string) map[string]any { return callTask(t, "T-nosession", "Call", uid, "12:00") },
			verdict:    "no_session",
			touchpoint: crmTouchpoint("Call"),
		},
		{
			name:     "no BizibleId: no touchpoint",
			sessions: []session{ad("nobiz", "12:00")},
			rec:      func(t *testing.T, uid string) map[string]any { return callTask(t, "T-nobiz", "Call", "", "12:05") },
			verdict:  "no_bizible_id",
		},
		{
			name:     "a BizibleId that is not a _biz_uid: no touchpoint",
			sessions: []session{ad("badbiz", "12:00")},
			rec: func(t *testing.T, uid string) map[string]any {
				return callTask(t, "T-badbiz", "Call", strings.ToUpper(uid), "12:05")
			},
			verdict: "no_bizible_id",
		},
		{
			name:     "call time: the Touchpoint Date before CreatedDate",
			sessions: []session{ad("tpdate", "12:20")},
			rec: func(t *testing.T, uid string) map[string]any {
				r := callTask(t, "T-tpdate", "Call", uid, "12:40")
				r["CreatedDate"] = at(t, "14:00").Format("2006-01-02T15:04:05.000Z")
				return r
			},
			verdict: "merged", sessionID: "tpdate", minutes: 20,
			touchpoint: adTouchpoint("Call", "tpdate"),
		},
		{
			name:     "call time: CreatedDate when there is no Touchpoint Date",
			sessions: []session{ad("created", "12:20")},
			rec: func(t *testing.T, uid string) map[string]any {
				r := callTask(t, "T-created", "Call", uid, "12:40")
				delete(r, "bizible2__Bizible_Touchpoint_Date__c")
				r["CreatedDate"] = "2024-03-01T13:00:00.000+0000"
				return r
			},
			verdict: "outside_window", sessionID: "created", minutes: 40,
			touchpoint: crmTouchpoint("Call"),
		},
	}

	// One database for all cases: each case is its own visitor, so the cases
	// also show that visitors never match each other's sessions.
	st := storetest.Open(t)
	for _, c := range cases {
		uid := uidOf(c.name)
		for _, s := range c.sessions {
			visit(t, st, site, uid, s.sid, s.hits...)
		}
		task(t, st, c.rec(t, uid))
	}
	// Each view is read once; the cases compare their own rows.
	matches := byTaskID(t, st, `SELECT task_id, verdict, session_id, ifNull(toString(minutes_from_session_start), ''), site,
			touchpoint_id != '', rule FROM call_matches`)
	tps := byTaskID(t, st, "SELECT task_id, "+tpColumns+" FROM touchpoints WHERE task_id != ''")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := c.rec(t, uidOf(c.name))["Id"].(string)
			checkMatch(t, matches[id], tps[id], c)
		})
	}
}

// byTaskID runs a query whose first column is task_id and groups the rest
// of each row (tab-separated) by it.
func byTaskID(t *testing.T, st store.Store, query string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range rows(t, st, query, nil) {
		id, rest, _ := strings.Cut(r, "\t")
		out[id] = append(out[id], rest)
	}
	return out
}

func checkMatch(t *testing.T, got, tps []string, c matchCase) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("call_matches has %d rows, want 1: %q", len(got), got)
	}
	f := strings.Split(got[0], "\t")
	if f[0] != c.verdict {
		t.Errorf("verdict %q, want %q", f[0], c.verdict)
	}
	if f[1] != c.sessionID {
		t.Errorf("session considered %q, want %q", f[1], c.sessionID)
	}
	if c.sessionID != "" && f[2] != trimFloat(c.minutes) {
		t.Errorf("minutes_from_session_start %s, want %v", f[2], c.minutes)
	}
	if wantSite := map[bool]string{true: site, false: ""}[c.verdict == "merged"]; f[3] != wantSite {
		t.Errorf("site %q, want %q", f[3], wantSite)
	}
	if hasTP := f[4] == "true" || f[4] == "1"; hasTP != (c.verdict != "no_bizible_id") {
		t.Errorf("touchpoint_id present = %v for verdict %s", hasTP, c.verdict)
	}
	if f[5] != "session_start + 30 min (2 min early allowed)" {
		t.Errorf("rule %q", f[5])
	}
	if c.touchpoint == nil {
		if len(tps) != 0 {
			t.Errorf("touchpoints %q, want none", tps)
		}
		return
	}
	if len(tps) != 1 {
		t.Fatalf("touchpoints %q, want exactly one", tps)
	}
	if want := strings.Join(c.touchpoint, "\t"); tps[0] != want {
		t.Errorf("touchpoint (%s)\n got %q\nwant %q", tpColumns, tps[0], want)
	}
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
