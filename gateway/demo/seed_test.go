package demo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/demo"
	"github.com/calltrail/calltrail/gateway/reports"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestSeed checks that the demo shows what the dashboard is for: calls in
// every provider format, matched and unmatched for every reason, several
// channels, and revenue that reaches the channels that brought it.
func TestSeed(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	stats, err := demo.Seed(ctx, st, demo.Options{Visitors: 3000, End: end, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %v: %+v", time.Since(start), stats)
	q := func(sql string) string { return storetest.Query(t, st, sql) }

	// Every way a call comes in: the three providers' webhooks and Tasks.
	if got := q("SELECT groupArray(source) FROM (SELECT DISTINCT source FROM call_tasks FINAL ORDER BY source)"); got != "['callrail','ctm','invoca','tasks_api']" {
		t.Errorf("call sources %s", got)
	}
	// Merged calls, and unmatched ones for every reason.
	verdicts := map[string]int{}
	for _, line := range strings.Split(q("SELECT verdict, count() FROM call_matches GROUP BY verdict"), "\n") {
		v, n, _ := strings.Cut(line, "\t")
		verdicts[v], _ = strconv.Atoi(n)
	}
	for _, v := range []string{"merged", "no_bizible_id", "no_session", "outside_window"} {
		if verdicts[v] < 3 {
			t.Errorf("%d calls %s (verdicts %v)", verdicts[v], v, verdicts)
		}
	}
	// Sessions arrive through every default channel; touchpoints and won
	// revenue come from several.
	if got := q("SELECT groupArray(c) FROM (SELECT DISTINCT marketing_channel AS c FROM sessions ORDER BY c)"); got !=
		"['Direct','Display','Email','Organic Search','Paid Search','Paid Social','Social','Web Referral']" {
		t.Errorf("session channels %s", got)
	}
	if n, _ := strconv.Atoi(q("SELECT uniqExact(marketing_channel) FROM touchpoints")); n < 6 {
		t.Errorf("touchpoints in %d channels", n)
	}

	// (Almost) every opportunity reaches its person: revenue is attributed.
	won, attributed := 0, 0
	fmt.Sscan(q(`SELECT count(), countIf(opportunity_id IN (SELECT opportunity_id FROM attribution))
		FROM opportunities FINAL WHERE is_won = 1`), &won, &attributed)
	if won < 20 || float64(attributed) < 0.97*float64(won) {
		t.Errorf("%d of %d won opportunities attributed", attributed, won)
	}
	// So revenue by channel adds up to (nearly) the headline revenue, under
	// every model.
	period := map[string]string{"from": "2026-11-01", "to": "2026-11-30"}
	summary, err := reports.Run(ctx, st, "summary", period, end)
	if err != nil {
		t.Fatal(err)
	}
	headline := number(t, summary.Rows[0]["revenue_won"])
	byChannel, err := reports.Run(ctx, st, "revenue_by_channel", period, end)
	if err != nil {
		t.Fatal(err)
	}
	perModel := map[string]float64{}
	channels := map[string]bool{}
	for _, row := range byChannel.Rows {
		perModel[row["model"].(string)] += number(t, row["revenue_won"])
		if number(t, row["revenue_won"]) > 0 {
			channels[row["marketing_channel"].(string)] = true
		}
	}
	if headline <= 0 || len(perModel) != 6 || len(channels) < 5 {
		t.Errorf("headline %v; revenue per model %v in channels %v", headline, perModel, channels)
	}
	for model, sum := range perModel {
		if sum > headline+0.05 || sum < 0.97*headline {
			t.Errorf("%s: revenue by channel %.2f, headline %.2f", model, sum, headline)
		}
	}

	for _, name := range []string{"touchpoints_by_channel", "calls_by_channel", "call_match_rate", "calls", "unmatched_calls"} {
		res, err := reports.Run(ctx, st, name, period, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) == 0 {
			t.Errorf("report %s is empty", name)
		}
	}
	if _, err := demo.Seed(ctx, st, demo.Options{Visitors: 10, End: end}); !errors.Is(err, demo.ErrSeeded) {
		t.Fatalf("second seed: %v", err)
	}
}

// number reads a report cell (a JSON number, or a string for 64-bit ints).
func number(t *testing.T, v any) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(fmt.Sprint(v), 64)
	if err != nil {
		t.Fatalf("not a number: %#v", v)
	}
	return f
}
