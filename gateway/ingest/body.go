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
//
// The raw events point into data: a Body must not outlive the buffer it
// was decoded from (the pipeline copies everything it keeps).
func DecodeBody(data []byte) (Body, error) {
	var b Body
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return b, errors.New("empty body: expected a JSON object with site, uid, sid, sent_at and events")
	}
	s := scanner{b: data}
	if c := s.peek(); c != '{' {
		if _, err := s.skip(0); err == nil && s.peek() == 0 {
			return b, fmt.Errorf("body must be a JSON object with site, uid, sid, sent_at and events, not a JSON %s", (&scanner{b: data}).kindAt())
		}
		return b, errors.New("body is not valid JSON: expected an object {\"site\": …, \"events\": […]}")
	}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "site":
			return s.str("site", &b.Site)
		case "uid":
			return s.str("uid", &b.UID)
		case "sid":
			return s.str("sid", &b.SID)
		case "sent_at":
			return s.int("sent_at", &b.SentAt)
		case "events":
			switch s.peek() {
			case 'n':
				b.Events = nil
				return s.literal("null")
			case '[':
			default:
				return typeError("events", "an array", s.kindAt())
			}
			b.Events = b.Events[:0]
			return s.array(func() error {
				raw, err := s.skip(1)
				if err == nil {
					b.Events = append(b.Events, json.RawMessage(raw))
				}
				return err
			})
		}
		_, err := s.skip(1)
		return err
	})
	if err := s.finish("body", err); err != nil {
		return b, err
	}
	if len(b.Events) == 0 {
		return b, errors.New("events: expected a non-empty array")
	}
	if len(b.Events) > MaxEvents {
		return b, fmt.Errorf("events: %d events in one batch, at most %d", len(b.Events), MaxEvents)
	}
	return b, nil
}

// decodeEvent reads one element of Body.Events. Props points into raw.
func decodeEvent(raw json.RawMessage) (RawEvent, error) {
	var e RawEvent
	s := scanner{b: raw}
	if c := s.peek(); c != '{' {
		return e, fmt.Errorf("event is not a JSON object but a JSON %s", s.kindAt())
	}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return s.str("id", &e.ID)
		case "type":
			return s.str("type", &e.Type)
		case "ts":
			return s.int("ts", &e.TS)
		case "url":
			return s.str("url", &e.URL)
		case "ref":
			return s.str("ref", &e.Ref)
		case "title":
			return s.str("title", &e.Title)
		case "form":
			return s.str("form", &e.Form)
		case "email":
			return s.str("email", &e.Email)
		case "lead_id":
			return s.str("lead_id", &e.LeadID)
		case "name":
			return s.str("name", &e.Name)
		case "props":
			v, err := s.skip(1)
			if err == nil {
				e.Props = nil
				if string(v) != "null" {
					e.Props = json.RawMessage(v)
				}
			}
			return err
		}
		_, err := s.skip(1)
		return err
	})
	return e, s.finish("event", err)
}
