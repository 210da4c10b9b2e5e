package calls

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/calltrail/calltrail/gateway/sfrecord"
)

// Salesforce Task fields CallTrail reads; any other field is kept in
// properties. Field names are matched case-insensitively, as Salesforce does.
const (
	fieldID             = sfrecord.FieldID
	fieldType           = "Type"
	fieldSubject        = "Subject"
	fieldCreatedDate    = "CreatedDate"
	fieldActivityDate   = "ActivityDate"
	fieldDuration       = "CallDurationInSeconds"
	fieldCallType       = "CallType"
	fieldWhoID          = "WhoId"
	fieldBizibleID      = "bizible2__BizibleId__c"
	fieldTouchpointDate = "bizible2__Bizible_Touchpoint_Date__c"
	fieldPhone          = "Phone"
)

var taskFields = sfrecord.NewFields(fieldType, fieldSubject, fieldCreatedDate, fieldActivityDate,
	fieldDuration, fieldCallType, fieldWhoID, fieldBizibleID, fieldTouchpointDate, fieldPhone)

// Tasks names the Salesforce Task object in messages (POST /v1/tasks,
// `calltrail import tasks`).
var Tasks = sfrecord.Object{Name: "Task", Example: "Id, Type, CreatedDate"}

// TasksPath is the endpoint `calltrail import tasks` posts to: /v1/tasks,
// its records marked as read from a CSV export.
const TasksPath = "/v1/tasks?source=" + SourceCSV

// PostTasksHTTP posts batches of Task records read from a CSV export to a
// running gateway.
func PostTasksHTTP(baseURL, token string, client *http.Client) sfrecord.Poster {
	return sfrecord.PostHTTP(baseURL, TasksPath, token, client)
}

// ParseTasks turns Task records (sfrecord.DecodeRecords) into Tasks; source
// is SourceTasksAPI or SourceCSV. Records that cannot be stored are rejected
// with a reason.
func ParseTasks(recs []json.RawMessage, source string, now time.Time) ([]*Task, []sfrecord.Rejection) {
	return sfrecord.ParseRecords(recs, Tasks, func(m map[string]any) (*Task, error) {
		return ParseTask(m, source, now)
	})
}

// ParseTask reads one Salesforce Task record (JSON or a CSV row; in a CSV
// every value is a string and an empty one means "not set").
func ParseTask(m map[string]any, source string, now time.Time) (*Task, error) {
	p, props, err := taskFields.Split(m)
	if err != nil {
		return nil, err
	}
	t := &Task{Source: source, ReceivedAt: now.UTC()}
	if t.TaskID, err = p.RecordID(); err != nil {
		return nil, err
	}
	t.ProviderCallID = t.TaskID
	for field, dst := range map[string]*string{
		fieldType: &t.Type, fieldSubject: &t.Subject, fieldCallType: &t.CallType,
		fieldWhoID: &t.WhoID, fieldPhone: &t.Phone,
	} {
		if *dst, err = p.Strict(field); err != nil {
			return nil, err
		}
	}
	bizibleID, err := p.Strict(fieldBizibleID)
	if err != nil {
		return nil, err
	}
	if bizibleID != "" {
		t.setBizibleID(bizibleID, fieldBizibleID)
	}
	if t.CreatedDate, err = p.Time(fieldCreatedDate); err != nil {
		return nil, err
	}
	if t.TouchpointDate, err = p.Time(fieldTouchpointDate); err != nil {
		return nil, err
	}
	if t.ActivityDate, err = p.Date(fieldActivityDate); err != nil {
		return nil, err
	}
	if t.CallDurationSeconds, err = p.Seconds(fieldDuration); err != nil {
		return nil, err
	}
	if err := t.resolveCallTime(); err != nil {
		return nil, &sfrecord.BadRecord{Reason: err.Error()}
	}
	if t.Version, err = p.Version(t.ReceivedAt); err != nil {
		return nil, err
	}
	if t.Properties, err = sfrecord.Properties(props); err != nil {
		return nil, err
	}
	return t, nil
}
