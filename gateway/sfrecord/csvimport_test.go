package sfrecord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/calltrail/calltrail/gateway/sfrecord/sftest"
)

// fakeGateway answers batches the way a records endpoint does: a record
// without an Id, or with Reject set, is rejected; an Id seen before counts
// as updated.
type fakeGateway struct {
	seen    map[string]bool
	batches [][]map[string]string
}

func (g *fakeGateway) post(_ context.Context, batch []byte) (Answer, error) {
	var recs []map[string]string
	if err := json.Unmarshal(batch, &recs); err != nil {
		return Answer{}, err
	}
	g.batches = append(g.batches, recs)
	a := Answer{Rejected: []Rejection{}}
	for i, r := range recs {
		id := r["ID"]
		switch {
		case id == "":
			a.Rejected = append(a.Rejected, Rejection{Index: i, Reason: "Id is required"})
		case r["REJECT"] != "":
			a.Rejected = append(a.Rejected, Rejection{Index: i, ID: id, Reason: r["REJECT"]})
		case g.seen[id]:
			a.Accepted++
			a.Updated++
		default:
			g.seen[id] = true
			a.Accepted++
			a.Created++
		}
	}
	return a, nil
}

func TestImportCSVRowsBatchesAndReasons(t *testing.T) {
	file := "\ufeff" + strings.Join([]string{
		`"ID","NAME","REJECT"`,
		`"A1","one",""`,                        // 2
		`"","no id",""`,                        // 3
		`"A2","two","Amount must be a number"`, // 4
		`"A3","short"`,                         // 5
		`"A1","one again",""`,                  // 6
		`"A4","two` + "\r\n" + `lines",""`,     // 7-8
		`"A5","bad "quote",""`,                 // 9
		`"A6","",""`,                           // 10
	}, "\r\n") + "\r\n"
	g := &fakeGateway{seen: map[string]bool{}}
	var progress, rejected bytes.Buffer
	st, err := ImportCSV(context.Background(), strings.NewReader(file), testObject, g.post,
		ImportOptions{BatchRows: 2, Progress: &progress, Rejected: &rejected})
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImportStats{Rows: 8, Created: 3, Updated: 1, Rejected: 4}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	// A row the CSV reader refuses is reported at once; one the gateway
	// refuses when its batch comes back.
	sftest.ImportReport(t, rejected.String(), progress.String(), st.Rejected, len(g.batches),
		"line 3: Id is required\n",
		"line 4 (Id A2): Amount must be a number\n",
		"line 5: 2 fields, the header has 3\n",
		"line 9: not valid CSV: ",
	)
	if len(g.batches) != 3 {
		t.Errorf("%d batches, want 3", len(g.batches))
	}
	if !strings.HasPrefix(progress.String(), "2 rows read: 1 imported, 0 updated, 1 rejected\n") {
		t.Errorf("progress:\n%s", progress.String())
	}
	// Empty cells are left out, as not set; the header's spelling is kept.
	if r := g.batches[2][1]; len(r) != 1 || r["ID"] != "A6" {
		t.Errorf("row of line 10 sent as %v", r)
	}
	if r := g.batches[2][0]; r["NAME"] != "two\nlines" {
		t.Errorf("a quoted line break is kept: %q", r["NAME"])
	}
}

// A row broken in its first field leaves the CSV reader with no field to
// place: it is rejected with its line like any other, the import goes on.
func TestImportCSVRowBrokenInItsFirstField(t *testing.T) {
	file := "ID,NAME\r\n\"A\"x,one\r\nB,two\r\n"
	g := &fakeGateway{seen: map[string]bool{}}
	var rejected bytes.Buffer
	st, err := ImportCSV(context.Background(), strings.NewReader(file), testObject, g.post, ImportOptions{Rejected: &rejected})
	if err != nil || st != (ImportStats{Rows: 2, Created: 1, Rejected: 1}) {
		t.Errorf("%+v %v", st, err)
	}
	if !strings.HasPrefix(rejected.String(), "line 2: not valid CSV: ") {
		t.Errorf("rejected: %s", rejected.String())
	}
}

func TestImportCSVRefusesFilesWithoutRecords(t *testing.T) {
	g := &fakeGateway{seen: map[string]bool{}}
	for name, c := range map[string]struct{ file, want string }{
		"empty":          {"", "the file is empty: expected a header row of Salesforce Opportunity field names (Id, Amount, …)"},
		"no Id column":   {"Name,Amount\r\nx,1\r\n", "no Id column (a Salesforce Data Loader export of Opportunity records has one)"},
		"unnamed column": {"Id,,Amount\r\n", "column 2 has no name"},
	} {
		_, err := ImportCSV(context.Background(), strings.NewReader(c.file), testObject, g.post, ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	if len(g.batches) != 0 {
		t.Errorf("%d batches sent", len(g.batches))
	}
}

func TestImportCSVStopsAtAFailedBatch(t *testing.T) {
	file := "Id\r\nA\r\nB\r\nC\r\n"
	calls := 0
	post := func(context.Context, []byte) (Answer, error) {
		calls++
		if calls == 2 {
			return Answer{}, errors.New("503 Service Unavailable")
		}
		return Answer{Accepted: 1, Created: 1}, nil
	}
	st, err := ImportCSV(context.Background(), strings.NewReader(file), testObject, post, ImportOptions{BatchRows: 1})
	if err == nil || !strings.Contains(err.Error(), "rows on lines 3 to 3: 503") {
		t.Errorf("error %v", err)
	}
	if st.Created != 1 || st.Rows != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestImportCSVBoundsRowSize(t *testing.T) {
	file := "ID,NAME\r\nA," + strings.Repeat("x", 300) + "\r\nB,b\r\n"
	g := &fakeGateway{seen: map[string]bool{}}
	var rejected bytes.Buffer
	st, err := ImportCSV(context.Background(), strings.NewReader(file), testObject, g.post, ImportOptions{BatchBytes: 200, Rejected: &rejected})
	if err != nil || st.Created != 1 || st.Rejected != 1 {
		t.Fatalf("%+v %v", st, err)
	}
	if !strings.HasPrefix(rejected.String(), "line 2 (Id A): the row is ") {
		t.Errorf("rejected: %s", rejected.String())
	}
}

// No request is larger than BatchBytes (the gateway refuses a larger one
// unread): a batch is sent before the row that would take it past.
func TestImportCSVBatchesStayWithinBatchBytes(t *testing.T) {
	var file strings.Builder
	file.WriteString("ID,NAME\r\n")
	for i := range 20 {
		fmt.Fprintf(&file, "A%d,%s\r\n", i, strings.Repeat("x", 100))
	}
	g := &fakeGateway{seen: map[string]bool{}}
	var sizes []int
	post := func(ctx context.Context, batch []byte) (Answer, error) {
		sizes = append(sizes, len(batch))
		return g.post(ctx, batch)
	}
	const limit = 400 // three rows of ~120 bytes
	st, err := ImportCSV(context.Background(), strings.NewReader(file.String()), testObject, post, ImportOptions{BatchBytes: limit})
	if err != nil || st.Created != 20 || st.Rejected != 0 {
		t.Fatalf("%+v %v", st, err)
	}
	for i, n := range sizes {
		if n > limit {
			t.Errorf("request %d is %d bytes, over BatchBytes %d", i, n, limit)
		}
	}
	if len(sizes) != 7 {
		t.Errorf("%d requests %v, want 7 of at most 3 rows", len(sizes), sizes)
	}
}

func TestPostHTTP(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Header.Get("Authorization") != "Bearer tok":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"missing or wrong token"}`)
		case r.URL.String() != "/v1/opportunities?source=csv" || r.Method != http.MethodPost:
			w.WriteHeader(http.StatusNotFound)
		case n == 1: // the first attempt meets a draining gateway
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":"draining"}`)
		case string(body) == `[{"Id":"broken"}]`:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"the body is not valid JSON","accepted":0,"rejected":[]}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"accepted":1,"created":1,"updated":0,"rejected":[{"index":1,"id":"B","reason":"Amount must be a number"}]}`)
		}
	}))
	defer srv.Close()

	post := PostHTTP(srv.URL+"/", "/v1/opportunities?source=csv", "tok", nil)
	a, err := post(context.Background(), []byte(`[{"Id":"A"},{"Id":"B"}]`))
	if err != nil || a.Created != 1 || len(a.Rejected) != 1 || a.Rejected[0].Reason != "Amount must be a number" {
		t.Errorf("answer %+v %v", a, err)
	}
	if hits.Load() != 2 {
		t.Errorf("%d requests, want a retry after the 503", hits.Load())
	}
	if _, err := post(context.Background(), []byte(`[{"Id":"broken"}]`)); err == nil || err.Error() != "the body is not valid JSON" {
		t.Errorf("an error about the whole batch: %v", err)
	}
	bad := PostHTTP(srv.URL, "/v1/opportunities?source=csv", "wrong", nil)
	if _, err := bad(context.Background(), []byte(`[]`)); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v", err)
	}
}
