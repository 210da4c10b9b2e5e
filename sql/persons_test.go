package sql_test

import (
	"fmt"
	"strings"
	"testing"

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
