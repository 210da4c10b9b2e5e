package calls_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// day is the date every test story happens on.
var day = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// at is a time of day, "13:05" or "13:05:30", on day (or later days with a
// "+1 " prefix: "+1 09:00").
func at(t testing.TB, clock string) time.Time {
	t.Helper()
	d := day
	if rest, ok := strings.CutPrefix(clock, "+1 "); ok {
		d, clock = d.AddDate(0, 0, 1), rest
	}
	layout := "15:04"
	if strings.Count(clock, ":") == 2 {
		layout = "15:04:05"
	}
	c, err := time.Parse(layout, clock)
	if err != nil {
		t.Fatalf("bad clock %q: %v", clock, err)
	}
	return d.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute + time.Duration(c.Second())*time.Second)
}

// hit is one event of a visit.
type hit struct {
	typ, clock, url, ref string
}

func page(clock, url, ref string) hit { return hit{"page_view", clock, url, ref} }
func form(clock, url string) hit      { return hit{"form_submit", clock, url, ""} }
func chat(clock, url string) hit      { return hit{"chat", clock, url, ""} }

// visit stores a session's events the way the gateway does: rows of
// events_raw, which the sessions materialized view picks up.
func visit(t testing.TB, st store.Store, site, uid, sid string, hits ...hit) {
	t.Helper()
	var rows []byte
	for _, h := range hits {
		when := at(t, h.clock)
		l, ok := ingest.ParseLanding(h.url)
		if !ok {
			t.Fatalf("bad url %q", h.url)
		}
		ev := ingest.Event{
			ID: uuid.New(), Site: site, UID: uid, SessionID: sid, Type: h.typ,
			Time: when, ReceivedAt: when.Add(time.Second), URL: h.url, Landing: l,
			Referrer: h.ref, ReferrerHost: ingest.ReferrerHost(h.ref), Browser: "Chrome", OS: "macOS",
			Device: "Desktop", Source: "js",
		}
		rows = ev.AppendTSV(rows)
	}
	if err := st.Insert(context.Background(), "events_raw", ingest.Columns, "TabSeparated", rows, ""); err != nil {
		t.Fatal(err)
	}
}

// task stores Salesforce Task records through the same path as /v1/tasks.
func task(t testing.TB, st store.Store, recs ...map[string]any) calls.Saved {
	t.Helper()
	var tasks []*calls.Task
	for _, r := range recs {
		tk, err := calls.ParseTask(r, calls.SourceTasksAPI, time.Now())
		if err != nil {
			t.Fatalf("task %v: %v", r, err)
		}
		tasks = append(tasks, tk)
	}
	saved, err := calls.Save(context.Background(), st, tasks)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

// callTask is a Task record of a call with a BizibleId at a time of day.
func callTask(t testing.TB, id, typ, uid, clock string) map[string]any {
	t.Helper()
	r := map[string]any{
		"Id": id, "Subject": "Call from +31 20 555 0101", "Phone": "+31205550101",
		"CreatedDate":                          at(t, clock).Add(3 * time.Minute).Format("2006-01-02T15:04:05.000-0700"),
		"bizible2__Bizible_Touchpoint_Date__c": at(t, clock).Format(time.RFC3339),
	}
	if typ != "" {
		r["Type"] = typ
	}
	if uid != "" {
		r["bizible2__BizibleId__c"] = uid
	}
	return r
}

// rows runs a query and returns its TSV lines.
func rows(t testing.TB, st store.Store, query string, params store.Params) []string {
	t.Helper()
	out, err := st.Query(context.Background(), query, "TSV", params)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	s := strings.TrimRight(string(out), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// uidOf makes a distinct, valid visitor id per name.
func uidOf(name string) string {
	u := uuid.NewSHA1(uuid.NameSpaceURL, []byte(name))
	return strings.ReplaceAll(u.String(), "-", "")
}
