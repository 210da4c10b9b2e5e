package calls

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode"
)

// Salesforce Task fields CallTrail reads; any other field is kept in
// properties. Field names are matched case-insensitively, as Salesforce does.
const (
	fieldID             = "Id"
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
	fieldLastModified   = "LastModifiedDate"
	fieldSystemModstamp = "SystemModstamp"
)

var taskFields = func() map[string]string {
	m := map[string]string{}
	for _, f := range []string{fieldID, fieldType, fieldSubject, fieldCreatedDate, fieldActivityDate,
		fieldDuration, fieldCallType, fieldWhoID, fieldBizibleID, fieldTouchpointDate, fieldPhone,
		fieldLastModified, fieldSystemModstamp} {
		m[strings.ToLower(f)] = f
	}
	return m
}()

// maxIDLength bounds a Task Id (Salesforce's are 15 or 18 characters).
const maxIDLength = 255

// Rejection is a Task record that was not stored, by its position in the
// request, with the reason.
type Rejection struct {
	Index  int    `json:"index"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// DecodeTaskRecords reads POST /v1/tasks: one JSON object or an array of
// them. An element that is not an object comes back as nil (ParseTasks
// rejects it with its index).
func DecodeTaskRecords(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, badf("the body is empty: send a Task object or an array of them")
	case trimmed[0] == '{':
		if !json.Valid(trimmed) {
			var v any
			return nil, badf("the body is not valid JSON: %v", json.Unmarshal(trimmed, &v))
		}
		return []json.RawMessage{trimmed}, nil
	case trimmed[0] == '[':
		var recs []json.RawMessage
		if err := json.Unmarshal(trimmed, &recs); err != nil {
			return nil, badf("the body is not valid JSON: %v", err)
		}
		return recs, nil
	}
	return nil, badf("the body must be a JSON object or an array of objects (Salesforce Task records)")
}

// ParseTasks turns Task records into Tasks; source is SourceTasksAPI or
// SourceCSV. Records that cannot be stored are rejected with a reason.
func ParseTasks(recs []json.RawMessage, source string, now time.Time) ([]*Task, []Rejection) {
	var tasks []*Task
	var rejected []Rejection
	for i, raw := range recs {
		var m map[string]any
		if err := decodeJSON(raw, &m); err != nil || m == nil {
			rejected = append(rejected, Rejection{Index: i, Reason: "each record must be a JSON object with Salesforce Task fields"})
			continue
		}
		t, err := ParseTask(m, source, now)
		if err != nil {
			id, _ := payload(m).str(lookupKey(m, fieldID))
			rejected = append(rejected, Rejection{Index: i, ID: clip(id, 64), Reason: err.Error()})
			continue
		}
		tasks = append(tasks, t)
	}
	return tasks, rejected
}

// lookupKey returns the record's own spelling of a Salesforce field name.
func lookupKey(m map[string]any, field string) string {
	if _, ok := m[field]; ok {
		return field
	}
	for k := range m {
		if strings.EqualFold(k, field) {
			return k
		}
	}
	return field
}

// ParseTask reads one Salesforce Task record (JSON or a CSV row; in a CSV
// every value is a string and an empty one means "not set").
func ParseTask(m map[string]any, source string, now time.Time) (*Task, error) {
	p := payload{}
	props := map[string]any{}
	for k, v := range m {
		if f, ok := taskFields[strings.ToLower(k)]; ok {
			if _, dup := p[f]; dup {
				return nil, badf("field %s appears twice", f)
			}
			if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
				v = nil
			}
			p[f] = v
			continue
		}
		props[k] = v
	}
	t := &Task{Source: source, ReceivedAt: now.UTC()}
	var err error
	switch v := p[fieldID].(type) {
	case string:
		t.TaskID = strings.TrimSpace(v)
	case nil:
	default:
		return nil, badf("Id must be a string, got %s", kindOf(v))
	}
	if err := checkID("Id", t.TaskID); err != nil {
		return nil, err
	}
	t.ProviderCallID = t.TaskID
	for field, dst := range map[string]*string{
		fieldType: &t.Type, fieldSubject: &t.Subject, fieldCallType: &t.CallType,
		fieldWhoID: &t.WhoID, fieldPhone: &t.Phone,
	} {
		if *dst, err = p.strict(field); err != nil {
			return nil, err
		}
	}
	bizibleID, err := p.strict(fieldBizibleID)
	if err != nil {
		return nil, err
	}
	if bizibleID != "" {
		t.setBizibleID(bizibleID, fieldBizibleID)
	}
	if t.CreatedDate, err = p.timeField(fieldCreatedDate); err != nil {
		return nil, err
	}
	if t.TouchpointDate, err = p.timeField(fieldTouchpointDate); err != nil {
		return nil, err
	}
	if s, err := p.strict(fieldActivityDate); err != nil {
		return nil, err
	} else if s != "" {
		if t.ActivityDate, err = parseDate(fieldActivityDate, s); err != nil {
			return nil, err
		}
	}
	if t.CallDurationSeconds, err = p.seconds(fieldDuration); err != nil {
		return nil, err
	}
	if err := t.resolveCallTime(); err != nil {
		return nil, &BadRecord{Reason: err.Error()}
	}
	// Latest wins: the record's own modification time when it has one, so
	// that re-importing an old export does not undo a newer edit; else the
	// time it reached CallTrail.
	t.Version = versionOf(t.ReceivedAt)
	for _, f := range []string{fieldLastModified, fieldSystemModstamp} {
		mod, err := p.timeField(f)
		if err != nil {
			return nil, err
		}
		if mod != nil {
			t.Version = versionOf(*mod)
			break
		}
	}
	if len(props) > 0 {
		b, err := json.Marshal(props)
		if err != nil {
			return nil, badf("cannot keep the other fields: %v", err)
		}
		t.Properties = b
	}
	return t, nil
}

// checkID refuses ids that could not be named in a URL
// (/v1/calls/{task_id}/explain) or a line of output.
func checkID(field, id string) error {
	switch {
	case id == "":
		return badf("%s is required", field)
	case len(id) > maxIDLength:
		return badf("%s is longer than %d characters", field, maxIDLength)
	case strings.IndexFunc(id, unicode.IsControl) >= 0 || strings.ContainsAny(id, "/?#%"):
		return badf("%s must not contain control characters, /, ?, # or %%", field)
	}
	return nil
}

// strict is a text field that must be a string (or absent / null).
func (p payload) strict(key string) (string, error) {
	switch v := p[key].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	default:
		return "", badf("%s must be a string, got %s", key, kindOf(v))
	}
}
