package sfrecord

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode"
)

// Fields every Salesforce object has that CallTrail reads the same way for
// each: the record's Id and its modification times (the version).
const (
	FieldID             = "Id"
	FieldLastModified   = "LastModifiedDate"
	FieldSystemModstamp = "SystemModstamp"
)

// MaxIDLength bounds a record's Id (Salesforce's are 15 or 18 characters).
const MaxIDLength = 255

// Object is a kind of Salesforce record, named in messages.
type Object struct {
	Name    string // Salesforce's name: Task, Opportunity
	Example string // a few of its fields for a header hint: "Id, Type, CreatedDate"
}

// a is the object's name with its article: "a Task", "an Opportunity".
func (o Object) a() string {
	if o.Name != "" && strings.ContainsRune("AEIOUaeiou", rune(o.Name[0])) {
		return "an " + o.Name
	}
	return "a " + o.Name
}

// Fields are the Salesforce field names one object reads, by their
// lower-cased spelling: Salesforce matches field names case-insensitively,
// and Data Loader exports write them upper-case.
type Fields map[string]string

// NewFields lists an object's fields; Id, LastModifiedDate and
// SystemModstamp are always among them.
func NewFields(names ...string) Fields {
	f := Fields{}
	for _, n := range append([]string{FieldID, FieldLastModified, FieldSystemModstamp}, names...) {
		f[strings.ToLower(n)] = n
	}
	return f
}

// Split reads one record (a JSON object, or a CSV row where every value is a
// string): the fields the object reads, under their canonical names, and
// every other field as given (kept as properties). A blank string means "not
// set", as an empty CSV cell does. A field given twice in different cases is
// an error.
func (f Fields) Split(m map[string]any) (Record, map[string]any, error) {
	known := Record{}
	others := map[string]any{}
	for k, v := range m {
		if name, ok := f[strings.ToLower(k)]; ok {
			if _, dup := known[name]; dup {
				return nil, nil, Badf("field %s appears twice", name)
			}
			if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
				v = nil
			}
			known[name] = v
			continue
		}
		others[k] = v
	}
	return known, others, nil
}

// RecordID reads the record's Id: a string, required, usable in a URL path
// and a line of output (CheckID).
func (p Record) RecordID() (string, error) {
	var id string
	switch v := p[FieldID].(type) {
	case string:
		id = strings.TrimSpace(v)
	case nil:
	default:
		return "", Badf("%s must be a string, got %s", FieldID, KindOf(v))
	}
	if err := CheckID(FieldID, id); err != nil {
		return "", err
	}
	return id, nil
}

// Version is the record's version, latest wins: its own modification time
// (LastModifiedDate, else SystemModstamp) when it has one, so that
// re-importing an old export does not undo a newer edit; else the time it
// reached CallTrail.
func (p Record) Version(received time.Time) (uint64, error) {
	for _, f := range []string{FieldLastModified, FieldSystemModstamp} {
		mod, err := p.Time(f)
		if err != nil {
			return 0, err
		}
		if mod != nil {
			return VersionOf(*mod), nil
		}
	}
	return VersionOf(received), nil
}

// Properties encodes the fields an object does not read, kept as JSON; nil
// when there are none.
func Properties(others map[string]any) (json.RawMessage, error) {
	if len(others) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(others)
	if err != nil {
		return nil, Badf("cannot keep the other fields: %v", err)
	}
	return b, nil
}

// CheckID refuses ids that could not be named in a URL
// (/v1/calls/{task_id}/explain) or a line of output.
func CheckID(field, id string) error {
	switch {
	case id == "":
		return Badf("%s is required", field)
	case len(id) > MaxIDLength:
		return Badf("%s is longer than %d characters", field, MaxIDLength)
	case strings.IndexFunc(id, unicode.IsControl) >= 0 || strings.ContainsAny(id, "/?#%"):
		return Badf("%s must not contain control characters, /, ?, # or %%", field)
	}
	return nil
}

// LookupKey returns the record's own spelling of a Salesforce field name.
func LookupKey(m map[string]any, field string) string {
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

// Rejection is a record that was not stored, by its position in the
// request, with the reason.
type Rejection struct {
	Index  int    `json:"index"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// Answer is the body of a records endpoint (POST /v1/tasks,
// /v1/opportunities): how many records were accepted, of which created and
// updated, and each rejected one with its reason; or an error about the whole
// request.
type Answer struct {
	Accepted int         `json:"accepted"`
	Created  int         `json:"created"`
	Updated  int         `json:"updated"`
	Rejected []Rejection `json:"rejected"`
	Error    string      `json:"error,omitempty"`
}

// DecodeRecords reads a records endpoint's body: one JSON object or an array
// of them. An element that is not an object comes back as nil (ParseRecords
// rejects it with its index).
func DecodeRecords(body []byte, obj Object) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, Badf("the body is empty: send %s object or an array of them", obj.a())
	case trimmed[0] == '{':
		if !json.Valid(trimmed) {
			var v any
			return nil, Badf("the body is not valid JSON: %v", json.Unmarshal(trimmed, &v))
		}
		return []json.RawMessage{trimmed}, nil
	case trimmed[0] == '[':
		var recs []json.RawMessage
		if err := json.Unmarshal(trimmed, &recs); err != nil {
			return nil, Badf("the body is not valid JSON: %v", err)
		}
		return recs, nil
	}
	return nil, Badf("the body must be a JSON object or an array of objects (Salesforce %s records)", obj.Name)
}

// ParseRecords turns decoded records into values with parse; a record that
// is not an object, or that parse refuses, is rejected with its index, its Id
// when it has one, and the reason.
func ParseRecords[T any](recs []json.RawMessage, obj Object, parse func(map[string]any) (T, error)) ([]T, []Rejection) {
	var out []T
	var rejected []Rejection
	for i, raw := range recs {
		var m map[string]any
		if err := DecodeJSON(raw, &m); err != nil || m == nil {
			rejected = append(rejected, Rejection{Index: i, Reason: "each record must be a JSON object with Salesforce " + obj.Name + " fields"})
			continue
		}
		v, err := parse(m)
		if err != nil {
			id, _ := Record(m).Str(LookupKey(m, FieldID))
			rejected = append(rejected, Rejection{Index: i, ID: Clip(id, 64), Reason: err.Error()})
			continue
		}
		out = append(out, v)
	}
	return out, rejected
}
