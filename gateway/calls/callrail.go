package calls

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/calltrail/calltrail/gateway/sfrecord"
)

// parseCallRail reads CallRail's post-call / call-modified webhook body
// (fields as CallRail's published sample, domain-facts §4.2).
//
//   - call id: resource_id ("CAL…", since 2021), else the numeric id
//   - call time: start_time (ISO 8601 with offset), else datetime (UTC), else created_at
//   - visitor id: a top-level key, the `custom` field (a query string, a JSON
//     object or the bare id) or integration_data[].data
func parseCallRail(body []byte, o parseOptions) (*Task, error) {
	p, err := sfrecord.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	t, err := o.newTask(p, body, callFields{
		source: SourceCallRail, name: "CallRail", ids: []string{"resource_id", "id"},
		direction: "direction", phone: "customer_phone_number", tracking: "tracking_phone_number",
		sources: []string{"source_name", "formatted_tracking_source"},
	})
	if err != nil {
		return nil, err
	}
	if t.StartTime, err = p.Time("start_time"); err != nil {
		return nil, err
	}
	if t.StartTime == nil {
		if t.StartTime, err = p.Time("datetime"); err != nil {
			return nil, err
		}
	}
	if t.CreatedDate, err = p.Time("created_at"); err != nil {
		return nil, err
	}
	if t.StartTime == nil && t.CreatedDate == nil {
		return nil, sfrecord.Badf("no call time: start_time is required")
	}

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
		return nil, sfrecord.Badf("custom must be a string or an object, got %s", sfrecord.KindOf(custom))
	}
	switch d := p["integration_data"].(type) {
	case nil, []any:
		o.uid.walk(d, "integration_data", 0, &ids)
	default:
		return nil, sfrecord.Badf("integration_data must be an array, got %s", sfrecord.KindOf(d))
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

// callFields say where a provider's payload keeps what every call has.
type callFields struct {
	source, name    string   // Source, and the provider's name for the Subject
	ids             []string // the call id: the first of these that is set
	direction       string   // "" for a provider that sends inbound calls only
	phone, tracking string   // the caller's number, the tracking number
	sources         []string // the call's source label: the first that is set
}

// newTask starts a provider call's Task from the fields every provider has:
// the call id, duration, direction, numbers and the Subject.
func (o parseOptions) newTask(p sfrecord.Record, body []byte, f callFields) (*Task, error) {
	callID, err := first(p.ID, f.ids)
	if err != nil {
		return nil, err
	}
	if callID == "" {
		return nil, sfrecord.Badf("no call id: %s sends %s", f.name, strings.Join(f.ids, " or "))
	}
	if err := sfrecord.CheckID("the call id", callID); err != nil {
		return nil, err
	}
	typ := o.taskType
	if typ == "" {
		typ = DefaultTaskType
	}
	t := &Task{
		TaskID:         f.source + ":" + callID,
		Source:         f.source,
		ProviderCallID: callID,
		Type:           typ,
		CallType:       "Inbound",
		Properties:     json.RawMessage(compact(body)),
		ReceivedAt:     o.now,
		Version:        sfrecord.VersionOf(o.now),
	}
	if t.CallDurationSeconds, err = p.Seconds("duration"); err != nil {
		return nil, err
	}
	if f.direction != "" {
		dir, err := p.Str(f.direction)
		if err != nil {
			return nil, err
		}
		t.CallType = direction(dir)
	}
	if t.Phone, err = p.Str(f.phone); err != nil {
		return nil, err
	}
	if t.TrackingNumber, err = p.Str(f.tracking); err != nil {
		return nil, err
	}
	source, err := first(p.Str, f.sources)
	if err != nil {
		return nil, err
	}
	t.Subject = callSubject(f.name, t.CallType, t.Phone, source)
	return t, nil
}

// first reads keys in order and returns the first value that is set.
func first(read func(key string) (string, error), keys []string) (string, error) {
	for _, k := range keys {
		v, err := read(k)
		if err != nil || v != "" {
			return v, err
		}
	}
	return "", nil
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
		return &sfrecord.BadRecord{Reason: err.Error()}
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
