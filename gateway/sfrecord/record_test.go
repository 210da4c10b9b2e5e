package sfrecord

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// rec decodes a JSON object the way records arrive (numbers as json.Number).
func rec(t *testing.T, s string) Record {
	t.Helper()
	var m map[string]any
	if err := DecodeJSON([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

// wantErr checks that err is a BadRecord whose reason says want ("" for no
// error).
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var bad *BadRecord
	if !errors.As(err, &bad) {
		t.Fatalf("error %v, want a BadRecord saying %q", err, want)
	}
	if !strings.Contains(bad.Reason, want) {
		t.Errorf("reason %q does not say %q", bad.Reason, want)
	}
}

func TestTextGetters(t *testing.T) {
	r := rec(t, `{"s":"  a b ","n":12.5,"i":42,"f":1.5,"b":true,"o":{},"a":[],"z":null}`)
	cases := []struct {
		get       func(string) (string, error)
		name, key string
		want, err string
	}{
		{r.Str, "Str", "s", "a b", ""},
		{r.Str, "Str", "n", "12.5", ""},
		{r.Str, "Str", "missing", "", ""},
		{r.Str, "Str", "z", "", ""},
		{r.Str, "Str", "b", "", "b must be a string, got a boolean"},
		{r.Str, "Str", "o", "", "o must be a string, got an object"},
		{r.Strict, "Strict", "s", "a b", ""},
		{r.Strict, "Strict", "n", "", "n must be a string, got a number"},
		{r.Strict, "Strict", "a", "", "a must be a string, got an array"},
		{r.Strict, "Strict", "z", "", ""},
		{r.ID, "ID", "s", "a b", ""},
		{r.ID, "ID", "i", "42", ""},
		{r.ID, "ID", "f", "", "f must be a string or a whole number, got 1.5"},
		{r.ID, "ID", "b", "", "b must be a string or a whole number, got a boolean"},
	}
	for _, c := range cases {
		got, err := c.get(c.key)
		wantErr(t, err, c.err)
		if got != c.want {
			t.Errorf("%s(%s) = %q, want %q", c.name, c.key, got, c.want)
		}
	}
}

func TestSeconds(t *testing.T) {
	for _, c := range []struct {
		body string
		want int64 // -1: nil
		err  string
	}{
		{`{"d":95}`, 95, ""},
		{`{"d":"13"}`, 13, ""},
		{`{"d":" 2.6 "}`, 3, ""},
		{`{"d":""}`, -1, ""},
		{`{"d":null}`, -1, ""},
		{`{}`, -1, ""},
		{`{"d":"long"}`, 0, `d must be a number of seconds, got "long"`},
		{`{"d":-1}`, 0, "d must be a number of seconds"},
		{`{"d":2e9}`, 0, "d must be a number of seconds"},
		{`{"d":true}`, 0, "d must be a number of seconds, got a boolean"},
	} {
		got, err := rec(t, c.body).Seconds("d")
		wantErr(t, err, c.err)
		switch {
		case c.err != "":
		case c.want < 0 && got != nil:
			t.Errorf("%s: %d, want nil", c.body, *got)
		case c.want >= 0 && (got == nil || *got != c.want):
			t.Errorf("%s: %v, want %d", c.body, got, c.want)
		}
	}
}

func TestEpoch(t *testing.T) {
	want := time.Date(2024, 3, 1, 12, 5, 0, 0, time.UTC)
	for _, c := range []struct {
		body  string
		scale int64
		err   string
	}{
		{`{"t":1709294700}`, 1, ""},
		{`{"t":"1709294700"}`, 1, ""},
		{`{"t":1709294700000}`, 1000, ""},
		{`{"t":-5}`, 1000, "t must be a Unix time"},
		{`{"t":"soon"}`, 1, `t must be a Unix time, got "soon"`},
		{`{"t":[]}`, 1, "t must be a Unix time, got an array"},
		// Seconds sent where milliseconds are expected, and the reverse: a
		// 400 that names the field, not a 1970 call or a failed insert.
		{`{"t":1709294700}`, 1000, `t "1709294700" is not a plausible date`},
		{`{"t":1709294700000}`, 1, `t "1709294700000" is not a plausible date`},
		{`{"t":99999999999}`, 1, "is not a plausible date"},
	} {
		got, err := rec(t, c.body).Epoch("t", c.scale)
		wantErr(t, err, c.err)
		if c.err == "" && (got == nil || !got.Equal(want)) {
			t.Errorf("%s: %v, want %v", c.body, got, want)
		}
	}
	if got, err := rec(t, `{"t":""}`).Epoch("t", 1); got != nil || err != nil {
		t.Errorf(`"": %v %v, want nil`, got, err)
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"2024-03-01T12:05:00Z", "2024-03-01T12:05:00Z"},
		{"2024-03-01T12:05:00.236-05:00", "2024-03-01T17:05:00.236Z"},
		{"2024-03-01T12:05:00.000+0000", "2024-03-01T12:05:00Z"}, // Salesforce
		{"2019-01-24 06:43:15 -07:00", "2019-01-24T13:43:15Z"},   // Invoca
		{"2016-03-18 11:43 AM -04:00", "2016-03-18T15:43:00Z"},   // CTM
		{"2016-03-18 11:43 PM", "2016-03-18T23:43:00Z"},
		{"2024-03-01T12:05:00", "2024-03-01T12:05:00Z"}, // no zone: UTC
		{"2024-03-01 12:05:00.5", "2024-03-01T12:05:00.5Z"},
		{"2024-03-01 12:05", "2024-03-01T12:05:00Z"},
		{"2024-03-01", "2024-03-01T00:00:00Z"},
	} {
		got, err := ParseTime("CreatedDate", c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != c.want {
			t.Errorf("%q: %s, want %s", c.in, s, c.want)
		}
	}
	for in, want := range map[string]string{
		"03/01/2024 13:05":     `CreatedDate: cannot read "03/01/2024 13:05" as an ISO 8601 date-time`,
		"yesterday":            "cannot read",
		"1970-01-01T00:00:00Z": "is not a plausible date",
		"2999-01-01":           "is not a plausible date",
	} {
		_, err := ParseTime("CreatedDate", in)
		wantErr(t, err, want)
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{
		"2024-03-01":                   "2024-03-01",
		"2024-03-01T23:30:00.000+0000": "2024-03-01",
		"2024-03-01T23:30:00.000-0500": "2024-03-02", // the date in UTC
		"2024-03-01 08:00":             "2024-03-01",
	} {
		got, err := ParseDate("CloseDate", in)
		if err != nil || got.Format(time.RFC3339) != want+"T00:00:00Z" {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	if _, err := ParseDate("CloseDate", "9999-12-31"); err == nil || !strings.Contains(err.Error(), "not a plausible date") {
		t.Errorf("9999-12-31: %v, want not a plausible date", err)
	}
	_, err := ParseDate("CloseDate", "1 March")
	wantErr(t, err, `CloseDate: cannot read "1 March" as a date (e.g. 2024-03-01)`)
}

func TestCheckID(t *testing.T) {
	for id, want := range map[string]string{
		"00T5g00000AbCdEAAV":     "",
		"callrail:CAL123":        "",
		"":                       "Id is required",
		strings.Repeat("x", 256): "longer than 255",
		"a/b":                    "must not contain",
		"a?b":                    "must not contain",
		"a%2F":                   "must not contain",
		"a\nb":                   "must not contain",
		strings.Repeat("x", 255): "",
	} {
		wantErr(t, CheckID("Id", id), want)
	}
}

var testFields = NewFields("Type", "CreatedDate")

func TestFieldsSplit(t *testing.T) {
	known, others, err := testFields.Split(map[string]any{
		"ID": "T1", "type": "Call", "CREATEDDATE": " ", "Status": "Completed", "Custom__c": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	if known["Id"] != "T1" || known["Type"] != "Call" {
		t.Errorf("known fields under their canonical names: %v", known)
	}
	if v, ok := known["CreatedDate"]; !ok || v != nil {
		t.Errorf("a blank value is not set: %v", known)
	}
	if len(others) != 2 || others["Status"] != "Completed" || others["Custom__c"] != "" {
		t.Errorf("other fields are kept as given: %v", others)
	}
	_, _, err = testFields.Split(map[string]any{"Type": "Call", "TYPE": "Email"})
	wantErr(t, err, "field Type appears twice")
}

func TestRecordIDAndVersion(t *testing.T) {
	for body, want := range map[string]string{
		`{"Id":" T1 "}`: "",
		`{"Id":42}`:     "Id must be a string, got a number",
		`{}`:            "Id is required",
		`{"Id":""}`:     "Id is required",
		`{"Id":"a/b"}`:  "must not contain",
	} {
		_, err := rec(t, body).RecordID()
		wantErr(t, err, want)
	}
	if id, _ := rec(t, `{"Id":" T1 "}`).RecordID(); id != "T1" {
		t.Errorf("Id %q, want it trimmed", id)
	}

	received := time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)
	for body, want := range map[string]time.Time{
		`{}`: received,
		`{"LastModifiedDate":"2024-03-01T10:00:00Z","SystemModstamp":"2024-03-01T11:00:00Z"}`: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
		`{"SystemModstamp":"2024-03-01T11:00:00.000+0000"}`:                                   time.Date(2024, 3, 1, 11, 0, 0, 0, time.UTC),
	} {
		v, err := rec(t, body).Version(received)
		if err != nil || v != VersionOf(want) {
			t.Errorf("%s: version %d %v, want %d", body, v, err, VersionOf(want))
		}
	}
	_, err := rec(t, `{"LastModifiedDate":"now"}`).Version(received)
	wantErr(t, err, "LastModifiedDate: cannot read")
	if VersionOf(time.Unix(0, 0)) != 0 || VersionOf(received) <= VersionOf(received.Add(-time.Nanosecond)) {
		t.Error("VersionOf: later must be larger, and nothing before 1970")
	}
}

var testObject = Object{Name: "Opportunity", Example: "Id, Amount"}

func TestDecodeRecords(t *testing.T) {
	for body, want := range map[string]int{
		`{"Id":"a"}`:              1,
		` [ {"Id":"a"}, 3, {} ] `: 3,
		`[]`:                      0,
	} {
		recs, err := DecodeRecords([]byte(body), testObject)
		if err != nil || len(recs) != want {
			t.Errorf("%s: %d records, %v; want %d", body, len(recs), err, want)
		}
	}
	for body, want := range map[string]string{
		``:          "the body is empty: send an Opportunity object or an array of them",
		`Id,Amount`: "the body must be a JSON object or an array of objects (Salesforce Opportunity records)",
		`{"Id":`:    "the body is not valid JSON",
		`[1,`:       "the body is not valid JSON",
	} {
		_, err := DecodeRecords([]byte(body), testObject)
		wantErr(t, err, want)
	}
	_, err := DecodeRecords(nil, Object{Name: "Task"})
	wantErr(t, err, "send a Task object")
}

func TestParseRecords(t *testing.T) {
	recs, err := DecodeRecords([]byte(`[{"Id":"a"},"x",{"id":"`+strings.Repeat("b", 70)+`","bad":1},{"Id":"c"},null,{"Id":"d"} ]`), testObject)
	if err != nil {
		t.Fatal(err)
	}
	got, rejected := ParseRecords(recs, testObject, func(m map[string]any) (string, error) {
		if _, ok := m["bad"]; ok {
			return "", Badf("bad is not allowed")
		}
		return Record(m).RecordID()
	})
	if strings.Join(got, ",") != "a,c,d" {
		t.Errorf("parsed %v", got)
	}
	want := []Rejection{
		{Index: 1, Reason: "each record must be a JSON object with Salesforce Opportunity fields"},
		{Index: 2, ID: strings.Repeat("b", 64) + "…", Reason: "bad is not allowed"},
		{Index: 4, Reason: "each record must be a JSON object with Salesforce Opportunity fields"},
	}
	if len(rejected) != len(want) {
		t.Fatalf("rejected %+v", rejected)
	}
	for i := range want {
		if rejected[i] != want[i] {
			t.Errorf("rejection %d: %+v, want %+v", i, rejected[i], want[i])
		}
	}
}

func TestPropertiesAndAnswer(t *testing.T) {
	if p, err := Properties(nil); p != nil || err != nil {
		t.Errorf("no other fields: %s %v", p, err)
	}
	if p, _ := Properties(map[string]any{"Status": "Completed"}); string(p) != `{"Status":"Completed"}` {
		t.Errorf("properties %s", p)
	}
	// The answer of a stored batch has no error field.
	b, _ := json.Marshal(Answer{Accepted: 1, Created: 1, Rejected: []Rejection{}})
	if string(b) != `{"accepted":1,"created":1,"updated":0,"rejected":[]}` {
		t.Errorf("answer %s", b)
	}
}

func TestBool(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		body string
		want *bool
		err  string
	}{
		{`{"b":true}`, &yes, ""},
		{`{"b":false}`, &no, ""},
		{`{"b":"true"}`, &yes, ""},
		{`{"b":"TRUE"}`, &yes, ""}, // Data Loader writes upper or lower case
		{`{"b":" False "}`, &no, ""},
		{`{"b":"1"}`, &yes, ""},
		{`{"b":"0"}`, &no, ""},
		{`{"b":1}`, &yes, ""},
		{`{"b":0}`, &no, ""},
		{`{"b":""}`, nil, ""},
		{`{"b":null}`, nil, ""},
		{`{}`, nil, ""},
		{`{"b":"yes"}`, nil, `b must be true or false (or 1 / 0), got "yes"`},
		{`{"b":2}`, nil, `b must be true or false (or 1 / 0), got "2"`},
		{`{"b":[]}`, nil, "b must be true or false, got an array"},
	} {
		got, err := rec(t, c.body).Bool("b")
		wantErr(t, err, c.err)
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%s: %v, want %v", c.body, got, c.want)
		}
	}
}

func TestAmount(t *testing.T) {
	for _, c := range []struct {
		body string
		want float64
		err  string
	}{
		{`{"a":1250.5}`, 1250.5, ""},
		{`{"a":0}`, 0, ""},
		{`{"a":"1250.50"}`, 1250.5, ""},
		{`{"a":" 40000 "}`, 40000, ""},
		{`{"a":"1e3"}`, 1000, ""},
		{`{"a":""}`, 0, ""},
		{`{"a":null}`, 0, ""},
		{`{}`, 0, ""},
		{`{"a":-5}`, 0, "a must be 0 or more, got -5"},
		{`{"a":"-0.01"}`, 0, "a must be 0 or more"},
		{`{"a":"1,000"}`, 0, `a must be a number such as 1250.50, got "1,000"`},
		{`{"a":"$100"}`, 0, "a must be a number"},
		{`{"a":"NaN"}`, 0, "a must be a number"},
		{`{"a":"Inf"}`, 0, "a must be a number"},
		{`{"a":"0x10"}`, 0, "a must be a number"},
		{`{"a":1e999}`, 0, "a must be a number"},
		{`{"a":true}`, 0, "a must be a number, got a boolean"},
	} {
		got, err := rec(t, c.body).Amount("a")
		wantErr(t, err, c.err)
		if got != c.want {
			t.Errorf("%s: %v, want %v", c.body, got, c.want)
		}
	}
}

func TestDate(t *testing.T) {
	got, err := rec(t, `{"d":"2024-03-31"}`).Date("d")
	if err != nil || got.Format(time.RFC3339) != "2024-03-31T00:00:00Z" {
		t.Errorf("%v %v", got, err)
	}
	if got, err := rec(t, `{"d":""}`).Date("d"); got != nil || err != nil {
		t.Errorf(`"": %v %v`, got, err)
	}
	_, err = rec(t, `{"d":20240331}`).Date("d")
	wantErr(t, err, "d must be a string, got a number")
	_, err = rec(t, `{"d":"31/03/2024"}`).Date("d")
	wantErr(t, err, `d: cannot read "31/03/2024" as a date`)
}
