package opportunities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/opportunities"
	"github.com/calltrail/calltrail/gateway/sfrecord"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

// save parses records (JSON objects) received at a time and stores them.
func save(t *testing.T, st store.Store, at time.Time, cfg opportunities.Config, recs ...string) sfrecord.Saved {
	t.Helper()
	var opps []*opportunities.Opportunity
	for _, r := range recs {
		o, err := opportunities.Parse(record(t, r), opportunities.SourceAPI, at, cfg)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		opps = append(opps, o)
	}
	saved, err := opportunities.Save(context.Background(), st, opps)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

const stored = `SELECT opportunity_id, name, amount, stage_name, created_date, close_date, is_won, is_closed,
	contact_id, email_hash, email, source, properties FROM opportunities FINAL ORDER BY opportunity_id`

func TestSameIdTwiceIsOneOpportunityTheLatestWins(t *testing.T) {
	st := storetest.Open(t)
	open := `{"Id":"006A","Name":"Acme","Amount":"1000","StageName":"Prospecting","CreatedDate":"2024-03-01T12:05:00.000+0000",
	  "CloseDate":"2024-04-30","ContactId":"003A","LastModifiedDate":"2024-03-01T12:05:00.000+0000"}`
	won := `{"Id":"006A","Name":"Acme","Amount":1250.5,"StageName":"Closed Won","CreatedDate":"2024-03-01T12:05:00.000+0000",
	  "CloseDate":"2024-03-28","IsWon":true,"ContactId":"003A","LastModifiedDate":"2024-03-28T16:00:00.000+0000","Region__c":"EMEA"}`

	if s := save(t, st, now, opportunities.Config{}, open); s != (sfrecord.Saved{Created: 1}) {
		t.Errorf("first: %+v", s)
	}
	if s := save(t, st, now, opportunities.Config{}, won); s != (sfrecord.Saved{Updated: 1}) {
		t.Errorf("edit: %+v", s)
	}
	// An old export imported later does not undo the newer edit: its
	// LastModifiedDate is older.
	if s := save(t, st, now.Add(time.Hour), opportunities.Config{}, open); s != (sfrecord.Saved{Updated: 1}) {
		t.Errorf("old export: %+v", s)
	}
	want := "006A\tAcme\t1250.5\tClosed Won\t2024-03-01 12:05:00.000\t2024-03-28 00:00:00.000\t1\t1\t003A\t\t\topportunities_api\t{\"Region__c\":\"EMEA\"}\n"
	if got := storetest.Query(t, st, stored) + "\n"; got != want {
		t.Errorf("stored\n got %q\nwant %q", got, want)
	}

	// Within one batch: the last record of an Id wins and the rest count as
	// updates; a record new to the store is created.
	s := save(t, st, now, opportunities.Config{},
		`{"Id":"006B","CreatedDate":"2024-03-02","Email":"b@example.com","Amount":10}`,
		`{"Id":"006B","CreatedDate":"2024-03-02","Email":"b@example.com","Amount":20}`,
		won)
	if s != (sfrecord.Saved{Created: 1, Updated: 2}) {
		t.Errorf("batch: %+v", s)
	}
	if got := storetest.Query(t, st, "SELECT opportunity_id, amount, close_date, email_hash = '"+sha("b@example.com")+"' FROM opportunities FINAL ORDER BY 1"); got !=
		"006A\t1250.5\t2024-03-28 00:00:00.000\t0\n006B\t20\t\\N\t1" {
		t.Errorf("after the batch:\n%s", got)
	}
	if n := storetest.Query(t, st, "SELECT count() FROM opportunities FINAL"); n != "2" {
		t.Errorf("%s opportunities, want 2", n)
	}
}

func TestClearEmailOnlyWhenOptedIn(t *testing.T) {
	st := storetest.Open(t)
	save(t, st, now, opportunities.Config{}, `{"Id":"006A","CreatedDate":"2024-03-01","Email":"Jane@Example.com"}`)
	save(t, st, now, opportunities.Config{StoreEmails: true}, `{"Id":"006B","CreatedDate":"2024-03-01","Email":"Jane@Example.com"}`)
	got := storetest.Query(t, st, "SELECT opportunity_id, email, email_hash FROM opportunities FINAL ORDER BY 1")
	want := "006A\t\t" + sha("jane@example.com") + "\n006B\tjane@example.com\t" + sha("jane@example.com")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if raw := storetest.Query(t, st, "SELECT count() FROM opportunities WHERE positionCaseInsensitive(properties, 'jane') > 0"); raw != "0" {
		t.Errorf("the email is in properties")
	}
}

// The hash of an opportunity's email equals the hash of the same address
// sent by a form through the event pipeline: one rule joins them.
func TestEmailHashMatchesFormEmails(t *testing.T) {
	st := storetest.Open(t)
	storetest.Insert(t, st, storetest.Hit{UID: strings.Repeat("a", 32), SID: "s1", Type: "form_submit",
		At: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), URL: "https://shop.example/contact", Email: "jane@example.com "})
	save(t, st, now, opportunities.Config{}, `{"Id":"006A","CreatedDate":"2024-03-01","Email":" JANE@example.com"}`)
	got := storetest.Query(t, st, `SELECT count() FROM opportunities AS o FINAL
		JOIN events_raw AS e ON e.email_hash = o.email_hash WHERE e.email_hash != ''`)
	if got != "1" {
		t.Errorf("%s opportunities joined to the form by email hash, want 1", got)
	}
}
