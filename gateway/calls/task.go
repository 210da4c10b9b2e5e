// Package calls takes phone calls in (providers' signed webhooks, Salesforce
// Task records as JSON or CSV) and turns each into one Task-shaped row of
// call_tasks. The join of calls to web sessions, and the touchpoints that
// follow, are SQL views over that table (sql/migrations/011, 012); this
// package also reads them back to explain one call's verdict.
package calls

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Task is one call as CallTrail stores it: a Salesforce Task's fields plus
// where the call and its visitor id came from.
type Task struct {
	TaskID         string // {provider}:{provider call id}, or the Task's Id
	Source         string // ctm, callrail, invoca, tasks_api, csv
	ProviderCallID string

	Type                string // Task.Type: the touchpoint's type and medium
	Subject             string
	CreatedDate         *time.Time
	ActivityDate        *time.Time // a date (UTC midnight)
	CallDurationSeconds *int64
	CallType            string // Inbound / Outbound / Internal
	WhoID               string
	BizibleID           string // bizible2__BizibleId__c as given
	UID                 string // BizibleID when it is a valid _biz_uid, else ""
	UIDSource           string // where the id was found, e.g. "custom_fields._biz_uid"
	TouchpointDate      *time.Time
	StartTime           *time.Time // the provider's call start

	CallTime     time.Time // what the join uses
	CallTimeFrom string    // start_time, touchpoint_date or created_date

	Phone          string
	TrackingNumber string
	Properties     json.RawMessage // every other field (Tasks) or the provider's payload

	ReceivedAt time.Time
	Version    uint64 // latest wins
}

// Sources of a Task.
const (
	SourceCTM      = "ctm"
	SourceCallRail = "callrail"
	SourceInvoca   = "invoca"
	SourceTasksAPI = "tasks_api"
	SourceCSV      = "csv"
)

// DefaultTaskType is Task.Type for a call that comes straight from a
// provider's webhook (the type Marketo Measure's screenshots show).
const DefaultTaskType = "Call"

var uidPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidUID reports whether s is a visitor id as the site script writes it in
// _biz_uid: 32 lowercase hex characters. Nothing else joins to a session.
func ValidUID(s string) bool { return uidPattern.MatchString(s) }

// setBizibleID records the id as given and, when valid, as the join key.
func (t *Task) setBizibleID(value, source string) {
	t.BizibleID = strings.TrimSpace(value)
	t.UIDSource = source
	if ValidUID(t.BizibleID) {
		t.UID = t.BizibleID
	}
}

// resolveCallTime applies the rule of docs/calls.md: the provider's start
// time, else the Bizible Touchpoint Date, else CreatedDate.
func (t *Task) resolveCallTime() error {
	switch {
	case t.StartTime != nil:
		t.CallTime, t.CallTimeFrom = *t.StartTime, "start_time"
	case t.TouchpointDate != nil:
		t.CallTime, t.CallTimeFrom = *t.TouchpointDate, "touchpoint_date"
	case t.CreatedDate != nil:
		t.CallTime, t.CallTimeFrom = *t.CreatedDate, "created_date"
	default:
		return fmt.Errorf("no call time: give bizible2__Bizible_Touchpoint_Date__c or CreatedDate")
	}
	return nil
}

// Columns are call_tasks' columns in the order row() writes them.
var Columns = []string{
	"task_id", "source", "provider_call_id", "task_type", "subject", "created_date", "activity_date",
	"call_duration_s", "call_type", "who_id", "bizible_id", "uid", "uid_source", "touchpoint_date",
	"start_time", "call_time", "call_time_from", "phone", "tracking_number", "properties",
	"received_at", "version",
}

// row encodes the task as one JSONEachRow line for call_tasks.
func (t *Task) row() ([]byte, error) {
	props := string(t.Properties)
	if props == "" {
		props = "{}"
	}
	var activity any
	if t.ActivityDate != nil {
		activity = t.ActivityDate.UTC().Format(time.DateOnly)
	}
	var duration any
	if t.CallDurationSeconds != nil {
		duration = *t.CallDurationSeconds
	}
	b, err := json.Marshal(map[string]any{
		"task_id": t.TaskID, "source": t.Source, "provider_call_id": t.ProviderCallID,
		"task_type": t.Type, "subject": t.Subject, "created_date": chTime(t.CreatedDate),
		"activity_date": activity, "call_duration_s": duration, "call_type": t.CallType,
		"who_id": t.WhoID, "bizible_id": t.BizibleID, "uid": t.UID, "uid_source": t.UIDSource,
		"touchpoint_date": chTime(t.TouchpointDate), "start_time": chTime(t.StartTime),
		"call_time": chTime(&t.CallTime), "call_time_from": t.CallTimeFrom,
		"phone": t.Phone, "tracking_number": t.TrackingNumber, "properties": props,
		"received_at": chTime(&t.ReceivedAt), "version": t.Version,
	})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// chTime writes a DateTime64(3, 'UTC') value, or null.
func chTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// versionOf turns a time into a version number: later is larger.
func versionOf(t time.Time) uint64 {
	if t.UnixNano() <= 0 {
		return 0
	}
	return uint64(t.UnixNano())
}

// BadRecord is a call or Task that cannot be stored as given; Reason is
// written for the person who sent it.
type BadRecord struct{ Reason string }

func (e *BadRecord) Error() string { return e.Reason }

func badf(format string, args ...any) *BadRecord {
	return &BadRecord{Reason: fmt.Sprintf(format, args...)}
}
