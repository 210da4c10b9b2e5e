package calls

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// parseCallRail reads CallRail's post-call / call-modified webhook body
// (fields as CallRail's published sample, domain-facts §4.2).
//
//   - call id: resource_id ("CAL…", since 2021), else the numeric id
//   - call time: start_time (ISO 8601 with offset), else datetime (UTC), else created_at
//   - visitor id: a top-level key, the `custom` field (a query string, a JSON
//     object or the bare id) or integration_data[].data
func parseCallRail(body []byte, o parseOptions) (*Task, error) {
	p, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	callID, err := p.id("resource_id")
	if err != nil {
		return nil, err
	}
	if callID == "" {
		if callID, err = p.id("id"); err != nil {
			return nil, err
		}
	}
	if callID == "" {
		return nil, badf("no call id: CallRail sends resource_id (CAL…) or id")
	}
	if err := checkID("the call id", callID); err != nil {
		return nil, err
	}
	t := o.newTask(SourceCallRail, callID, body)

	if t.StartTime, err = p.timeField("start_time"); err != nil {
		return nil, err
	}
	if t.StartTime == nil {
		if t.StartTime, err = p.timeField("datetime"); err != nil {
			return nil, err
		}
	}
	if t.CreatedDate, err = p.timeField("created_at"); err != nil {
		return nil, err
	}
	if t.StartTime == nil && t.CreatedDate == nil {
		return nil, badf("no call time: start_time is required")
	}
	if t.CallDurationSeconds, err = p.seconds("duration"); err != nil {
		return nil, err
	}
	dir, err := p.str("direction")
	if err != nil {
		return nil, err
	}
	t.CallType = direction(dir)
	if t.Phone, err = p.str("customer_phone_number"); err != nil {
		return nil, err
	}
	if t.TrackingNumber, err = p.str("tracking_phone_number"); err != nil {
		return nil, err
	}
	source, err := p.str("source_name")
	if err != nil {
		return nil, err
	}
	if source == "" {
		source, _ = p.str("formatted_tracking_source")
	}
	t.Subject = callSubject("CallRail", t.CallType, t.Phone, source)

	// Where CallRail can carry the visitor id.
	var ids found
	custom := p["custom"]
	switch c := custom.(type) {
	case nil:
	case string:
		if ValidUID(strings.TrimSpace(c)) {
			ids = append(ids, candidate{c, "custom"})
		} else {
			o.uid.inString(c, "custom", &ids)
		}
	case map[string]any:
		o.uid.walk(c, "custom", 0, &ids)
	default:
		return nil, badf("custom must be a string or an object, got %s", kindOf(custom))
	}
	switch d := p["integration_data"].(type) {
	case nil, []any:
		o.uid.walk(d, "integration_data", 0, &ids)
	default:
		return nil, badf("integration_data must be an array, got %s", kindOf(d))
	}
	o.uid.walk(map[string]any(p), "", 0, &ids)
	t.applyUID(ids)
	return t, t.finish()
}

// callSubject is the Subject a provider call gets (it becomes Ad Content of
// a CRM Activity touchpoint), e.g. "CallRail: inbound call from
// +12148654559 (Google Paid)".
func callSubject(provider, callType, phone, source string) string {
	var b strings.Builder
	b.WriteString(provider)
	b.WriteString(": ")
	if callType != "" {
		b.WriteString(strings.ToLower(callType))
		b.WriteString(" call")
	} else {
		b.WriteString("call")
	}
	if phone != "" {
		b.WriteString(" from ")
		b.WriteString(phone)
	}
	if source != "" {
		b.WriteString(" (")
		b.WriteString(source)
		b.WriteString(")")
	}
	return b.String()
}

// newTask starts a provider call's Task.
func (o parseOptions) newTask(source, callID string, body []byte) *Task {
	typ := o.taskType
	if typ == "" {
		typ = DefaultTaskType
	}
	return &Task{
		TaskID:         source + ":" + callID,
		Source:         source,
		ProviderCallID: callID,
		Type:           typ,
		Properties:     json.RawMessage(compact(body)),
		ReceivedAt:     o.now,
		Version:        versionOf(o.now),
	}
}

// applyUID keeps the best visitor id found.
func (t *Task) applyUID(ids found) {
	if c, ok := ids.best(); ok {
		t.setBizibleID(c.value, c.path)
	}
}

// finish fills what follows from the rest: call time, ActivityDate,
// CreatedDate.
func (t *Task) finish() error {
	if err := t.resolveCallTime(); err != nil {
		return &BadRecord{Reason: err.Error()}
	}
	if t.CreatedDate == nil {
		c := t.ReceivedAt
		t.CreatedDate = &c
	}
	if t.ActivityDate == nil {
		y, m, d := t.CallTime.UTC().Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		t.ActivityDate = &day
	}
	return nil
}

// compact returns body without insignificant white space (it is valid JSON
// by now; if not, it is kept as sent).
func compact(body []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, body) != nil {
		return bytes.Clone(body)
	}
	return b.Bytes()
}
