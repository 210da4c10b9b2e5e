package opportunities_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/calltrail/calltrail/gateway/opportunities"
	"github.com/calltrail/calltrail/gateway/server"
	"github.com/calltrail/calltrail/gateway/server/servertest"
	"github.com/calltrail/calltrail/gateway/sfrecord"
	"github.com/calltrail/calltrail/gateway/sfrecord/sftest"
)

func TestOpportunitiesEndpoint(t *testing.T) {
	g := servertest.Start(t)
	one := `{"Id":"006000000000001AAA","Name":"Acme","Amount":40000,"StageName":"Closed Won","CreatedDate":"2024-03-01T12:05:00.000+0000",
	  "CloseDate":"2024-03-28","IsWon":true,"ContactId":"003000000000001AAA","Email":"jane@example.com","AccountId":"001000000000001AAA"}`

	for _, auth := range []string{"", "Bearer wrong"} {
		if code, _ := g.JSON(t, "POST", "/v1/opportunities", map[string]string{"Authorization": auth}, one); code != 401 {
			t.Errorf("Authorization %q: %d, want 401", auth, code)
		}
	}
	if n := g.Query(t, "SELECT count() FROM opportunities"); n != "0\n" {
		t.Fatalf("unauthorized opportunities stored: %s", n)
	}

	code, ans := g.JSON(t, "POST", "/v1/opportunities", servertest.Bearer, one)
	if code != 200 || ans["accepted"] != 1.0 || ans["created"] != 1.0 || ans["updated"] != 0.0 || len(ans["rejected"].([]any)) != 0 {
		t.Fatalf("one object: %d %v", code, ans)
	}
	if _, hasError := ans["error"]; hasError {
		t.Errorf("a stored batch's answer has an error field: %v", ans)
	}
	got := g.Query(t, "SELECT amount, is_won, is_closed, contact_id, email, length(email_hash), source, properties FROM opportunities FINAL")
	if want := "40000\t1\t1\t003000000000001AAA\t\t64\topportunities_api\t{\"AccountId\":\"001000000000001AAA\"}\n"; got != want {
		t.Errorf("stored\n got %q\nwant %q", got, want)
	}

	batch := `[
	  {"Id":"006000000000001AAA","Amount":"45000","StageName":"Closed Won","CreatedDate":"2024-03-01T12:05:00.000+0000","IsWon":"true","ContactId":"003000000000001AAA"},
	  {"Id":"006000000000002AAA","CreatedDate":"2024-03-02"},
	  {"Amount":5,"CreatedDate":"2024-03-02","ContactId":"003B"},
	  {"Id":"006000000000003AAA","Amount":"lots","CreatedDate":"2024-03-02","ContactId":"003B"},
	  {"Id":"006000000000004AAA","ContactId":"003B"},
	  {"Id":"006000000000005AAA","CreatedDate":"2024-03-02","ContactId":"003B","IsWon":"yes"},
	  "not a record",
	  {"Id":"006000000000006AAA","CreatedDate":"2024-03-02","WhoId":"003C","Amount":"","IsClosed":"1"}
	]`
	code, ans = g.JSON(t, "POST", "/v1/opportunities", servertest.Bearer, batch)
	if code != 400 || ans["accepted"] != 2.0 || ans["created"] != 1.0 || ans["updated"] != 1.0 {
		t.Fatalf("mixed batch: %d %v", code, ans)
	}
	wantReasons := map[float64]string{1: "no person", 2: "Id is required", 3: "Amount must be a number", 4: "CreatedDate is required", 5: "IsWon must be true or false", 6: "JSON object"}
	rejected := sftest.Rejections(t, ans, wantReasons)
	if r := rejected[0].(map[string]any); r["id"] != "006000000000002AAA" {
		t.Errorf("a rejection names the record's Id: %v", r)
	}
	// The valid ones are stored: the update replaced the first version.
	if got := g.Query(t, "SELECT opportunity_id, amount, contact_id, is_closed FROM opportunities FINAL ORDER BY 1"); got !=
		"006000000000001AAA\t45000\t003000000000001AAA\t1\n006000000000006AAA\t0\t003C\t1\n" {
		t.Errorf("stored:\n%s", got)
	}

	for _, body := range []string{``, `Id,Amount`, `{"Id":`, `[1,`} {
		if code, ans := g.JSON(t, "POST", "/v1/opportunities", servertest.Bearer, body); code != 400 || ans["error"] == nil {
			t.Errorf("body %q: %d %v, want 400 with an error", body, code, ans)
		}
	}
	if code, ans := g.JSON(t, "POST", "/v1/opportunities?source=crm", servertest.Bearer, one); code != 400 || ans["error"] != "source must be opportunities_api or csv" {
		t.Errorf("unknown source: %d %v", code, ans)
	}
	if code, _ := g.JSON(t, "POST", "/v1/opportunities?source=csv", servertest.Bearer, one); code != 200 {
		t.Errorf("source=csv: %d", code)
	}
	if got := g.Query(t, "SELECT source FROM opportunities FINAL WHERE opportunity_id = '006000000000001AAA'"); got != "csv\n" {
		t.Errorf("source %q", got)
	}
}

func TestOpportunitiesEndpointKeepsEmailsWhenOptedIn(t *testing.T) {
	g := servertest.StartWith(t, func(c *server.Config) { c.StoreEmails = true })
	code, ans := g.JSON(t, "POST", "/v1/opportunities", servertest.Bearer, `{"Id":"006A","CreatedDate":"2024-03-01","Email":"Jane@Example.com"}`)
	if code != 200 {
		t.Fatalf("%d %v", code, ans)
	}
	if got := g.Query(t, "SELECT email, email_hash FROM opportunities FINAL"); got != "jane@example.com\t"+sha("jane@example.com")+"\n" {
		t.Errorf("stored %q", got)
	}
}

// dataLoaderCSV is an Opportunity export as Salesforce Data Loader writes
// it: a BOM, upper-case API names, every value quoted, CRLF line ends.
const dataLoaderCSV = "\ufeff" + `"ID","NAME","ACCOUNTID","AMOUNT","STAGENAME","CREATEDDATE","CLOSEDATE","ISWON","ISCLOSED","CONTACTID","EMAIL","LASTMODIFIEDDATE"` + "\r\n" +
	`"006000000000001AAA","Acme","001A","40000.00","Closed Won","2024-03-01T12:05:00.000Z","2024-03-28","true","true","003000000000001AAA","","2024-03-28T16:00:00.000Z"` + "\r\n" + // 2: good
	`"006000000000002AAA","Globex","001B","","Prospecting","2024-03-02T09:00:00.000Z","2024-05-31","false","false","","Hank@Globex.example",""` + "\r\n" + // 3: good, by email, no amount
	`"006000000000003AAA","Initech","001C","12,500","Qualification","2024-03-03T09:00:00.000Z","","false","false","003C","",""` + "\r\n" + // 4: bad amount
	`"","Umbrella","001D","100","Prospecting","2024-03-03T09:00:00.000Z","","false","false","003D","",""` + "\r\n" + // 5: no Id
	`"006000000000005AAA","Hooli","001E","100","Prospecting","2024-03-03T09:00:00.000Z","","false","false","","",""` + "\r\n" + // 6: no person
	`"006000000000006AAA","Short"` + "\r\n" + // 7: short row
	`"006000000000007AAA","Stark","001F","7000","Closed Won","2024-03-04T09:00:00.000Z","2024-03-30","1","0","003F","",""` + "\r\n" + // 8: won but open
	`"006000000000001AAA","Acme","001A","38000.00","Negotiation","2024-03-01T12:05:00.000Z","2024-03-28","false","false","003000000000001AAA","","2024-03-10T16:00:00.000Z"` + "\r\n" + // 9: an older version of line 2
	`"006000000000008AAA","Wayne","001G","0","Closed Lost","2024-03-05","2024-03-20","0","1","003G","",""` + "\r\n" // 10: good

func TestImportOpportunitiesCSV(t *testing.T) {
	g := servertest.Start(t)
	var progress, rejected bytes.Buffer
	post := opportunities.PostHTTP(g.URL, servertest.Token, nil)
	stats, err := sfrecord.ImportCSV(context.Background(), strings.NewReader(dataLoaderCSV), opportunities.Object, post,
		sfrecord.ImportOptions{BatchRows: 4, Progress: &progress, Rejected: &rejected})
	if err != nil {
		t.Fatal(err)
	}
	if want := (sfrecord.ImportStats{Rows: 9, Created: 3, Updated: 1, Rejected: 5}); stats != want {
		t.Errorf("stats %+v, want %+v", stats, want)
	}
	sftest.ImportReport(t, rejected.String(), progress.String(), stats.Rejected, 2,
		`line 4 (Id 006000000000003AAA): Amount must be a number such as 1250.50, got "12,500"`,
		"line 5: Id is required",
		"line 6 (Id 006000000000005AAA): no person: give ContactId (or WhoId) or Email",
		"line 7: 2 fields, the header has 12",
		"line 8 (Id 006000000000007AAA): IsWon is true but IsClosed is false",
	)

	// Line 9 is an older version of line 2 (LastModifiedDate): line 2 stays.
	got := g.Query(t, `SELECT opportunity_id, name, amount, stage_name, close_date, is_won, is_closed, contact_id,
		email_hash != '', email, source, properties FROM opportunities FINAL ORDER BY 1`)
	want := "006000000000001AAA\tAcme\t40000\tClosed Won\t2024-03-28 00:00:00.000\t1\t1\t003000000000001AAA\t0\t\tcsv\t{\"ACCOUNTID\":\"001A\"}\n" +
		"006000000000002AAA\tGlobex\t0\tProspecting\t2024-05-31 00:00:00.000\t0\t0\t\t1\t\tcsv\t{\"ACCOUNTID\":\"001B\"}\n" +
		"006000000000008AAA\tWayne\t0\tClosed Lost\t2024-03-20 00:00:00.000\t0\t1\t003G\t0\t\tcsv\t{\"ACCOUNTID\":\"001G\"}\n"
	if got != want {
		t.Errorf("stored\n got %q\nwant %q", got, want)
	}
	if h := g.Query(t, "SELECT email_hash FROM opportunities FINAL WHERE opportunity_id = '006000000000002AAA'"); h != sha("hank@globex.example")+"\n" {
		t.Errorf("email hash %q", h)
	}

	// Importing the same file again creates nothing.
	stats, err = sfrecord.ImportCSV(context.Background(), strings.NewReader(dataLoaderCSV), opportunities.Object, post, sfrecord.ImportOptions{})
	if err != nil || stats != (sfrecord.ImportStats{Rows: 9, Created: 0, Updated: 4, Rejected: 5}) {
		t.Errorf("second import: %+v, %v", stats, err)
	}
	if n := g.Query(t, "SELECT count() FROM opportunities FINAL"); n != "3\n" {
		t.Errorf("%s opportunities, want 3", n)
	}
	bad := opportunities.PostHTTP(g.URL, "wrong-token", nil)
	if _, err := sfrecord.ImportCSV(context.Background(), strings.NewReader(dataLoaderCSV), opportunities.Object, bad, sfrecord.ImportOptions{}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v", err)
	}
}
