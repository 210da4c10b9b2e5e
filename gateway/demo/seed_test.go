package demo_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/demo"
	"github.com/calltrail/calltrail/gateway/reports"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

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
	for _, q := range []string{"summary", "touchpoints_by_channel", "calls_by_channel", "call_match_rate", "calls", "unmatched_calls", "revenue_by_channel"} {
		start := time.Now()
		res, err := reports.Run(ctx, st, q, map[string]string{"from": "2026-11-01", "to": "2026-11-30"}, end)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-24s %4d rows %v", q, len(res.Rows), time.Since(start))
		if q == "call_match_rate" || q == "summary" {
			t.Logf("%v", res.Rows)
		}
	}
	if _, err := demo.Seed(ctx, st, demo.Options{Visitors: 10, End: end}); !errors.Is(err, demo.ErrSeeded) {
		t.Fatalf("second seed: %v", err)
	}
	t.Log(strings.TrimSpace(storetest.Query(t, st, "SELECT marketing_channel_path, count() FROM sessions GROUP BY 1 ORDER BY 2 DESC")))
}
