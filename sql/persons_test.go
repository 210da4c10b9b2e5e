package sql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestPersonsJoinBrowsersByEmailAndLeadID(t *testing.T) {
	s := storetest.Open(t)
	uid := func(n int) string { return fmt.Sprintf("%032x", n) }
	form := func(u int, email string) storetest.Hit {
		return storetest.Hit{UID: uid(u), SID: "s", Type: "form_submit", At: t0, URL: "https://acme.example/contact", Email: email}
	}
	storetest.Insert(t, s,
		// A laptop (1) and a phone (5) give the same email, in other cases.
		form(5, "Ann@Acme.example"), form(1, "ann@acme.example"),
		// A chain: 9 –bob@– 7 –bob.work@– 3 –lead 00Q1– 8
		form(9, "bob@home.example"), form(7, "bob@home.example"), form(7, "bob@work.example"), form(3, "bob@work.example"),
		storetest.Hit{UID: uid(4), SID: "s", At: t0, URL: "https://acme.example/"}, // nobody: no key
	)
	// uid 3 and 8 share a CRM lead id through identify calls.
	storetest.Insert(t, s,
		storetest.Hit{UID: uid(3), SID: "s", Type: "identify", At: t0, LeadID: "00Q1"},
		storetest.Hit{UID: uid(8), SID: "s", Type: "identify", At: t0, LeadID: "00Q1"},
	)

	got := storetest.Query(t, s, "SELECT uid, person_id FROM persons ORDER BY uid")
	want := strings.Join([]string{
		uid(1) + "\t" + uid(1), uid(3) + "\t" + uid(3), uid(5) + "\t" + uid(1),
		uid(7) + "\t" + uid(3), uid(8) + "\t" + uid(3), uid(9) + "\t" + uid(3),
	}, "\n")
	if got != want {
		t.Fatalf("persons:\n%s\nwant:\n%s", got, want)
	}
}

// A Task's WhoId (the CRM contact a call was logged on) joins the browsers
// whose calls carry it; an identify call's email joins like a form's.
func TestPersonsJoinBrowsersByWhoIDAndIdentifyEmail(t *testing.T) {
	s := storetest.Open(t)
	uid := func(n int) string { return fmt.Sprintf("%032x", n) }
	// Calls from browsers 6 and 2 were logged on contact 003A; browser 9
	// called too, on another contact.
	exec(t, s, `INSERT INTO call_tasks (task_id, source, task_type, uid, bizible_id, who_id, call_time, received_at, version) VALUES
		('T1', 'tasks_api', 'Call', '`+uid(6)+`', '`+uid(6)+`', '003A', '2026-11-02 12:00:00', now64(3), 1),
		('T2', 'tasks_api', 'Call', '`+uid(2)+`', '`+uid(2)+`', '003A', '2026-11-03 12:00:00', now64(3), 1),
		('T3', 'tasks_api', 'Call', '`+uid(9)+`', '`+uid(9)+`', '003B', '2026-11-03 12:00:00', now64(3), 1),
		('T4', 'tasks_api', 'Call', '', 'not-a-uid', '003B', '2026-11-03 12:00:00', now64(3), 1)`)
	storetest.Insert(t, s,
		// Browser 4 fills a form; browser 6 is identified with the same
		// email (another case): 4, 6 and, through 003A, 2 are one person.
		storetest.Hit{UID: uid(4), SID: "s", Type: "form_submit", At: t0, URL: "https://acme.example/contact", Email: "cy@acme.example"},
		storetest.Hit{UID: uid(6), SID: "s", Type: "identify", At: t0, Email: "Cy@Acme.example"},
		// An identify call alone joins nobody else.
		storetest.Hit{UID: uid(7), SID: "s", Type: "identify", At: t0, Email: "dee@acme.example"},
	)
	got := storetest.Query(t, s, "SELECT uid, person_id FROM persons ORDER BY uid")
	want := strings.Join([]string{
		uid(2) + "\t" + uid(2), uid(4) + "\t" + uid(2), uid(6) + "\t" + uid(2),
		uid(7) + "\t" + uid(7), uid(9) + "\t" + uid(9),
	}, "\n")
	if got != want {
		t.Fatalf("persons:\n%s\nwant:\n%s", got, want)
	}
}

// An opportunity with a ContactId reaches the person whose calls were
// logged on that contact, and is attributed to that person's touchpoints
// across browsers.
func TestOpportunityReachesItsPersonByContactID(t *testing.T) {
	s := storetest.Open(t)
	laptop, phone := strings.Repeat("1", 32), strings.Repeat("2", 32)
	// The laptop's paid-search session, and a call from it five minutes in
	// (merged); a week later a call from the phone, which never visited
	// (a CRM Activity touchpoint). Both calls were logged on contact 003C.
	storetest.Insert(t, s, storetest.Hit{UID: laptop, SID: "s1", At: t0, URL: "https://acme.example/?utm_source=google&utm_medium=cpc", Ref: "https://www.google.com/"})
	exec(t, s, `INSERT INTO call_tasks (task_id, source, task_type, uid, bizible_id, who_id, call_time, received_at, version) VALUES
		('T1', 'tasks_api', 'Call', '`+laptop+`', '`+laptop+`', '003C', '2026-11-02 12:22:00', now64(3), 1),
		('T2', 'tasks_api', 'Call', '`+phone+`', '`+phone+`', '003C', '2026-11-09 10:00:00', now64(3), 1)`)
	exec(t, s, `INSERT INTO opportunities (opportunity_id, amount, created_date, close_date, is_won, is_closed, contact_id, source, received_at, version) VALUES
		('006X', 1000, '2026-11-10 09:00:00', '2026-11-20', 1, 1, '003C', 'test', now64(3), 1),
		('006Y', 500, '2026-11-10 09:00:00', NULL, 0, 0, '003Z', 'test', now64(3), 1)`)

	if got := storetest.Query(t, s, "SELECT opportunity_id, person_id FROM opportunity_persons ORDER BY 1"); got != "006X\t"+laptop {
		t.Errorf("opportunity_persons: %q (006Y's contact has no calls: no person)", got)
	}
	got := storetest.Query(t, s, `SELECT t.uid = '`+laptop+`', t.touchpoint_type, t.marketing_channel_path, t.touchpoint_position, a.share
		FROM attribution AS a INNER JOIN touchpoints AS t ON t.touchpoint_id = a.touchpoint_id
		WHERE a.model = 'full_path' ORDER BY t.touchpoint_date`)
	// FT, LC (.45) on the merged call; OC and Closed (.45) on the phone's.
	if want := "1\tCall\tPaid Search.Google\tFT, LC\t0.5\n0\tCall\tOther\tPostLC, OC, Closed\t0.5"; got != want {
		t.Errorf("006X under full path:\n%s\nwant\n%s", got, want)
	}
}

func exec(t *testing.T, s store.Store, q string) {
	t.Helper()
	if err := s.Exec(context.Background(), q, nil); err != nil {
		t.Fatal(err)
	}
}
