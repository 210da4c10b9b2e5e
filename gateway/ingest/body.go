// Package ingest turns a POST /v1/events body into event rows: decode, then a
// list of named steps (validate, correct the clock, read the landing URL,
// read the browser) that each either enrich an event or reject it with a
// reason the client is told and a counter records. A rejected event never
// takes its batch-mates down with it.
package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Body is the JSON document the site script posts (contract §3).
type Body struct {
	Site   string            `json:"site"`
	UID    string            `json:"uid"`
	SID    string            `json:"sid"`
	SentAt int64             `json:"sent_at"`
	Events []json.RawMessage `json:"events"`
}

// RawEvent is one element of Body.Events as the client sent it.
type RawEvent struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	TS     int64           `json:"ts"`
	URL    string          `json:"url"`
	Ref    string          `json:"ref"`
	Title  string          `json:"title"`
	Form   string          `json:"form"`
	Email  string          `json:"email"`
	LeadID string          `json:"lead_id"`
	Name   string          `json:"name"`
	Props  json.RawMessage `json:"props"`
}

// MaxEvents bounds one batch; the body limit (64 KiB) bounds it anyway, this
// keeps the rejection list short.
const MaxEvents = 500

// DecodeBody parses the envelope. Events stay raw so that one malformed event
// is rejected on its own in the pipeline. An error here concerns the whole
// body (not JSON, not an object, too many events).
func DecodeBody(data []byte) (Body, error) {
	var b Body
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return b, errors.New("empty body: expected a JSON object with site, uid, sid, sent_at and events")
	}
	if err := json.Unmarshal(data, &b); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return b, fmt.Errorf("field %q must be %s, not a JSON %s", te.Field, kind(te.Type.Kind().String()), te.Value)
		}
		return b, fmt.Errorf("body is not valid JSON: %v", err)
	}
	if len(b.Events) == 0 {
		return b, errors.New("events: expected a non-empty array")
	}
	if len(b.Events) > MaxEvents {
		return b, fmt.Errorf("events: %d events in one batch, at most %d", len(b.Events), MaxEvents)
	}
	return b, nil
}

func decodeEvent(raw json.RawMessage) (RawEvent, error) {
	var e RawEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return e, fmt.Errorf("field %q must be %s, not a JSON %s", te.Field, kind(te.Type.Kind().String()), te.Value)
		}
		return e, fmt.Errorf("event is not a JSON object: %v", err)
	}
	return e, nil
}

func kind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int64", "int", "float64":
		return "a number"
	case "slice":
		return "an array"
	default:
		return "an object"
	}
}
