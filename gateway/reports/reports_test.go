package reports_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/demo"
	"github.com/calltrail/calltrail/gateway/reports"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var end = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// seeded is a store with the demo month in it, shared by the tests below.
func seeded(t *testing.T) store.Store {
	t.Helper()
	st := storetest.Open(t)
	if _, err := demo.Seed(context.Background(), st, demo.Options{Visitors: 1500, End: end, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	return st
}

func run(t *testing.T, st store.Store, name string, q map[string]string) *reports.Result {
	t.Helper()
	if q == nil {
		q = map[string]string{}
	}
	if _, ok := q["from"]; !ok {
		q["from"], q["to"] = "2026-11-10", "2026-11-24"
	}
	res, err := reports.Run(context.Background(), st, name, q, end)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sum adds a numeric column over the result's rows, grouped by key columns.
func sum(res *reports.Result, col string, keys ...string) map[string]float64 {
	out := map[string]float64{}
	for _, r := range res.Rows {
		var k []string
		for _, key := range keys {
			k = append(k, fmt.Sprint(r[key]))
		}
		var n float64
		if num, ok := r[col].(json.Number); ok { // NULL is nil: counts as 0
			n, _ = num.Float64()
		}
		out[strings.Join(k, "|")] += n
	}
	return out
}

// direct runs a query written independently of the report, whose rows are
// "key<TAB>number", into the same shape.
func direct(t *testing.T, st store.Store, q string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(storetest.Query(t, st, q), "\n") {
		if line == "" {
			continue
		}
		i := strings.LastIndexByte(line, '\t')
		var n float64
		fmt.Sscan(line[i+1:], &n)
		out[strings.ReplaceAll(line[:i], "\t", "|")] += n
	}
	return out
}

func equal(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: the direct query found nothing; the seed has no such data", what)
	}
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if d := got[k] - want[k]; d > 1e-6 || d < -1e-6 {
			diffs = append(diffs, fmt.Sprintf("%s: report %v, SQL %v", k, got[k], want[k]))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s differs from direct SQL:\n%s", what, strings.Join(diffs, "\n"))
	}
}

const inRange = "BETWEEN '2026-11-10' AND '2026-11-24'"

func TestReportsEqualDirectSQL(t *testing.T) {
	st := seeded(t)

	equal(t, "touchpoints_by_channel", sum(run(t, st, "touchpoints_by_channel", nil), "touchpoints", "marketing_channel", "touchpoint_type"),
		direct(t, st, "SELECT marketing_channel, touchpoint_type, 1 FROM touchpoints WHERE toDate(touchpoint_date) "+inRange))

	// Every call of the period is counted once, in its channel; calls with
	// no visitor id have none.
	for _, grain := range []string{"day", "week"} {
		res := run(t, st, "calls_by_channel", map[string]string{"grain": grain})
		equal(t, "calls_by_channel/"+grain, sum(res, "calls", "marketing_channel"),
			direct(t, st, `SELECT if(m.verdict = 'no_bizible_id', '(no visitor id)', t.marketing_channel), 1
				FROM call_matches m LEFT JOIN touchpoints t ON t.touchpoint_id = m.touchpoint_id WHERE toDate(m.call_time) `+inRange))
	}
	weeks := sum(run(t, st, "calls_by_channel", map[string]string{"grain": "week"}), "calls", "period")
	for period := range weeks {
		if d, _ := time.Parse(time.DateOnly, period); d.Weekday() != time.Monday {
			t.Errorf("weekly period %s is not a Monday", period)
		}
	}

	equal(t, "call_match_rate", sum(run(t, st, "call_match_rate", nil), "calls", "verdict"),
		direct(t, st, "SELECT verdict, 1 FROM call_matches WHERE toDate(call_time) "+inRange))
	equal(t, "unmatched_calls", sum(run(t, st, "unmatched_calls", nil), "minutes_from_session_start", "verdict"),
		direct(t, st, "SELECT verdict, ifNull(minutes_from_session_start, 0) FROM call_matches WHERE verdict != 'merged' AND toDate(call_time) "+inRange))
	calls := run(t, st, "calls", nil)
	equal(t, "calls", sum(calls, "minutes_from_session_start", "verdict", "source"),
		direct(t, st, "SELECT m.verdict, c.source, ifNull(m.minutes_from_session_start, 0) FROM call_matches m JOIN (SELECT task_id, source FROM call_tasks FINAL) c USING task_id WHERE toDate(m.call_time) "+inRange))

	s := run(t, st, "summary", nil).Rows[0]
	got := map[string]float64{}
	for _, k := range []string{"sessions", "visitors", "touchpoints", "calls", "calls_merged"} {
		got[k], _ = s[k].(json.Number).Float64()
	}
	equal(t, "summary", got, direct(t, st, `
		SELECT 'sessions', count() FROM sessions WHERE toDate(session_start) `+inRange+`
		UNION ALL SELECT 'visitors', uniqExact(uid) FROM sessions WHERE toDate(session_start) `+inRange+`
		UNION ALL SELECT 'touchpoints', count() FROM touchpoints WHERE toDate(touchpoint_date) `+inRange+`
		UNION ALL SELECT 'calls', count() FROM call_matches WHERE toDate(call_time) `+inRange+`
		UNION ALL SELECT 'calls_merged', count() FROM call_matches WHERE verdict = 'merged' AND toDate(call_time) `+inRange))
}

func TestRevenueByChannelEqualsDirectSQL(t *testing.T) {
	st := seeded(t)
	res := run(t, st, "revenue_by_channel", map[string]string{"from": "2026-11-01", "to": "2026-11-30"})
	q := `SELECT a.model, t.marketing_channel, %s FROM attribution a
		JOIN touchpoints t ON t.touchpoint_id = a.touchpoint_id
		JOIN (SELECT opportunity_id, created_date FROM opportunities FINAL) o ON o.opportunity_id = a.opportunity_id
		WHERE toDate(o.created_date) BETWEEN '2026-11-01' AND '2026-11-30'`
	equal(t, "revenue_won", sum(res, "revenue_won", "model", "marketing_channel"), direct(t, st, fmt.Sprintf(q, "if(a.is_won = 1, a.revenue, 0)")))
	equal(t, "pipeline", sum(res, "pipeline", "model", "marketing_channel"), direct(t, st, fmt.Sprintf(q, "if(a.is_closed = 0, a.revenue, 0)")))
	// Under every model the won revenue adds up to the won amounts of the
	// attributed opportunities: credit is moved between channels, not made.
	total := direct(t, st, `SELECT 'won', sum(amount) FROM opportunities FINAL
		WHERE is_won = 1 AND opportunity_id IN (SELECT opportunity_id FROM attribution) AND toDate(created_date) BETWEEN '2026-11-01' AND '2026-11-30'`)
	for model, won := range sum(res, "revenue_won", "model") {
		if d := won - total["won"]; d > 0.05 || d < -0.05 {
			t.Errorf("%s: won revenue %v, won amounts %v", model, won, total["won"])
		}
	}
	one := run(t, st, "revenue_by_channel", map[string]string{"from": "2026-11-01", "to": "2026-11-30", "model": "w_shaped"})
	for _, r := range one.Rows {
		if r["model"] != "w_shaped" {
			t.Fatalf("model filter let %v through", r["model"])
		}
	}
}

func TestJourney(t *testing.T) {
	st := seeded(t)
	// A person with two browsers (joined by email) and a call.
	person := storetest.Query(t, st, `SELECT person_id FROM persons GROUP BY person_id HAVING count() > 1 ORDER BY person_id LIMIT 1`)
	if person == "" {
		t.Fatal("the seed has no person with two browsers")
	}
	res := run(t, st, "journey", map[string]string{"person": person})
	kinds := sum(res, "at", "kind")
	want := direct(t, st, `WITH u AS (SELECT uid FROM persons WHERE person_id = '`+person+`')
		SELECT 'session', count() FROM sessions WHERE uid IN u
		UNION ALL SELECT type, count() FROM events WHERE uid IN u AND type IN ('form_submit', 'chat', 'identify') GROUP BY type
		UNION ALL SELECT 'call', count() FROM call_matches WHERE uid IN u
		UNION ALL SELECT 'touchpoint', count() FROM touchpoints WHERE uid IN u`)
	got := map[string]float64{}
	for k := range kinds {
		got[k] = 0
	}
	for _, r := range res.Rows {
		got[r["kind"].(string)]++
	}
	for k, v := range want {
		if v == 0 {
			delete(want, k)
		}
	}
	equal(t, "journey rows by kind", got, want)
	// in time order
	var last string
	for _, r := range res.Rows {
		at := fmt.Sprint(r["at"])
		if at < last {
			t.Fatalf("journey not in time order: %s after %s", at, last)
		}
		last = at
	}
	// any of the person's uids gives the same journey
	other := storetest.Query(t, st, `SELECT max(uid) FROM persons WHERE person_id = '`+person+`'`)
	if n := len(run(t, st, "journey", map[string]string{"person": other}).Rows); n != len(res.Rows) {
		t.Errorf("journey by uid %s: %d rows, by person: %d", other, n, len(res.Rows))
	}
}

func TestBadParameters(t *testing.T) {
	st := storetest.Open(t)
	for _, tc := range []struct {
		name string
		q    map[string]string
		want string
	}{
		{"calls_by_channel", map[string]string{"grain": "month"}, "grain must be one of day, week"},
		{"revenue_by_channel", map[string]string{"model": "last_touch"}, "model must be one of"},
		{"summary", map[string]string{"from": "yesterday"}, "from must be a date"},
		{"summary", map[string]string{"from": "2026-12-01", "to": "2026-11-01"}, "is after to"},
		{"journey", nil, "person is required"},
	} {
		_, err := reports.Run(context.Background(), st, tc.name, tc.q, end)
		var bad *reports.BadRequest
		if !errors.As(err, &bad) || !strings.Contains(bad.Reason, tc.want) {
			t.Errorf("%s %v: %v, want %q", tc.name, tc.q, err, tc.want)
		}
	}
	if _, err := reports.Run(context.Background(), st, "nope", nil, end); !errors.Is(err, reports.ErrUnknown) {
		t.Errorf("unknown report: %v", err)
	}
	// Defaults: the last 30 days up to today.
	res, err := reports.Run(context.Background(), st, "summary", map[string]string{}, end)
	if err != nil || res.From != "2026-11-02" || res.To != "2026-12-01" {
		t.Errorf("default range %s..%s (%v)", res.From, res.To, err)
	}
}
