package calls

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/sfrecord"
)

const testUID = "d1550221138d4214ee7bb31c994d5d9e"

var received = time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)

func testConfig() *Config {
	return &Config{
		CallRailSecrets: []string{"cr-token"},
		CTMSecrets:      []string{"ctm-secret"},
		InvocaTokens:    []string{"inv-token"},
		UIDFields:       []string{"visitor_cookie"},
		Now:             func() time.Time { return received },
	}
}

// deliver signs body as the provider does and receives it.
func deliver(t *testing.T, c *Config, provider, body string) (*Task, error) {
	t.Helper()
	h := map[string]string{}
	d := Delivery{Provider: provider, Body: []byte(body), Header: func(k string) string { return h[k] }}
	switch provider {
	case SourceCallRail:
		h["Signature"] = SignCallRail("cr-token", d.Body)
	case SourceCTM:
		ts := strconv.FormatInt(received.Unix(), 10)
		h["X-CTM-Time"], h["X-CTM-Signature"] = ts, SignCTM("ctm-secret", ts, d.Body)
	case SourceInvoca:
		d.PathToken = "inv-token"
	}
	return c.Receive(d)
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// want is what a parsed call must hold.
type want struct {
	taskID, uid, bizibleID, uidSource string
	start                             time.Time
	duration                          int64
	phone, tracking, callType, subj   string
}

func check(t *testing.T, got *Task, w want) {
	t.Helper()
	if got.TaskID != w.taskID {
		t.Errorf("task_id %q, want %q", got.TaskID, w.taskID)
	}
	if got.UID != w.uid || got.BizibleID != w.bizibleID || got.UIDSource != w.uidSource {
		t.Errorf("visitor id: uid %q bizible_id %q from %q; want %q %q from %q",
			got.UID, got.BizibleID, got.UIDSource, w.uid, w.bizibleID, w.uidSource)
	}
	if !got.CallTime.Equal(w.start) || got.CallTimeFrom != "start_time" {
		t.Errorf("call time %v (%s), want %v from start_time", got.CallTime, got.CallTimeFrom, w.start)
	}
	if got.CallDurationSeconds == nil || *got.CallDurationSeconds != w.duration {
		t.Errorf("duration %v, want %d", got.CallDurationSeconds, w.duration)
	}
	if got.Phone != w.phone || got.TrackingNumber != w.tracking || got.CallType != w.callType {
		t.Errorf("phone %q tracking %q call type %q; want %q %q %q", got.Phone, got.TrackingNumber, got.CallType, w.phone, w.tracking, w.callType)
	}
	if got.Subject != w.subj {
		t.Errorf("subject %q, want %q", got.Subject, w.subj)
	}
	if got.Type != "Call" {
		t.Errorf("Task.Type %q, want the default Call", got.Type)
	}
	if !json.Valid(got.Properties) || len(got.Properties) < 10 {
		t.Errorf("properties %q: the payload is not kept", got.Properties)
	}
	if got.ActivityDate == nil || got.ActivityDate.Format(time.DateOnly) != w.start.Format(time.DateOnly) {
		t.Errorf("ActivityDate %v", got.ActivityDate)
	}
	if got.Version == 0 || !got.ReceivedAt.Equal(received) {
		t.Errorf("version %d, received %v", got.Version, got.ReceivedAt)
	}
}

func TestParseCallRailPublishedSample(t *testing.T) {
	c := testConfig()
	c.CallRailSecrets = []string{"other", callRailVectorKey}
	body := callRailVector(t)
	task, err := c.Receive(Delivery{Provider: SourceCallRail, Body: body,
		Header: func(k string) string { return map[string]string{"Signature": callRailVectorSignature}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	// The sample's custom field is empty: a call with no visitor id.
	check(t, task, want{
		taskID: "callrail:766970532", start: mustTime("2018-02-19T13:41:00.236-05:00"), duration: 13,
		phone: "+12148654559", tracking: "+14045558514", callType: "Inbound",
		subj: "CallRail: inbound call from +12148654559 (Google AdWords)",
	})
	if string(task.Properties) != string(body) {
		t.Error("the published (already compact) body is not kept as sent")
	}
	if task.CreatedDate == nil || !task.CreatedDate.Equal(mustTime("2018-02-19T13:41:00.252-05:00")) {
		t.Errorf("CreatedDate %v, want created_at", task.CreatedDate)
	}
}

// callRail is a realistic post-call body (fields as CallRail's sample, with
// the 2021 resource ids) with the visitor id in `where`.
func callRail(extra string) string {
	return `{"answered":true,"call_type":"inbound","company_id":155920786,"company_resource_id":"COM8154748ae6bd4e278a7cddd38a662f4f",
"created_at":"2024-03-01T13:05:09.252+01:00","customer_phone_number":"+31205550101","direction":"inbound","duration":"95",
"id":766970532,"resource_id":"CAL8154748ae6bd4e278a7cddd38a662f4f","source_name":"Google Ads","start_time":"2024-03-01T13:05:00.236+01:00",
"tracking_phone_number":"+31205550199","utm_source":"google","utm_medium":"cpc","landing_page_url":"https://shop.example/offer",
"tags":[],"voicemail":false` + extra + `}`
}

func TestParseCallRail(t *testing.T) {
	base := want{
		taskID: "callrail:CAL8154748ae6bd4e278a7cddd38a662f4f", start: mustTime("2024-03-01T12:05:00.236Z"), duration: 95,
		phone: "+31205550101", tracking: "+31205550199", callType: "Inbound",
		subj: "CallRail: inbound call from +31205550101 (Google Ads)",
	}
	cases := []struct {
		name, extra, uid, bizibleID, source string
	}{
		{"custom as a query string", `,"custom":"_biz_uid=` + testUID + `&lang=nl"`, testUID, testUID, "custom._biz_uid"},
		{"custom as JSON", `,"custom":"{\"bizible_id\":\"` + testUID + `\"}"`, testUID, testUID, "custom.bizible_id"},
		{"custom as the bare id", `,"custom":"` + testUID + `"`, testUID, testUID, "custom"},
		{"integration_data", `,"custom":"","integration_data":[{"integration":"Webhooks","data":{"_biz_uid":"` + testUID + `"}}]`, testUID, testUID, "integration_data[0].data._biz_uid"},
		{"a configured field name", `,"custom":"visitor_cookie=` + testUID + `"`, testUID, testUID, "custom.visitor_cookie"},
		{"a value that is not a _biz_uid", `,"custom":"_biz_uid=D1550221138D4214EE7BB31C994D5D9E"`, "", "D1550221138D4214EE7BB31C994D5D9E", "custom._biz_uid"},
		{"no visitor id", `,"custom":"","integration_data":[{"integration":"Webhooks","data":null}]`, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task, err := deliver(t, testConfig(), SourceCallRail, callRail(c.extra))
			if err != nil {
				t.Fatal(err)
			}
			w := base
			w.uid, w.bizibleID, w.uidSource = c.uid, c.bizibleID, c.source
			check(t, task, w)
		})
	}
}

// ctm is a call object as CallTrackingMetrics' webhook sends it.
func ctm(extra string) string {
	return `{"id":1234567,"sid":"CAL2F0E4BBA6E0E4CB3A0F1A3D0A2D0C3B4","account_id":54321,"name":"Jan de Vries",
"caller_number":"+31205550101","caller_number_bare":"205550101","tracking_number":"+31205550199","business_number":"+31205550100",
"called_at":"2024-03-01 01:05 PM +01:00","duration":95,"talk_time":80,"ring_time":15,"direction":"inbound",
"source":"Google Ads","likelihood":0.92,"visitor":true,"referrer":"https://www.google.com/","location":"https://shop.example/offer",
"tag_list":["lead"],"audio":"https://app.calltrackingmetrics.com/calls/1234567/audio"` + extra + `}`
}

func TestParseCTM(t *testing.T) {
	base := want{
		taskID: "ctm:1234567", start: mustTime("2024-03-01T12:05:00Z"), duration: 95,
		phone: "+31205550101", tracking: "+31205550199", callType: "Inbound",
		subj: "CallTrackingMetrics: inbound call from +31205550101 (Google Ads)",
	}
	cases := []struct {
		name, extra, uid, bizibleID, source string
		start                               time.Time
	}{
		{"custom_fields, unix_time", `,"unix_time":1709294700,"custom_fields":{"_biz_uid":"` + testUID + `","form":"contact"}`, testUID, testUID, "custom_fields._biz_uid", mustTime("2024-03-01T12:05:00Z")},
		{"called_at only", `,"custom_fields":{"Bizible_ID":"` + testUID + `"}`, testUID, testUID, "custom_fields.Bizible_ID", mustTime("2024-03-01T12:05:00Z")},
		{"no custom fields", `,"unix_time":1709294700,"custom_fields":[]`, "", "", "", mustTime("2024-03-01T12:05:00Z")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task, err := deliver(t, testConfig(), SourceCTM, ctm(c.extra))
			if err != nil {
				t.Fatal(err)
			}
			w := base
			w.uid, w.bizibleID, w.uidSource, w.start = c.uid, c.bizibleID, c.source, c.start
			check(t, task, w)
		})
	}
}

// invoca is a call transaction with Transactions API names.
func invoca(extra string) string {
	return `{"transaction_id":"FE7F3A51-11111111","complete_call_id":"1A2B3C4D-5E6F","transaction_type":"Call",
"start_time_local":"2024-03-01 13:05:00 +01:00","start_time_utc":1709294700000,"duration":95,"connect_duration":80,
"calling_phone_number":"866-555-1234","destination_phone_number":"866-555-9999","virtual_line_id":"8665550000",
"call_source_description":"Paid Search","advertiser_campaign_name":"Spring","city":"Amsterdam","region":"NH",
"mobile":"Mobile","recording":"https://invoca.net/r/1"` + extra + `}`
}

func TestParseInvoca(t *testing.T) {
	base := want{
		taskID: "invoca:1A2B3C4D-5E6F", start: mustTime("2024-03-01T12:05:00Z"), duration: 95,
		phone: "866-555-1234", tracking: "8665550000", callType: "Inbound",
		subj: "Invoca: inbound call from 866-555-1234 (Paid Search)",
	}
	cases := []struct {
		name, extra, uid, bizibleID, source string
	}{
		{"custom_data from a RingPool cookie", `,"custom_data":[{"name":"utm_medium","data_type":"Category","source":"DynamicAttribution","value":"cpc"},{"name":"_biz_uid","data_type":"Short Text","source":"DynamicAttribution","value":"` + testUID + `"}]`, testUID, testUID, "custom_data[1][_biz_uid]"},
		{"custom_data with partner_name", `,"custom_data":[{"partner_name":"bizible_id","data_type":"Short Text","value":"` + testUID + `"}]`, testUID, testUID, "custom_data[0][bizible_id]"},
		{"a top-level marketing data column", `,"_biz_uid":"` + testUID + `","gclid":null`, testUID, testUID, "_biz_uid"},
		{"no visitor id", `,"custom_data":[]`, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task, err := deliver(t, testConfig(), SourceInvoca, invoca(c.extra))
			if err != nil {
				t.Fatal(err)
			}
			w := base
			w.uid, w.bizibleID, w.uidSource = c.uid, c.bizibleID, c.source
			check(t, task, w)
		})
	}

	// A correction without complete_call_id replaces the original
	// transaction; a Signal transaction is not a call.
	corr := `{"transaction_id":"AA-2","corrects_transaction_id":"FE7F3A51-11111111","start_time_utc":"1709294700000","duration":"95"}`
	if task, err := deliver(t, testConfig(), SourceInvoca, corr); err != nil || task.TaskID != "invoca:FE7F3A51-11111111" {
		t.Errorf("correction: %v, %v", task, err)
	}
	sig := `{"transaction_id":"AA-3","complete_call_id":"1A2B3C4D-5E6F","transaction_type":"Signal","start_time_utc":1709294700000}`
	if _, err := deliver(t, testConfig(), SourceInvoca, sig); !errors.Is(err, ErrNotACall) {
		t.Errorf("signal transaction: %v, want ErrNotACall", err)
	}
	// The token may come in a header instead of the path.
	task, err := testConfig().Receive(Delivery{Provider: SourceInvoca, Body: []byte(invoca("")),
		Header: func(k string) string { return map[string]string{"X-Invoca-Token": "inv-token"}[k] }})
	if err != nil || task.TaskID != base.taskID {
		t.Errorf("token in a header: %v, %v", task, err)
	}
}

// Every malformed delivery (validly signed) is a 400 with a reason: never a
// panic, never a Task.
func TestMalformedDeliveries(t *testing.T) {
	cases := []struct {
		provider, name, body, reason string
	}{
		{SourceCallRail, "not JSON", `{"resource_id":`, "not valid JSON"},
		{SourceCallRail, "an array", `[{"id":1}]`, "must be a JSON object"},
		{SourceCallRail, "trailing garbage", `{"id":1,"start_time":"2024-03-01T12:00:00Z"} {}`, "not valid JSON"},
		{SourceCallRail, "no id", `{"start_time":"2024-03-01T12:00:00Z"}`, "no call id"},
		{SourceCallRail, "id is an object", `{"id":{"x":1},"start_time":"2024-03-01T12:00:00Z"}`, "id must be a string or a whole number"},
		{SourceCallRail, "id is a fraction", `{"id":1.5,"start_time":"2024-03-01T12:00:00Z"}`, "id must be a string or a whole number"},
		{SourceCallRail, "id with a slash", `{"resource_id":"CAL/1","start_time":"2024-03-01T12:00:00Z"}`, "must not contain"},
		{SourceCallRail, "no time", `{"id":1}`, "no call time"},
		{SourceCallRail, "start_time is a boolean", `{"id":1,"start_time":true}`, "start_time must be a string"},
		{SourceCallRail, "start_time unreadable", `{"id":1,"start_time":"yesterday"}`, "cannot read"},
		{SourceCallRail, "duration not a number", `{"id":1,"start_time":"2024-03-01T12:00:00Z","duration":"long"}`, "duration must be a number"},
		{SourceCallRail, "custom is a number", `{"id":1,"start_time":"2024-03-01T12:00:00Z","custom":5}`, "custom must be"},
		{SourceCallRail, "integration_data is a string", `{"id":1,"start_time":"2024-03-01T12:00:00Z","integration_data":"x"}`, "integration_data must be"},
		{SourceCTM, "empty body", ``, "not valid JSON"},
		{SourceCTM, "no id", `{"unix_time":1709294700}`, "no call id"},
		{SourceCTM, "no time", `{"id":1}`, "no call time"},
		{SourceCTM, "unix_time is text", `{"id":1,"unix_time":"noon"}`, "unix_time must be a Unix time"},
		{SourceCTM, "custom_fields is a string", `{"id":1,"unix_time":1709294700,"custom_fields":"x"}`, "custom_fields must be an object"},
		{SourceCTM, "phone is an object", `{"id":1,"unix_time":1709294700,"caller_number":{}}`, "caller_number must be a string"},
		{SourceInvoca, "null", `null`, "must be a JSON object"},
		{SourceInvoca, "no id", `{"start_time_utc":1709294700000}`, "no call id"},
		{SourceInvoca, "no time", `{"transaction_id":"A-1"}`, "no call time"},
		{SourceInvoca, "start_time_utc negative", `{"transaction_id":"A-1","start_time_utc":-5}`, "start_time_utc must be a Unix time"},
		{SourceInvoca, "custom_data is a number", `{"transaction_id":"A-1","start_time_utc":1709294700000,"custom_data":3}`, "custom_data must be"},
		{SourceInvoca, "corrected_at not a time", `{"transaction_id":"A-1","start_time_utc":1709294700000,"corrected_at":"yesterday"}`, "corrected_at: cannot read"},
		{SourceInvoca, "transaction_type is a list", `{"transaction_id":"A-1","start_time_utc":1709294700000,"transaction_type":[]}`, "transaction_type must be a string"},
	}
	for _, c := range cases {
		t.Run(c.provider+" "+c.name, func(t *testing.T) {
			task, err := deliver(t, testConfig(), c.provider, c.body)
			var bad *sfrecord.BadRecord
			if !errors.As(err, &bad) || task != nil {
				t.Fatalf("got task %v, error %v; want a BadRecord", task, err)
			}
			if !strings.Contains(bad.Reason, c.reason) {
				t.Errorf("reason %q does not say %q", bad.Reason, c.reason)
			}
		})
	}

	// Every prefix of a real payload: an error or a Task, never a panic.
	full := callRail(`,"custom":"_biz_uid=` + testUID + `"`)
	for i := 0; i < len(full); i++ {
		for _, p := range Providers {
			_, _ = deliver(t, testConfig(), p, full[:i])
		}
	}
}

func TestReceiveRefusesUnsignedAndUnknown(t *testing.T) {
	body := []byte(callRail(""))
	c := testConfig()
	for _, d := range []Delivery{
		{Provider: SourceCallRail, Body: body},
		{Provider: SourceCTM, Body: body},
		{Provider: SourceInvoca, Body: body},
		{Provider: SourceInvoca, Body: body, PathToken: "guess"},
	} {
		_, err := c.Receive(d)
		var auth *AuthError
		if !errors.As(err, &auth) {
			t.Errorf("%s without a valid signature: %v, want an AuthError", d.Provider, err)
		}
	}
	var none Config
	for _, p := range Providers {
		_, err := none.Receive(Delivery{Provider: p, Body: body, PathToken: "x"})
		if !errors.Is(err, ErrNoSecret) {
			t.Errorf("%s with no secret configured: %v, want ErrNoSecret", p, err)
		}
	}
	if _, err := c.Receive(Delivery{Provider: "dialogtech", Body: body}); !errors.Is(err, ErrUnknownProvider) {
		t.Errorf("unknown provider: %v", err)
	}
}

func TestTaskTypeIsConfigurable(t *testing.T) {
	c := testConfig()
	c.TaskType = "Inbound Call"
	task, err := deliver(t, c, SourceCTM, ctm(`,"unix_time":1709294700`))
	if err != nil || task.Type != "Inbound Call" {
		t.Fatalf("%v, %v", task, err)
	}
}
