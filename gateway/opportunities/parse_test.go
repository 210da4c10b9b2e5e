package opportunities_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/opportunities"
	"github.com/calltrail/calltrail/gateway/sfrecord"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var now = time.Date(2024, 4, 2, 9, 30, 0, 0, time.UTC)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// record decodes a JSON object as the endpoint does (numbers as json.Number).
func record(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := sfrecord.DecodeJSON([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

func day(s string) *time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &d
}

func TestParseGoodRecords(t *testing.T) {
	created := time.Date(2024, 3, 1, 12, 5, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		rec  string // JSON, or a CSV row: every value a string
		want opportunities.Opportunity
	}{
		{"JSON as the API returns it",
			`{"attributes":{"type":"Opportunity"},"Id":"006000000000001AAA","Name":"Acme — 50 seats","Amount":40000.5,
			  "StageName":"Closed Won","CreatedDate":"2024-03-01T12:05:00.000+0000","CloseDate":"2024-03-28",
			  "IsWon":true,"IsClosed":true,"ContactId":"003000000000001AAA","AccountId":"001000000000001AAA",
			  "LastModifiedDate":"2024-03-28T16:00:00.000+0000"}`,
			opportunities.Opportunity{ID: "006000000000001AAA", Name: "Acme — 50 seats", Amount: 40000.5,
				StageName: "Closed Won", CreatedDate: created, CloseDate: day("2024-03-28"), IsWon: true, IsClosed: true,
				ContactID: "003000000000001AAA", Version: uint64(time.Date(2024, 3, 28, 16, 0, 0, 0, time.UTC).UnixNano()),
				Properties: json.RawMessage(`{"AccountId":"001000000000001AAA","attributes":{"type":"Opportunity"}}`)}},
		{"a CSV row: strings, upper-case names, 1/0 checkboxes",
			`{"ID":"006000000000002AAA","AMOUNT":"1250.00","STAGENAME":"Negotiation","CREATEDDATE":"2024-03-01T12:05:00.000Z",
			  "CLOSEDATE":"2024-04-30","ISWON":"0","ISCLOSED":"0","WHOID":"003000000000002AAA"}`,
			opportunities.Opportunity{ID: "006000000000002AAA", Amount: 1250, StageName: "Negotiation", CreatedDate: created,
				CloseDate: day("2024-04-30"), ContactID: "003000000000002AAA", Version: uint64(now.UnixNano())}},
		{"CSV booleans as words, a date for CreatedDate, empty Amount",
			`{"Id":"006000000000003AAA","Amount":"","CreatedDate":"2024-03-01","IsWon":"TRUE","IsClosed":"true","Email":" Jane@Example.COM "}`,
			opportunities.Opportunity{ID: "006000000000003AAA", CreatedDate: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
				IsWon: true, IsClosed: true, EmailHash: sha("jane@example.com"), Version: uint64(now.UnixNano())}},
		{"IsWon alone means closed; lost is closed and not won",
			`{"Id":"W","CreatedDate":"2024-03-01T12:05:00Z","IsWon":"1","ContactId":"C"}`,
			opportunities.Opportunity{ID: "W", CreatedDate: created, IsWon: true, IsClosed: true, ContactID: "C", Version: uint64(now.UnixNano())}},
		{"closed lost",
			`{"Id":"L","CreatedDate":"2024-03-01T12:05:00Z","IsWon":false,"IsClosed":1,"ContactId":"C","StageName":"Closed Lost"}`,
			opportunities.Opportunity{ID: "L", CreatedDate: created, IsClosed: true, ContactID: "C", StageName: "Closed Lost", Version: uint64(now.UnixNano())}},
		{"ContactId wins over a different WhoId, which is kept",
			`{"Id":"P","CreatedDate":"2024-03-01T12:05:00Z","ContactId":"C1","WhoId":"C2","Email":"a@b.example"}`,
			opportunities.Opportunity{ID: "P", CreatedDate: created, ContactID: "C1", EmailHash: sha("a@b.example"),
				Version: uint64(now.UnixNano()), Properties: json.RawMessage(`{"WhoId":"C2"}`)}},
		{"version from SystemModstamp",
			`{"Id":"V","CreatedDate":"2024-03-01T12:05:00Z","ContactId":"C","SystemModstamp":"2024-03-05T08:00:00Z","Amount":0}`,
			opportunities.Opportunity{ID: "V", CreatedDate: created, ContactID: "C", Version: uint64(time.Date(2024, 3, 5, 8, 0, 0, 0, time.UTC).UnixNano())}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := opportunities.Parse(record(t, c.rec), opportunities.SourceAPI, now, opportunities.Config{})
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			want.Source, want.ReceivedAt = opportunities.SourceAPI, now
			if string(got.Properties) != string(want.Properties) {
				t.Errorf("properties %s, want %s", got.Properties, want.Properties)
			}
			got.Properties, want.Properties = nil, nil
			if (got.CloseDate == nil) != (want.CloseDate == nil) || got.CloseDate != nil && !got.CloseDate.Equal(*want.CloseDate) {
				t.Errorf("CloseDate %v, want %v", got.CloseDate, want.CloseDate)
			}
			got.CloseDate, want.CloseDate = nil, nil
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("\n got %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	const ok = `"Id":"006A","CreatedDate":"2024-03-01T12:05:00Z","ContactId":"003A"`
	for _, c := range []struct{ name, rec, reason string }{
		{"no Id", `{"CreatedDate":"2024-03-01T12:05:00Z","ContactId":"003A"}`, "Id is required"},
		{"empty Id", `{"Id":" ","CreatedDate":"2024-03-01T12:05:00Z","ContactId":"003A"}`, "Id is required"},
		{"Id a number", `{"Id":6,"CreatedDate":"2024-03-01T12:05:00Z","ContactId":"003A"}`, "Id must be a string, got a number"},
		{"Id with a slash", `{"Id":"006/A","CreatedDate":"2024-03-01T12:05:00Z","ContactId":"003A"}`, "Id must not contain"},
		{"Id twice", `{` + ok + `,"ID":"006B"}`, "field Id appears twice"},
		{"no CreatedDate", `{"Id":"006A","ContactId":"003A"}`, "CreatedDate is required"},
		{"CreatedDate unreadable", `{"Id":"006A","CreatedDate":"03/01/2024","ContactId":"003A"}`, `CreatedDate: cannot read "03/01/2024"`},
		{"CreatedDate a number", `{"Id":"006A","CreatedDate":[],"ContactId":"003A"}`, "CreatedDate must be a string, got an array"},
		{"CloseDate unreadable", `{` + ok + `,"CloseDate":"end of March"}`, `CloseDate: cannot read "end of March" as a date`},
		{"CloseDate a number", `{` + ok + `,"CloseDate":20240331}`, "CloseDate must be a string, got a number"},
		{"Amount negative", `{` + ok + `,"Amount":-10}`, "Amount must be 0 or more, got -10"},
		{"Amount with a separator", `{` + ok + `,"Amount":"40,000"}`, `Amount must be a number such as 1250.50, got "40,000"`},
		{"Amount with a currency", `{` + ok + `,"Amount":"€100"}`, "Amount must be a number"},
		{"Amount a boolean", `{` + ok + `,"Amount":true}`, "Amount must be a number, got a boolean"},
		{"Amount an object", `{` + ok + `,"Amount":{"value":1}}`, "Amount must be a number, got an object"},
		{"IsWon a word", `{` + ok + `,"IsWon":"yes"}`, `IsWon must be true or false (or 1 / 0), got "yes"`},
		{"IsClosed a number", `{` + ok + `,"IsClosed":2}`, `IsClosed must be true or false (or 1 / 0), got "2"`},
		{"IsClosed an array", `{` + ok + `,"IsClosed":[]}`, "IsClosed must be true or false, got an array"},
		{"won but open", `{` + ok + `,"IsWon":true,"IsClosed":"false"}`, "IsWon is true but IsClosed is false: a won opportunity is closed"},
		{"StageName a number", `{` + ok + `,"StageName":3}`, "StageName must be a string, got a number"},
		{"Name an object", `{` + ok + `,"Name":{}}`, "Name must be a string, got an object"},
		{"ContactId a number", `{"Id":"006A","CreatedDate":"2024-03-01T12:05:00Z","ContactId":3}`, "ContactId must be a string, got a number"},
		{"WhoId a boolean", `{"Id":"006A","CreatedDate":"2024-03-01T12:05:00Z","WhoId":true}`, "WhoId must be a string, got a boolean"},
		{"Email not an address", `{` + ok + `,"Email":"jane at example"}`, `Email "jane at example" is not an email address (it has no @)`},
		{"Email a number", `{` + ok + `,"Email":5}`, "Email must be a string, got a number"},
		{"no person", `{"Id":"006A","CreatedDate":"2024-03-01T12:05:00Z","AccountId":"001A"}`, "no person: give ContactId (or WhoId) or Email"},
		{"blank person (CSV)", `{"Id":"006A","CreatedDate":"2024-03-01T12:05:00Z","ContactId":"","WhoId":" ","Email":""}`, "no person"},
		{"LastModifiedDate unreadable", `{` + ok + `,"LastModifiedDate":"now"}`, "LastModifiedDate: cannot read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := opportunities.Parse(record(t, c.rec), opportunities.SourceAPI, now, opportunities.Config{})
			var bad *sfrecord.BadRecord
			if !errors.As(err, &bad) || o != nil {
				t.Fatalf("got %+v, %v; want a BadRecord", o, err)
			}
			if !strings.Contains(bad.Reason, c.reason) {
				t.Errorf("reason %q does not say %q", bad.Reason, c.reason)
			}
		})
	}
}

func TestParseAll(t *testing.T) {
	recs, err := sfrecord.DecodeRecords([]byte(`[
	  {"Id":"006A","CreatedDate":"2024-03-01T12:05:00Z","ContactId":"003A"},
	  "not a record",
	  {"Id":"006B","CreatedDate":"2024-03-01T12:05:00Z"},
	  {"Id":"006C","CreatedDate":"2024-03-01","Email":"c@example.com","Amount":"99.90"}
	]`), opportunities.Object)
	if err != nil {
		t.Fatal(err)
	}
	opps, rejected := opportunities.ParseAll(recs, opportunities.SourceCSV, now, opportunities.Config{})
	if len(opps) != 2 || opps[0].ID != "006A" || opps[1].ID != "006C" || opps[1].Source != opportunities.SourceCSV {
		t.Errorf("parsed %+v", opps)
	}
	want := []sfrecord.Rejection{
		{Index: 1, Reason: "each record must be a JSON object with Salesforce Opportunity fields"},
		{Index: 2, ID: "006B", Reason: "no person: give ContactId (or WhoId) or Email, so the opportunity's revenue can be credited to that person's touchpoints"},
	}
	if len(rejected) != 2 || rejected[0] != want[0] || rejected[1] != want[1] {
		t.Errorf("rejected %+v\nwant %+v", rejected, want)
	}
	if _, err := sfrecord.DecodeRecords([]byte(`Id,Amount`), opportunities.Object); err == nil ||
		!strings.Contains(err.Error(), "Salesforce Opportunity records") {
		t.Errorf("a CSV body: %v", err)
	}
}

func TestEmailIsHashedUnlessTheOperatorOptsIn(t *testing.T) {
	rec := `{"Id":"006A","CreatedDate":"2024-03-01T12:05:00Z","Email":"  Jane.Doe@Example.com"}`
	o, err := opportunities.Parse(record(t, rec), opportunities.SourceAPI, now, opportunities.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if o.EmailHash != sha("jane.doe@example.com") || o.Email != "" {
		t.Errorf("default: hash %q, email %q; want the hash only", o.EmailHash, o.Email)
	}
	o, err = opportunities.Parse(record(t, rec), opportunities.SourceAPI, now, opportunities.Config{StoreEmails: true})
	if err != nil {
		t.Fatal(err)
	}
	if o.EmailHash != sha("jane.doe@example.com") || o.Email != "jane.doe@example.com" {
		t.Errorf("opted in: hash %q, email %q", o.EmailHash, o.Email)
	}
	if strings.Contains(string(o.Properties), "Jane") {
		t.Errorf("the email is kept in properties: %s", o.Properties)
	}
}
