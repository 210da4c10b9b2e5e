package calls_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/server/servertest"
	"github.com/calltrail/calltrail/gateway/sfrecord"
	"github.com/calltrail/calltrail/gateway/sfrecord/sftest"
)

// dataLoaderCSV is a Task export as Salesforce Data Loader writes it: a BOM,
// upper-case API names, every value quoted, CRLF line ends.
func dataLoaderCSV(uid string) string {
	lines := []string{
		"\ufeff" + `"ID","WHOID","SUBJECT","TYPE","CALLTYPE","CALLDURATIONINSECONDS","ACTIVITYDATE","CREATEDDATE","BIZIBLE2__BIZIBLEID__C","BIZIBLE2__BIZIBLE_TOUCHPOINT_DATE__C","PHONE","STATUS"`,
		`"00T000000000001AAA","003000000000001AAA","Call","Call","Inbound","95","2024-03-01","2024-03-01T12:12:00.000Z","` + uid + `","2024-03-01T12:10:00.000Z","+31205550101","Completed"`, // 2: good
		`"00T000000000002AAA","","Call","","Inbound","","2024-03-01","2024-03-01T15:00:00.000Z","","","","Completed"`,                                                                        // 3: good, no Type
		`"00T000000000003AAA","","Call","Call","","","","03/01/2024 13:05","","","",""`,                                                                                                      // 4: US date
		`"","","Call","Call","","","","2024-03-01T15:00:00.000Z","","","",""`,                                                                                                                // 5: no Id
		`"00T000000000005AAA","Call","Call"`, // 6: short row
		`"00T000000000001AAA","003000000000001AAA","Call","Phone Call","Inbound","95","2024-03-01","2024-03-01T12:12:00.000Z","` + uid + `","2024-03-01T12:10:00.000Z","+31205550101","Completed"`, // 7: edit of line 2
		`"00T000000000006AAA","","Call","Call","","long","","2024-03-01T15:00:00.000Z","","","",""`,                                                                                                // 8: bad duration
		`"00T000000000007AAA","","Call about the quote` + "\r\n" + `(second line)","Call","Outbound","30","","2024-03-01T16:00:00.000Z","","","",""`,                                               // 9-10: good, two lines
		`"00T000000000008AAA","","Call","Call","","","","","","","",""`,                                                                                                                            // 11: no time
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

func TestImportCSV(t *testing.T) {
	g := startGateway(t, nil)
	uid := uidOf("csv import")
	visit(t, g.Store, site, uid, "csv", page("12:00", adURL, "https://www.google.com/"))

	var progress, rejected bytes.Buffer
	post := calls.PostTasksHTTP(g.URL, servertest.Token, nil)
	stats, err := sfrecord.ImportCSV(context.Background(), strings.NewReader(dataLoaderCSV(uid)), calls.Tasks, post,
		sfrecord.ImportOptions{BatchRows: 3, Progress: &progress, Rejected: &rejected})
	if err != nil {
		t.Fatal(err)
	}
	if want := (sfrecord.ImportStats{Rows: 9, Created: 3, Updated: 1, Rejected: 5}); stats != want {
		t.Errorf("stats %+v, want %+v", stats, want)
	}
	sftest.ImportReport(t, rejected.String(), progress.String(), stats.Rejected, 3,
		"line 4 (Id 00T000000000003AAA): CreatedDate: cannot read \"03/01/2024 13:05\"",
		"line 5: Id is required",
		"line 6: 3 fields, the header has 12",
		"line 8 (Id 00T000000000006AAA): CallDurationInSeconds must be a number of seconds",
		"line 11 (Id 00T000000000008AAA): no call time",
	)

	// The edit on line 7 replaced line 2: one call, merged, typed "Phone Call".
	if got := verdictOf(t, g.Store, "00T000000000001AAA"); got != "merged\tcsv" {
		t.Errorf("imported call: %q", got)
	}
	got := g.Query(t, `SELECT task_type, source, subject, call_duration_s, who_id FROM call_tasks FINAL ORDER BY task_id`)
	want := "Phone Call\tcsv\tCall\t95\t003000000000001AAA\n" +
		"\tcsv\tCall\t\\N\t\n" +
		"Call\tcsv\tCall about the quote\\n(second line)\t30\t\n"
	if got != want {
		t.Errorf("stored tasks\n got %q\nwant %q", got, want)
	}

	// Importing the same file again changes nothing and creates nothing.
	stats, err = sfrecord.ImportCSV(context.Background(), strings.NewReader(dataLoaderCSV(uid)), calls.Tasks, post, sfrecord.ImportOptions{})
	if err != nil || stats != (sfrecord.ImportStats{Rows: 9, Created: 0, Updated: 4, Rejected: 5}) {
		t.Errorf("second import: %+v, %v", stats, err)
	}
	if n := g.Query(t, "SELECT count() FROM call_matches"); n != "3\n" {
		t.Errorf("call_matches has %s calls, want 3", n)
	}

	for name, file := range map[string]string{
		"empty":          "",
		"no Id column":   "Subject,Type\r\nx,Call\r\n",
		"unnamed column": "Id,,Type\r\n",
	} {
		if _, err := sfrecord.ImportCSV(context.Background(), strings.NewReader(file), calls.Tasks, post, sfrecord.ImportOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	bad := calls.PostTasksHTTP(g.URL, "wrong-token", nil)
	if _, err := sfrecord.ImportCSV(context.Background(), strings.NewReader(dataLoaderCSV(uid)), calls.Tasks, bad, sfrecord.ImportOptions{}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v", err)
	}
}

func TestExplainText(t *testing.T) {
	g := startGateway(t, nil)
	uid := uidOf("explain text")
	visit(t, g.Store, site, uid, "s1217", page("12:17", adURL, "https://www.google.com/"))
	task(t, g.Store, callTask(t, "T-text", "Call", uid, "13:05"))

	req, _ := http.NewRequest("GET", g.URL+"/v1/calls/"+url.PathEscape("T-text")+"/explain?tz=Europe/Amsterdam", nil)
	req.Header.Set("Authorization", "Bearer "+servertest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e calls.Explanation
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	var out bytes.Buffer
	if err := e.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"T-text: outside_window",
		"Not merged: the session started at 13:17 and the call came at 14:05, 48 minutes later; sessions count for 30 minutes.",
		"Rule        session_start + 30 min (2 min early allowed)",
		"Call        2024-03-01 14:05:00 CET (from touchpoint_date), Task.Type \"Call\"",
		"Visitor     " + uid + " (from bizible2__BizibleId__c)",
		"Session     s1217 on shop, started 2024-03-01 13:17:00 CET",
		"landing page https://shop.example/offer",
		"campaign spring, channel Paid Search.Google",
		"the call came 48 minutes after the session start",
		"type Call, source CRM Activity, medium Call, channel Other, position LC",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
}
