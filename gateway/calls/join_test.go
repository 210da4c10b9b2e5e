package calls_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/sfrecord"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func verdictOf(t *testing.T, st store.Store, id string) string {
	t.Helper()
	got := rows(t, st, "SELECT verdict, session_id FROM call_matches WHERE task_id = {id:String}", store.Params{"id": id})
	if len(got) != 1 {
		t.Fatalf("call_matches has %d rows for %s, want 1: %q", len(got), id, got)
	}
	return got[0]
}

// A CRM backfill or a slow flush: the call is stored before the events of
// the visit that led to it. It is merged as soon as those events land, with
// no step in between, and keeps its touchpoint id.
func TestCallBeforeItsEventsIsMergedWhenTheyArrive(t *testing.T) {
	st := storetest.Open(t)
	uid := uidOf("late events")
	task(t, st, callTask(t, "T-early", "Call", uid, "12:10"))

	if got := verdictOf(t, st, "T-early"); got != "no_session\t" {
		t.Fatalf("before the events: %q, want no_session", got)
	}
	before := rows(t, st, "SELECT touchpoint_id, touchpoint_source FROM touchpoints WHERE task_id = 'T-early'", nil)
	if len(before) != 1 || !strings.HasSuffix(before[0], "\tCRM Activity") {
		t.Fatalf("before the events, touchpoints %q, want one CRM Activity touchpoint", before)
	}

	visit(t, st, site, uid, "late", page("12:00", adURL, "https://www.google.com/"))

	if got := verdictOf(t, st, "T-early"); got != "merged\tlate" {
		t.Fatalf("after the events: %q, want merged into session late", got)
	}
	after := rows(t, st, "SELECT touchpoint_id, touchpoint_source FROM touchpoints WHERE task_id = 'T-early'", nil)
	if len(after) != 1 || after[0] != strings.Split(before[0], "\t")[0]+"\tGoogle AdWords" {
		t.Fatalf("after the events, touchpoints %q, want the same touchpoint id with the session's source", after)
	}
}

// Redelivery stores nothing new; an update replaces the earlier version:
// one call, one row, one touchpoint, latest wins.
func TestDuplicateAndUpdatedTasks(t *testing.T) {
	st := storetest.Open(t)
	uid := uidOf("updates")
	visit(t, st, site, uid, "s", page("12:00", adURL, ""))

	first := callTask(t, "T-upd", "", "", "12:10") // no Type, no BizibleId yet
	if s := task(t, st, first); s != (sfrecord.Saved{Created: 1}) {
		t.Errorf("first delivery: %+v", s)
	}
	if s := task(t, st, first); s != (sfrecord.Saved{Updated: 1}) {
		t.Errorf("redelivery: %+v", s)
	}
	if got := verdictOf(t, st, "T-upd"); got != "no_bizible_id\t" {
		t.Fatalf("first version: %q", got)
	}

	edited := callTask(t, "T-upd", "Call", uid, "12:10")
	if s := task(t, st, edited); s != (sfrecord.Saved{Updated: 1}) {
		t.Errorf("edit: %+v", s)
	}
	if got := verdictOf(t, st, "T-upd"); got != "merged\ts" {
		t.Fatalf("edited version: %q, want merged", got)
	}
	tps := rows(t, st, "SELECT touchpoint_type, medium FROM touchpoints WHERE task_id = 'T-upd'", nil)
	if len(tps) != 1 || tps[0] != "Call\tCall" {
		t.Fatalf("touchpoints %q, want one Call touchpoint", tps)
	}
	// Before merges and after them, FINAL reads one row.
	if err := st.Exec(context.Background(), "OPTIMIZE TABLE call_tasks FINAL", nil); err != nil {
		t.Fatal(err)
	}
	if n := rows(t, st, "SELECT count() FROM call_tasks", nil); n[0] != "1" {
		t.Errorf("call_tasks holds %s rows after merging, want 1", n[0])
	}

	// Re-importing an older export (an earlier LastModifiedDate) does not
	// undo the newer edit.
	old := callTask(t, "T-upd", "", "", "12:10")
	old["LastModifiedDate"] = "2024-03-01T12:30:00.000+0000"
	task(t, st, old)
	if got := verdictOf(t, st, "T-upd"); got != "merged\ts" {
		t.Fatalf("after re-importing an older version: %q, want the newer edit to stand", got)
	}

	// Several versions of one call in one batch: the last wins.
	v1, v2 := callTask(t, "T-batch", "Call", uid, "12:10"), callTask(t, "T-batch", "Meeting", uid, "12:10")
	if s := task(t, st, v1, v2); s != (sfrecord.Saved{Created: 1, Updated: 1}) {
		t.Errorf("batch with two versions: %+v", s)
	}
	if tps := rows(t, st, "SELECT touchpoint_type FROM touchpoints WHERE task_id = 'T-batch'", nil); len(tps) != 1 || tps[0] != "Meeting" {
		t.Fatalf("touchpoints %q, want the batch's last version", tps)
	}
}

// Invoca's versions are ordered by Invoca's clock: a late retry of the
// original transaction does not undo a correction received before it, and a
// later correction wins over an earlier one whatever order they arrive in.
func TestInvocaLateRetryDoesNotUndoACorrection(t *testing.T) {
	st := storetest.Open(t)
	var now time.Time
	cfg := &calls.Config{InvocaTokens: []string{"tok"}, Now: func() time.Time { return now }}
	receive := func(clock, body string) {
		t.Helper()
		now = at(t, clock)
		tk, err := cfg.Receive(calls.Delivery{Provider: calls.SourceInvoca, Body: []byte(body), PathToken: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := calls.Save(context.Background(), st, []*calls.Task{tk}); err != nil {
			t.Fatal(err)
		}
	}
	duration := func() string {
		t.Helper()
		got := rows(t, st, "SELECT call_duration_s FROM call_tasks FINAL WHERE task_id = 'invoca:CC-1'", nil)
		if len(got) != 1 {
			t.Fatalf("call_tasks FINAL: %q, want one row", got)
		}
		return got[0]
	}
	original := `{"transaction_id":"TX-1","complete_call_id":"CC-1","transaction_type":"Call",
		"start_time_utc":1709294700000,"duration":95}` // 12:05 UTC
	correction := func(tx, correctedAt string, secs int) string {
		return fmt.Sprintf(`{"transaction_id":%q,"complete_call_id":"CC-1","corrects_transaction_id":"TX-1",
			"transaction_type":"Call","start_time_utc":1709294700000,"duration":%d,"corrected_at":%s}`, tx, secs, correctedAt)
	}

	receive("12:10", original)
	receive("14:01", correction("TX-2", `"2024-03-01 14:00:00 +00:00"`, 120))
	receive("15:00", original) // the provider retries a delivery it thinks failed
	if got := duration(); got != "120" {
		t.Fatalf("after a late retry of the original: duration %s, want the correction's 120", got)
	}
	// Two corrections out of order: the one corrected last wins (epoch ms
	// are read too).
	receive("16:00", correction("TX-4", "1709312400000", 130)) // corrected 17:00
	receive("16:05", correction("TX-3", `"2024-03-01 16:30:00 +00:00"`, 125))
	if got := duration(); got != "130" {
		t.Fatalf("after an older correction arrived last: duration %s, want 130", got)
	}
}

// The settings change every verdict at once, without rewriting data; the
// rule column says which rule applied.
func TestMatchSettings(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	if cur, err := calls.CurrentMatchSettings(ctx, st); err != nil || cur != calls.DefaultMatchSettings {
		t.Fatalf("defaults: %+v, %v", cur, err)
	}
	uid := uidOf("long session")
	visit(t, st, site, uid, "long", page("12:00", adURL, ""), page("12:20", homeURL, ""), form("12:40", homeURL))
	task(t, st, callTask(t, "T-long", "Call", uid, "13:05"))

	check := func(wantVerdict, wantRule string) {
		t.Helper()
		got := rows(t, st, `SELECT verdict, rule, minutes_from_session_start, minutes_from_last_activity
			FROM call_matches WHERE task_id = 'T-long'`, nil)
		if len(got) != 1 {
			t.Fatalf("%q", got)
		}
		f := strings.Split(got[0], "\t")
		if f[0] != wantVerdict || f[1] != wantRule || f[2] != "65" || f[3] != "25" {
			t.Errorf("got %q, want %s under %q, 65 min from the start and 25 from the last activity", got[0], wantVerdict, wantRule)
		}
	}
	check("outside_window", "session_start + 30 min (2 min early allowed)")

	last := calls.MatchSettings{WindowMinutes: 30, Anchor: calls.AnchorLastActivity, EarlyToleranceMinutes: 2}
	if changed, err := calls.SetMatchSettings(ctx, st, last); err != nil || !changed {
		t.Fatalf("set last_activity: %v, %v", changed, err)
	}
	check("merged", "last_activity + 30 min (2 min early allowed)")
	if changed, err := calls.SetMatchSettings(ctx, st, last); err != nil || changed {
		t.Fatalf("setting the same again: changed=%v, %v", changed, err)
	}

	if _, err := calls.SetMatchSettings(ctx, st, calls.MatchSettings{WindowMinutes: 70, Anchor: calls.AnchorSessionStart, EarlyToleranceMinutes: 0}); err != nil {
		t.Fatal(err)
	}
	check("merged", "session_start + 70 min (0 min early allowed)")

	for _, bad := range []calls.MatchSettings{
		{WindowMinutes: 30, Anchor: "session_end"},
		{WindowMinutes: 0, Anchor: calls.AnchorSessionStart},
	} {
		if _, err := calls.SetMatchSettings(ctx, st, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// Under the last_activity anchor the window counts from the session's last
// page view or form submit (what ends a session, docs/sessions.md), and the
// session considered is chosen by the same rule as under session_start: the
// latest that started at or before the call when the call is within its
// window, else one that started within the early tolerance after the call.
func TestLastActivityAnchor(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	if _, err := calls.SetMatchSettings(ctx, st, calls.MatchSettings{WindowMinutes: 30, Anchor: calls.AnchorLastActivity, EarlyToleranceMinutes: 2}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		sessions []session
		call     string
		// want: verdict, session considered, its last activity (HH:MM),
		// minutes from the session start and from the last activity
		want string
	}{
		{
			name: "a chat after the last form is not activity",
			sessions: []session{{"chatty", []hit{page("12:00", adURL, ""), page("12:20", homeURL, ""),
				form("12:40", homeURL), chat("12:50", homeURL)}}},
			call: "13:15", want: "outside_window	chatty	12:40	75	35",
		},
		{
			name:     "a call during the session is merged",
			sessions: []session{{"during", []hit{page("12:00", adURL, ""), page("12:20", homeURL, "")}}},
			call:     "12:05", want: "merged	during	12:20	5	-15",
		},
		{
			name: "within the window of the session before: not the one starting a minute after the call",
			sessions: []session{
				{"browsing", []hit{page("12:00", adURL, ""), page("12:30", homeURL, "")}},
				{"next", []hit{page("12:56", homeURL, "https://news.example/")}},
			},
			call: "12:55", want: "merged	browsing	12:30	55	25",
		},
		{
			name: "the session before is too old: the one starting a minute after the call",
			sessions: []session{
				{"idle", []hit{page("12:00", adURL, ""), page("12:10", homeURL, "")}},
				{"back", []hit{page("12:51", homeURL, "https://news.example/")}},
			},
			call: "12:50", want: "merged	back	12:51	-1	-1",
		},
		{
			name:     "a session with no page view yet counts from its start",
			sessions: []session{{"chat-only", []hit{chat("12:00", homeURL)}}},
			call:     "12:20", want: "merged	chat-only	12:00	20	20",
		},
	}
	for _, c := range cases {
		uid := uidOf("last activity " + c.name)
		for _, s := range c.sessions {
			visit(t, st, site, uid, s.sid, s.hits...)
		}
		task(t, st, callTask(t, "T-la-"+uid[:8], "Call", uid, c.call))
	}
	got := byTaskID(t, st, `SELECT task_id, verdict, session_id, formatDateTime(session_last_activity, '%H:%i'),
		minutes_from_session_start, minutes_from_last_activity FROM call_matches`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := "T-la-" + uidOf("last activity " + c.name)[:8]
			if len(got[id]) != 1 || got[id][0] != c.want {
				t.Errorf("call_matches %q, want %q", got[id], c.want)
			}
		})
	}
}

type tpRow struct{ kind, typ, position, session string }

// touchpointsByPerson reads the touchpoints view once, in time order.
func touchpointsByPerson(t *testing.T, st store.Store) map[string][]tpRow {
	t.Helper()
	out := map[string][]tpRow{}
	for _, r := range rows(t, st, `SELECT person_id, touchpoint_kind, touchpoint_type, touchpoint_position, session_id
		FROM touchpoints ORDER BY person_id, touchpoint_date, touchpoint_kind`, nil) {
		f := strings.Split(r, "\t")
		out[f[0]] = append(out[f[0]], tpRow{f[1], f[2], f[3], f[4]})
	}
	return out
}

func TestPositions(t *testing.T) {
	st := storetest.Open(t)
	cases := []struct {
		name  string
		setup func(t *testing.T, uid string)
		want  []tpRow
	}{
		{
			// The source's "before and after": with the integration the call's
			// session is the lead-creation touchpoint and the later form fill
			// becomes PostLC.
			name: "call session, then a form fill the next day",
			setup: func(t *testing.T, uid string) {
				visit(t, st, site, uid, "ad", page("12:00", adURL, "https://www.google.com/"))
				task(t, st, callTask(t, "T-story", "Call", uid, "12:10"))
				visit(t, st, site, uid, "next", page("+1 09:00", homeURL, ""), form("+1 09:05", "https://shop.example/contact?ref=nav"))
			},
			want: []tpRow{{"call", "Call", "FT, LC", "ad"}, {"web_form", "Web Form", "PostLC", "next"}},
		},
		{
			// Before the integration: the call goes unseen, the session is a
			// Web Visit and the form fill is the lead creation.
			name: "same visits without the call",
			setup: func(t *testing.T, uid string) {
				visit(t, st, site, uid, "ad", page("12:00", adURL, "https://www.google.com/"))
				visit(t, st, site, uid, "next", page("+1 09:00", homeURL, ""), form("+1 09:05", "https://shop.example/contact"))
			},
			want: []tpRow{{"web_visit", "Web Visit", "FT", "ad"}, {"web_form", "Web Form", "LC", "next"}},
		},
		{
			name: "a call too late for its session: Web Visit FT, CRM Activity LC",
			setup: func(t *testing.T, uid string) {
				visit(t, st, site, uid, "s1217", page("12:17", adURL, "https://www.google.com/"))
				task(t, st, callTask(t, "T-late-pos", "Call", uid, "13:05"))
			},
			want: []tpRow{{"web_visit", "Web Visit", "FT", "s1217"}, {"crm_activity", "Call", "LC", ""}},
		},
		{
			name: "a session with a form fill and a call carries both touchpoints",
			setup: func(t *testing.T, uid string) {
				visit(t, st, site, uid, "both", page("12:00", adURL, ""), form("12:05", "https://shop.example/contact"),
					form("12:07", "https://shop.example/quote"))
				task(t, st, callTask(t, "T-both", "Call", uid, "12:20"))
			},
			want: []tpRow{{"web_form", "Web Form", "FT, LC", "both"}, {"call", "Call", "PostLC", "both"}},
		},
		{
			name: "a chat in a later session",
			setup: func(t *testing.T, uid string) {
				visit(t, st, site, uid, "first", page("10:00", homeURL, "https://news.example/"))
				visit(t, st, site, uid, "second", page("+1 10:00", homeURL, ""), chat("+1 10:03", homeURL))
			},
			want: []tpRow{{"web_visit", "Web Visit", "FT", "first"}, {"web_chat", "Web Chat", "LC", "second"}},
		},
		{
			// One form touchpoint per session (the first) and one chat
			// touchpoint (the first): a chat first does not hide the form.
			name: "a chat, then forms and chats in one session: one Web Chat and one Web Form",
			setup: func(t *testing.T, uid string) {
				visit(t, st, site, uid, "cf", page("10:00", homeURL, ""), chat("10:02", homeURL),
					form("10:05", "https://shop.example/contact"), chat("10:06", homeURL), form("10:07", "https://shop.example/quote"))
			},
			want: []tpRow{{"web_chat", "Web Chat", "FT, LC", "cf"}, {"web_form", "Web Form", "PostLC", "cf"}},
		},
		{
			name: "no conversion: no touchpoints",
			setup: func(t *testing.T, uid string) {
				visit(t, st, site, uid, "browse", page("10:00", homeURL, ""), page("10:05", homeURL, ""))
			},
			want: nil,
		},
		{
			name: "a call with no web session at all is FT and LC",
			setup: func(t *testing.T, uid string) {
				task(t, st, callTask(t, "T-offline", "Call", uid, "10:00"))
			},
			want: []tpRow{{"crm_activity", "Call", "FT, LC", ""}},
		},
	}
	for _, c := range cases {
		c.setup(t, uidOf("positions "+c.name))
	}
	all := touchpointsByPerson(t, st)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := all[uidOf("positions "+c.name)]
			if len(got) != len(c.want) {
				t.Fatalf("touchpoints\n got %v\nwant %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("touchpoint %d: got %v, want %v", i, got[i], c.want[i])
				}
			}
		})
	}

	// The form touchpoint's form URL is the first form's page, without its
	// query string; landing page and referrer are the session's.
	got := rows(t, st, `SELECT form_url, landing_page, referrer_page, touchpoint_source, medium FROM touchpoints
		WHERE person_id = {uid:String} AND touchpoint_kind = 'web_form'`, store.Params{"uid": uidOf("positions call session, then a form fill the next day")})
	if len(got) != 1 || got[0] != "https://shop.example/contact\thttps://shop.example/\t\tWeb Direct\tdirect" {
		t.Errorf("form touchpoint fields %q", got)
	}

	got = rows(t, st, `SELECT touchpoint_kind, form_url FROM touchpoints WHERE person_id = {uid:String} ORDER BY touchpoint_date`,
		store.Params{"uid": uidOf("positions a chat, then forms and chats in one session: one Web Chat and one Web Form")})
	if strings.Join(got, "\n") != "web_chat\thttps://shop.example/\nweb_form\thttps://shop.example/contact" {
		t.Errorf("chat and form touchpoints: %q, want the first chat's and the first form's pages", got)
	}

	// Touchpoint ids are stable: the same query twice gives the same ids.
	q := "SELECT groupArray(touchpoint_id) FROM (SELECT touchpoint_id FROM touchpoints ORDER BY touchpoint_id)"
	if a, b := rows(t, st, q, nil), rows(t, st, q, nil); a[0] != b[0] {
		t.Error("touchpoint ids changed between two reads")
	}
}

// A person's touchpoints take Marketo's source and medium from the session,
// and one person's browsers share positions once an email joins them.
func TestTouchpointsFollowPersonsAndSessionFields(t *testing.T) {
	st := storetest.Open(t)
	laptop, phone := uidOf("swap laptop"), uidOf("swap phone")
	if phone < laptop {
		laptop, phone = phone, laptop // persons names a person by its smallest uid
	}
	visit(t, st, site, laptop, "ad", page("12:00", adURL, "https://www.google.com/"))
	task(t, st, callTask(t, "T-swap", "Call", laptop, "12:10"))
	storetest.Insert(t, st,
		storetest.Hit{Site: site, UID: laptop, SID: "ad", Type: "form_submit", At: at(t, "12:20"), URL: "https://shop.example/contact", Email: "ann@shop.example"},
		storetest.Hit{Site: site, UID: phone, SID: "m", At: at(t, "+1 08:00"), URL: "https://shop.example/"},
		storetest.Hit{Site: site, UID: phone, SID: "m", Type: "form_submit", At: at(t, "+1 08:03"), URL: "https://shop.example/contact", Email: "Ann@shop.example"},
	)
	q := `SELECT person_id = {laptop:String}, touchpoint_kind, touchpoint_source, medium, touchpoint_position
		FROM touchpoints ORDER BY touchpoint_date`
	p := store.Params{"laptop": laptop}
	after := strings.Join(rows(t, st, q, p), "\n")
	wantAfter := strings.Join([]string{
		"1\tcall\tGoogle AdWords\tCall\tFT, LC",
		"1\tweb_form\tGoogle AdWords\tCPC\tPostLC",
		"1\tweb_form\tWeb Direct\tdirect\tPostLC", // one person now: the phone's form follows the call
	}, "\n")
	if after != wantAfter {
		t.Fatalf("touchpoints:\n%s\nwant\n%s", after, wantAfter)
	}
}
