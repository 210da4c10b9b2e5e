package calls_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestExplain(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	google := "https://www.google.com/"

	// The source document's example.
	u1217 := uidOf("explain 12:17")
	visit(t, st, site, u1217, "s1217", page("12:17", adURL, google))
	task(t, st, callTask(t, "T-1305", "Call", u1217, "13:05"))

	uMerged := uidOf("explain merged")
	visit(t, st, site, uMerged, "sm", page("12:00", adURL, google))
	task(t, st, callTask(t, "T-merged", "Call", uMerged, "12:10"))

	uEarly := uidOf("explain early")
	visit(t, st, site, uEarly, "se", page("12:00", adURL, google))
	task(t, st, callTask(t, "T-early1", "", uEarly, "11:59"))
	task(t, st, callTask(t, "T-early3", "Call", uEarly, "11:57"))

	task(t, st, callTask(t, "T-none", "Call", uidOf("explain nobody"), "09:30"))
	task(t, st, callTask(t, "T-nobiz", "Call", "", "09:30"))
	task(t, st, callTask(t, "T-badbiz", "Call", "not-a-cookie", "09:30"))

	cases := []struct {
		id, verdict, sentence string
		session               string // session considered
		nearest               string
		tpSource, tpPosition  string
	}{
		{"T-1305", "outside_window",
			"Not merged: the session started at 12:17 and the call came at 13:05, 48 minutes later; sessions count for 30 minutes. A separate CRM Task touchpoint was created.",
			"s1217", "", "CRM Activity", "LC"},
		{"T-merged", "merged",
			`Merged: the session started at 12:00 and the call came at 12:10, 10 minutes later; sessions count for 30 minutes. The session (Paid Search.Google, landing page https://shop.example/offer) gets a "Call" touchpoint instead of a Web Visit.`,
			"sm", "", "Google AdWords", "FT, LC"},
		{"T-early1", "merged",
			`Merged: the call came at 11:59, 1 minute before the session's first hit at 12:00, within the 2 minutes allowed for clock differences. The session (Paid Search.Google, landing page https://shop.example/offer) gets a touchpoint of type Web Visit, because the Task has no Type; set Task.Type (e.g. "Call") to report it as a call.`,
			"se", "", "Google AdWords", "PostLC"}, // after T-early3, the same visitor's first call
		{"T-early3", "no_session",
			"Not merged: the visitor's nearest session started at 12:00, 3 minutes after the call at 11:57; a call may come at most 2 minutes before its session starts (clock differences). A separate CRM Task touchpoint was created.",
			"", "se", "CRM Activity", "FT, LC"},
		{"T-none", "no_session",
			"Not merged: no web session of this visitor (" + uidOf("explain nobody") + ") has been recorded, so far, before the call at 09:30; if the visit's events arrive later, the call is merged as soon as they do. A separate CRM Task touchpoint was created.",
			"", "", "CRM Activity", "FT, LC"},
		{"T-nobiz", "no_bizible_id",
			"No touchpoint: the call carries no BizibleId (the visitor's _biz_uid cookie), so it cannot be tied to a web session. Escalate to the call-tracking provider: its script must read the _biz_uid cookie and send it with the call.",
			"", "", "", ""},
		{"T-badbiz", "no_bizible_id",
			`No touchpoint: the BizibleId "not-a-cookie" (from bizible2__BizibleId__c) is not a _biz_uid visitor id (32 lowercase hex characters), so the call cannot be tied to a web session. Escalate to the call-tracking provider: its script must read the _biz_uid cookie and send it with the call.`,
			"", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			e, err := calls.Explain(ctx, st, c.id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s", e.Verdict, c.verdict)
			}
			if e.Sentence != c.sentence {
				t.Errorf("sentence\n got %s\nwant %s", e.Sentence, c.sentence)
			}
			if got := sessionID(e.Session); got != c.session {
				t.Errorf("session %q, want %q", got, c.session)
			}
			if got := sessionID(e.NearestSession); got != c.nearest {
				t.Errorf("nearest session %q, want %q", got, c.nearest)
			}
			if c.tpSource == "" {
				if e.Touchpoint != nil {
					t.Errorf("touchpoint %+v, want none", e.Touchpoint)
				}
			} else if e.Touchpoint == nil || e.Touchpoint.TouchpointSource != c.tpSource || e.Touchpoint.TouchpointPosition != c.tpPosition {
				t.Errorf("touchpoint %+v, want source %s position %s", e.Touchpoint, c.tpSource, c.tpPosition)
			}
		})
	}

	// The session considered carries what a marketer looks for.
	e, _ := calls.Explain(ctx, st, "T-1305", nil)
	s := e.Session
	if s.LandingPage != "https://shop.example/offer" || s.TouchpointSource != "Google AdWords" || s.Medium != "CPC" ||
		s.Campaign != "spring" || s.MarketingChannel != "Paid Search" || !s.SessionStart.Equal(at(t, "12:17")) {
		t.Errorf("session %+v", s)
	}
	if e.MinutesFromSessionStart == nil || *e.MinutesFromSessionStart != 48 || e.Rule.WindowMinutes != 30 || e.Rule.Anchor != "session_start" {
		t.Errorf("minutes %v, rule %+v", e.MinutesFromSessionStart, e.Rule)
	}
	if e.Call.CallTimeFrom != "touchpoint_date" || e.Call.UID != u1217 || !e.Call.CallTime.Equal(at(t, "13:05")) {
		t.Errorf("call %+v", e.Call)
	}

	// Times in the marketer's own zone.
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	e, _ = calls.Explain(ctx, st, "T-1305", ams)
	if !strings.HasPrefix(e.Sentence, "Not merged: the session started at 13:17 and the call came at 14:05,") || e.Timezone != "Europe/Amsterdam" {
		t.Errorf("in Amsterdam: %s (%s)", e.Sentence, e.Timezone)
	}

	// Under the last-activity rule the sentence says so.
	if _, err := calls.SetMatchSettings(ctx, st, calls.MatchSettings{WindowMinutes: 30, Anchor: calls.AnchorLastActivity, EarlyToleranceMinutes: 2}); err != nil {
		t.Fatal(err)
	}
	e, _ = calls.Explain(ctx, st, "T-1305", nil)
	want := "Not merged: the session's last activity was at 12:17 and the call came at 13:05, 48 minutes later; sessions count for 30 minutes after their last activity. A separate CRM Task touchpoint was created."
	if e.Sentence != want || e.Rule.Anchor != "last_activity" {
		t.Errorf("last activity rule:\n got %s\nwant %s", e.Sentence, want)
	}

	if _, err := calls.Explain(ctx, st, "T-unknown", nil); !errors.Is(err, calls.ErrNotFound) {
		t.Errorf("unknown call: %v", err)
	}
}

// Every verdict under the last_activity anchor reads right: in particular a
// call before the session's last activity is merged "during the session",
// not "65 minutes later" than its start.
func TestExplainSentencesUnderLastActivity(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	if _, err := calls.SetMatchSettings(ctx, st, calls.MatchSettings{WindowMinutes: 30, Anchor: calls.AnchorLastActivity, EarlyToleranceMinutes: 2}); err != nil {
		t.Fatal(err)
	}
	google := "https://www.google.com/"
	gets := ` The session (Paid Search.Google, landing page https://shop.example/offer) gets a "Call" touchpoint instead of a Web Visit.`
	crm := " A separate CRM Task touchpoint was created."
	cases := []struct {
		id, call string
		hits     []hit // one session, "s"; none: the visitor has no session
		verdict  string
		sentence string
		last     string // the (nearest) session's last activity, as explain reports it
	}{
		{"T-during", "13:05", []hit{page("12:00", adURL, google), page("12:25", homeURL, ""), page("12:50", homeURL, ""), page("13:15", homeURL, "")},
			"merged", "Merged: the call came at 13:05, during the session: it started at 12:00 and its last activity was at 13:15; sessions count for 30 minutes after their last activity." + gets, "13:15"},
		{"T-after", "13:05", []hit{page("12:00", adURL, google), form("12:40", homeURL)},
			"merged", "Merged: the session's last activity was at 12:40 and the call came at 13:05, 25 minutes later; sessions count for 30 minutes after their last activity." + gets, "12:40"},
		{"T-early", "11:59", []hit{page("12:00", adURL, google), page("12:20", homeURL, "")},
			"merged", "Merged: the call came at 11:59, 1 minute before the session's first hit at 12:00, within the 2 minutes allowed for clock differences." + gets, "12:20"},
		{"T-late", "12:50", []hit{page("12:00", adURL, google), page("12:10", homeURL, "")},
			"outside_window", "Not merged: the session's last activity was at 12:10 and the call came at 12:50, 40 minutes later; sessions count for 30 minutes after their last activity." + crm, "12:10"},
		// A chat is not activity: the window counts from the page view before it.
		{"T-chat", "12:45", []hit{page("12:00", adURL, google), chat("12:30", homeURL)},
			"outside_window", "Not merged: the session's last activity was at 12:00 and the call came at 12:45, 45 minutes later; sessions count for 30 minutes after their last activity." + crm, "12:00"},
		{"T-skew", "11:57", []hit{page("12:00", adURL, google)},
			"no_session", "Not merged: the visitor's nearest session started at 12:00, 3 minutes after the call at 11:57; a call may come at most 2 minutes before its session starts (clock differences)." + crm, "12:00"},
		{"T-nobody", "09:30", nil,
			"no_session", "Not merged: no web session of this visitor (" + uidOf("la T-nobody") + ") has been recorded, so far, before the call at 09:30; if the visit's events arrive later, the call is merged as soon as they do." + crm, ""},
	}
	for _, c := range cases {
		uid := uidOf("la " + c.id)
		if c.hits != nil {
			visit(t, st, site, uid, "s", c.hits...)
		}
		task(t, st, callTask(t, c.id, "Call", uid, c.call))
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			e, err := calls.Explain(ctx, st, c.id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if e.Verdict != c.verdict || e.Sentence != c.sentence {
				t.Errorf("%s\n got %s\nwant %s", e.Verdict, e.Sentence, c.sentence)
			}
			s := e.Session
			if e.NearestSession != nil {
				s = e.NearestSession
			}
			if c.hits == nil {
				if s != nil {
					t.Errorf("session %+v for a visitor with none", s)
				}
			} else if s == nil || !s.LastActivity.Equal(at(t, c.last)) {
				t.Errorf("session %+v, want last activity %s", s, c.last)
			}
		})
	}
}

func sessionID(s *calls.Session) string {
	if s == nil {
		return ""
	}
	return s.SessionID
}
