package calls_test

import (
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/server"
	"github.com/calltrail/calltrail/gateway/server/servertest"
	"github.com/calltrail/calltrail/gateway/sfrecord/sftest"
)

// CallRail's published sample and the company token that signs it.
const (
	vectorKey       = "072e77e426f92738a72fe23c4d1953b4"
	vectorSignature = "UZAHbUdfm3GqL7qzilGozGzWV64="
)

func startGateway(t *testing.T, configure func(*calls.Config)) *servertest.Gateway {
	t.Helper()
	return servertest.StartWith(t, func(c *server.Config) {
		c.Calls = calls.Config{
			CallRailSecrets: []string{"old-token", vectorKey},
			CTMSecrets:      []string{"ctm-secret"},
			InvocaTokens:    []string{"inv-token"},
		}
		if configure != nil {
			configure(&c.Calls)
		}
	})
}

func storedCalls(t *testing.T, g *servertest.Gateway) string {
	t.Helper()
	return strings.TrimSpace(g.Query(t, "SELECT count() FROM call_tasks"))
}

func ctmHeaders(secret string, at time.Time, body string) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return map[string]string{"X-CTM-Time": ts, "X-CTM-Signature": calls.SignCTM(secret, ts, []byte(body))}
}

func TestProviderWebhooksOverHTTP(t *testing.T) {
	g := startGateway(t, nil)
	uid := uidOf("webhook visitor")

	// CallRail's published sample, signed by CallRail: stored, with no
	// visitor id (its custom field is empty).
	vector, err := os.ReadFile("testdata/callrail-post-call-vector.json")
	if err != nil {
		t.Fatal(err)
	}
	code, ans := g.JSON(t, "POST", "/v1/calls/callrail", map[string]string{"Signature": vectorSignature}, string(vector))
	if code != 200 || ans["task_id"] != "callrail:766970532" || ans["status"] != "created" || ans["warning"] == nil {
		t.Fatalf("published sample: %d %v", code, ans)
	}
	// Redelivered: the same one call.
	code, ans = g.JSON(t, "POST", "/v1/calls/callrail", map[string]string{"Signature": vectorSignature}, string(vector))
	if code != 200 || ans["status"] != "updated" {
		t.Fatalf("redelivery: %d %v", code, ans)
	}

	// A post-call without the visitor id, then "call modified" with it:
	// latest wins, one call.
	visit(t, g.Store, site, uid, "wh", page("12:00", adURL, "https://www.google.com/"))
	post := `{"resource_id":"CALaaaa4748ae6bd4e278a7cddd38a662f4f","start_time":"2024-03-01T13:10:00.000+01:00","duration":"40","direction":"inbound","customer_phone_number":"+31205550101","custom":""}`
	modified := strings.Replace(post, `"custom":""`, `"custom":"_biz_uid=`+uid+`"`, 1)
	for i, body := range []string{post, modified} {
		code, ans = g.JSON(t, "POST", "/v1/calls/callrail", map[string]string{"Signature": calls.SignCallRail("old-token", []byte(body))}, body)
		if code != 200 || ans["status"] != []string{"created", "updated"}[i] {
			t.Fatalf("CallRail delivery %d: %d %v", i, code, ans)
		}
	}
	if got := verdictOf(t, g.Store, "callrail:CALaaaa4748ae6bd4e278a7cddd38a662f4f"); got != "merged\twh" {
		t.Errorf("after call modified: %q, want merged", got)
	}

	// CallTrackingMetrics, signed now.
	ctmBody := `{"id":98765,"unix_time":` + strconv.FormatInt(at(t, "12:20").Unix(), 10) + `,"duration":61,"direction":"inbound","caller_number":"+31205550102","custom_fields":{"_biz_uid":"` + uid + `"}}`
	code, ans = g.JSON(t, "POST", "/v1/calls/ctm", ctmHeaders("ctm-secret", time.Now(), ctmBody), ctmBody)
	if code != 200 || ans["task_id"] != "ctm:98765" || ans["uid"] != uid {
		t.Fatalf("CTM: %d %v", code, ans)
	}

	// Invoca: the token in the path, or in a header.
	invBody := `{"transaction_id":"T-1","complete_call_id":"C-1","transaction_type":"Call","start_time_utc":` + strconv.FormatInt(at(t, "12:25").UnixMilli(), 10) + `,"custom_data":[{"name":"_biz_uid","value":"` + uid + `"}]}`
	code, ans = g.JSON(t, "POST", "/v1/calls/invoca/inv-token", nil, invBody)
	if code != 200 || ans["task_id"] != "invoca:C-1" {
		t.Fatalf("Invoca, token in the path: %d %v", code, ans)
	}
	code, ans = g.JSON(t, "POST", "/v1/calls/invoca", map[string]string{"X-Invoca-Token": "inv-token"}, invBody)
	if code != 200 || ans["status"] != "updated" {
		t.Fatalf("Invoca, token in a header: %d %v", code, ans)
	}
	signal := `{"transaction_id":"T-2","complete_call_id":"C-1","transaction_type":"Signal","start_time_utc":1709294700000}`
	if code, ans = g.JSON(t, "POST", "/v1/calls/invoca/inv-token", nil, signal); code != 202 || ans["stored"] != false {
		t.Fatalf("Invoca signal: %d %v", code, ans)
	}

	if n := strings.TrimSpace(g.Query(t, "SELECT count() FROM call_matches")); n != "4" {
		t.Fatalf("call_matches has %s calls, want 4 (sample, CallRail, CTM, Invoca)", n)
	}
	before := storedCalls(t, g)

	// Refused: 401, nothing stored.
	tampered := strings.Replace(string(vector), `"duration":"13"`, `"duration":"14"`, 1)
	stale := ctmHeaders("ctm-secret", time.Now().Add(-10*time.Minute), ctmBody)
	for _, c := range []struct {
		name, path string
		header     map[string]string
		body       string
	}{
		{"CallRail without a signature", "/v1/calls/callrail", nil, string(vector)},
		{"CallRail with a tampered body", "/v1/calls/callrail", map[string]string{"Signature": vectorSignature}, tampered},
		{"CallRail signed with another token", "/v1/calls/callrail", map[string]string{"Signature": calls.SignCallRail("guess", vector)}, string(vector)},
		{"CTM with the wrong secret", "/v1/calls/ctm", ctmHeaders("guess", time.Now(), ctmBody), ctmBody},
		{"CTM with a stale time", "/v1/calls/ctm", stale, ctmBody},
		{"CTM with the API token only", "/v1/calls/ctm", servertest.Bearer, ctmBody},
		{"Invoca with the wrong token", "/v1/calls/invoca/guess", nil, invBody},
		{"Invoca without a token", "/v1/calls/invoca", nil, invBody},
	} {
		if code, ans := g.JSON(t, "POST", c.path, c.header, c.body); code != 401 || ans["error"] == nil {
			t.Errorf("%s: %d %v, want 401 with a reason", c.name, code, ans)
		}
	}

	// Validly signed but not a call: 400 with the reason, nothing stored.
	for _, body := range []string{`{"resource_id":`, `{"start_time":"2024-03-01T12:00:00Z"}`, `{"id":true,"start_time":"2024-03-01T12:00:00Z"}`} {
		code, ans := g.JSON(t, "POST", "/v1/calls/callrail", map[string]string{"Signature": calls.SignCallRail(vectorKey, []byte(body))}, body)
		if code != 400 || ans["error"] == nil || ans["error"] == "" {
			t.Errorf("malformed %s: %d %v, want 400 with a reason", body, code, ans)
		}
	}
	if code, _ := g.JSON(t, "POST", "/v1/calls/dialogtech", nil, invBody); code != 404 {
		t.Errorf("unknown provider: %d, want 404", code)
	}
	if after := storedCalls(t, g); after != before {
		t.Fatalf("refused deliveries stored rows: %s before, %s after", before, after)
	}
}

func TestProviderWithoutSecretRefusesEverything(t *testing.T) {
	g := startGateway(t, func(c *calls.Config) { c.CTMSecrets = nil })
	body := `{"id":1,"unix_time":1709294700}`
	code, ans := g.JSON(t, "POST", "/v1/calls/ctm", ctmHeaders("ctm-secret", time.Now(), body), body)
	if code != 401 || !strings.Contains(ans["error"].(string), "--ctm-secret") {
		t.Fatalf("%d %v, want 401 naming --ctm-secret", code, ans)
	}
	if n := storedCalls(t, g); n != "0" {
		t.Fatalf("%s calls stored", n)
	}
}

func TestTasksEndpoint(t *testing.T) {
	g := startGateway(t, nil)
	uid := uidOf("tasks endpoint")
	one := `{"Id":"00T5g00000AbCdEAAV","Type":"Call","Subject":"Call","CreatedDate":"2024-03-01T13:05:00.000+0000","bizible2__BizibleId__c":"` + uid + `","Phone":"+31205550101","Status":"Completed"}`

	for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}} {
		if code, _ := g.JSON(t, "POST", "/v1/tasks", h, one); code != 401 {
			t.Errorf("without the token (%v): %d, want 401", h, code)
		}
	}
	if n := storedCalls(t, g); n != "0" {
		t.Fatalf("unauthorized tasks stored: %s", n)
	}

	code, ans := g.JSON(t, "POST", "/v1/tasks", servertest.Bearer, one)
	if code != 200 || ans["accepted"] != 1.0 || ans["created"] != 1.0 {
		t.Fatalf("one object: %d %v", code, ans)
	}
	props := g.Query(t, "SELECT properties FROM call_tasks FINAL WHERE task_id = '00T5g00000AbCdEAAV'")
	if !strings.Contains(props, `"Status":"Completed"`) {
		t.Errorf("other fields are not kept: %s", props)
	}

	batch := `[
	  {"Id":"00T5g00000AbCdEAAV","Type":"Phone Call","CreatedDate":"2024-03-01T13:05:00Z","bizible2__BizibleId__c":"` + uid + `"},
	  {"Id":"00T5g00000AbCdFAAV","Type":"Call","CreatedDate":"yesterday"},
	  {"Type":"Call","CreatedDate":"2024-03-01T13:05:00Z"},
	  {"Id":"00T5g00000AbCdGAAV","CallDurationInSeconds":"long","CreatedDate":"2024-03-01T13:05:00Z"},
	  {"Id":"00T5g00000AbCdHAAV","Type":"Call"},
	  {"Id":42,"CreatedDate":"2024-03-01T13:05:00Z"},
	  "not a record",
	  {"Id":"00T5g00000AbCdJAAV","Type":"","CreatedDate":"2024-03-01T14:00:00Z","ActivityDate":"2024-03-01","CallDurationInSeconds":61}
	]`
	code, ans = g.JSON(t, "POST", "/v1/tasks", servertest.Bearer, batch)
	if code != 400 || ans["accepted"] != 2.0 || ans["created"] != 1.0 || ans["updated"] != 1.0 {
		t.Fatalf("mixed batch: %d %v", code, ans)
	}
	wantReasons := map[float64]string{1: "CreatedDate", 2: "Id is required", 3: "CallDurationInSeconds", 4: "no call time", 5: "Id must be a string", 6: "JSON object"}
	sftest.Rejections(t, ans, wantReasons)
	if got := verdictOf(t, g.Store, "00T5g00000AbCdEAAV"); got != "no_session\t" {
		t.Errorf("the updated task: %q", got)
	}
	if n := storedCalls(t, g); n != "3" {
		t.Errorf("call_tasks rows %s, want 3 (two versions of one task and one more)", n)
	}
	for _, body := range []string{``, `Id,Type`, `{"Id":`, `[1,`} {
		if code, ans := g.JSON(t, "POST", "/v1/tasks", servertest.Bearer, body); code != 400 || ans["error"] == nil {
			t.Errorf("body %q: %d %v, want 400", body, code, ans)
		}
	}
}

func TestExplainEndpoint(t *testing.T) {
	g := startGateway(t, nil)
	uid := uidOf("explain endpoint")
	visit(t, g.Store, site, uid, "s1217", page("12:17", adURL, "https://www.google.com/"))
	body := `{"resource_id":"CALbbbb4748ae6bd4e278a7cddd38a662f4f","start_time":"2024-03-01T13:05:00Z","custom":"_biz_uid=` + uid + `"}`
	if code, ans := g.JSON(t, "POST", "/v1/calls/callrail", map[string]string{"Signature": calls.SignCallRail(vectorKey, []byte(body))}, body); code != 200 {
		t.Fatalf("%d %v", code, ans)
	}
	id := "callrail:CALbbbb4748ae6bd4e278a7cddd38a662f4f"
	want := "Not merged: the session started at 12:17 and the call came at 13:05, 48 minutes later; sessions count for 30 minutes. A separate CRM Task touchpoint was created."

	if code, _ := g.JSON(t, "GET", "/v1/calls/"+id+"/explain", nil, ""); code != 401 {
		t.Errorf("without the token: %d, want 401", code)
	}
	for _, path := range []string{"/v1/calls/" + id + "/explain", "/v1/calls/" + url.PathEscape(id) + "/explain", "/v1/calls/callrail%3ACALbbbb4748ae6bd4e278a7cddd38a662f4f/explain"} {
		code, ans := g.JSON(t, "GET", path, servertest.Bearer, "")
		if code != 200 || ans["verdict"] != "outside_window" || ans["sentence"] != want || ans["task_id"] != id {
			t.Errorf("%s: %d %v", path, code, ans)
			continue
		}
		s := ans["session"].(map[string]any)
		if s["session_id"] != "s1217" || s["landing_page"] != "https://shop.example/offer" || s["campaign"] != "spring" || ans["minutes_from_session_start"] != 48.0 {
			t.Errorf("%s: session %v, minutes %v", path, s, ans["minutes_from_session_start"])
		}
		if tp := ans["touchpoint"].(map[string]any); tp["touchpoint_source"] != "CRM Activity" || tp["touchpoint_type"] != "Call" {
			t.Errorf("%s: touchpoint %v", path, tp)
		}
	}
	code, ans := g.JSON(t, "GET", "/v1/calls/"+id+"/explain?tz=Europe/Amsterdam", servertest.Bearer, "")
	if code != 200 || !strings.Contains(ans["sentence"].(string), "started at 13:17 and the call came at 14:05") {
		t.Errorf("tz: %d %v", code, ans["sentence"])
	}
	if code, _ := g.JSON(t, "GET", "/v1/calls/"+id+"/explain?tz=Mars/Olympus", servertest.Bearer, ""); code != 400 {
		t.Errorf("bad tz: %d, want 400", code)
	}
	if code, ans := g.JSON(t, "GET", "/v1/calls/callrail:CALnope/explain", servertest.Bearer, ""); code != 404 || ans["error"] == nil {
		t.Errorf("unknown call: %d %v, want 404", code, ans)
	}
}
