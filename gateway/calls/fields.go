package calls

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// decodeJSON decodes one JSON value, numbers kept as json.Number, and refuses
// anything after it.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err == nil {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// decodeObject reads a webhook body: one JSON object.
func decodeObject(body []byte) (payload, error) {
	var v any
	if err := decodeJSON(body, &v); err != nil {
		return nil, badf("the body is not valid JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badf("the body must be a JSON object, got %s", kindOf(v))
	}
	return m, nil
}

// payload is a decoded JSON object with typed getters whose errors name the
// field, for the 400 answer.
type payload map[string]any

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// str is a text field: a string (or a number, written as sent); missing or
// null is "".
func (p payload) str(key string) (string, error) {
	switch v := p[key].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		return v.String(), nil
	default:
		return "", badf("%s must be a string, got %s", key, kindOf(v))
	}
}

// id is an identifier: a non-empty string or a whole number.
func (p payload) id(key string) (string, error) {
	switch v := p[key].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		if _, err := v.Int64(); err != nil {
			return "", badf("%s must be a string or a whole number, got %s", key, v)
		}
		return v.String(), nil
	default:
		return "", badf("%s must be a string or a whole number, got %s", key, kindOf(v))
	}
}

// seconds is a duration in seconds: a number or a numeric string ("13");
// missing, null or "" is nil.
func (p payload) seconds(key string) (*int64, error) {
	var text string
	switch v := p[key].(type) {
	case nil:
		return nil, nil
	case string:
		text = strings.TrimSpace(v)
	case json.Number:
		text = v.String()
	default:
		return nil, badf("%s must be a number of seconds, got %s", key, kindOf(v))
	}
	return parseSeconds(key, text)
}

func parseSeconds(key, text string) (*int64, error) {
	if text == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f > 1e9 {
		return nil, badf("%s must be a number of seconds, got %q", key, clip(text, 40))
	}
	n := int64(math.Round(f))
	return &n, nil
}

// epoch reads a Unix time: seconds (scale 1) or milliseconds (scale 1000),
// as a number or numeric string.
func (p payload) epoch(key string, scale int64) (*time.Time, error) {
	var text string
	switch v := p[key].(type) {
	case nil:
		return nil, nil
	case string:
		text = strings.TrimSpace(v)
	case json.Number:
		text = v.String()
	default:
		return nil, badf("%s must be a Unix time, got %s", key, kindOf(v))
	}
	if text == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f <= 0 || f > 1e15 {
		return nil, badf("%s must be a Unix time, got %q", key, clip(text, 40))
	}
	ms := int64(math.Round(f * 1000 / float64(scale)))
	t := time.UnixMilli(ms).UTC()
	return &t, nil
}

// timeField reads a date-time string in any of the forms providers and
// Salesforce write (timeLayouts).
func (p payload) timeField(key string) (*time.Time, error) {
	s, err := p.str(key)
	if err != nil || s == "" {
		return nil, err
	}
	return parseTime(key, s)
}

// timeLayouts are tried in order. A time without a zone is read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,                       // 2018-02-19T13:41:00.236-05:00, …Z
	"2006-01-02T15:04:05.999999999Z0700",   // Salesforce: 2024-03-01T12:05:00.000+0000
	"2006-01-02 15:04:05.999999999 -07:00", // Invoca start_time_local: 2019-01-24 06:43:15 -07:00
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 3:04 PM -07:00", // CTM called_at: 2016-03-18 11:43 AM -04:00
	"2006-01-02 3:04 PM -0700",
	"2006-01-02 3:04:05 PM -07:00",
	"2006-01-02 3:04 PM", // CTM API sample, no zone
	"2006-01-02 3:04:05 PM",
	"2006-01-02T15:04:05.999999999", // no zone
	"2006-01-02 15:04:05.999999999", // CallRail datetime (UTC)
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	time.DateOnly,
}

func parseTime(key, s string) (*time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			if t.Year() < 1990 || t.Year() > 2200 {
				return nil, badf("%s %q is not a plausible date", key, clip(s, 40))
			}
			return &t, nil
		}
	}
	return nil, badf("%s: cannot read %q as an ISO 8601 date-time (e.g. 2024-03-01T12:05:00Z)", key, clip(s, 40))
}

// parseDate reads a Salesforce date (ActivityDate: 2024-03-01), or the date
// part of a date-time.
func parseDate(key, s string) (*time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return &t, nil
	}
	t, err := parseTime(key, s)
	if err != nil {
		return nil, badf("%s: cannot read %q as a date (e.g. 2024-03-01)", key, clip(s, 40))
	}
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return &d, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// direction turns a provider's "inbound"/"outbound" into Salesforce's
// CallType values.
func direction(s string) string {
	switch strings.ToLower(s) {
	case "inbound", "incoming":
		return "Inbound"
	case "outbound", "outgoing":
		return "Outbound"
	case "internal":
		return "Internal"
	}
	return s
}
