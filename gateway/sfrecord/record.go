// Package sfrecord reads Salesforce-style records — Tasks, Opportunities —
// the way CallTrail takes them in: a JSON object or an array of them from the
// API, or the rows of a Data Loader CSV export. It holds what every kind of
// record shares: decoding with a reason per record, typed field getters whose
// errors name the field, Salesforce's date formats, Id and version rules,
// storing with created/updated counts, and the CSV importer. What one kind of
// record means (its fields, its table) lives in its own package
// (gateway/calls for Tasks, gateway/opportunities).
package sfrecord

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

// BadRecord is a record that cannot be stored as given; Reason is written for
// the person who sent it.
type BadRecord struct{ Reason string }

func (e *BadRecord) Error() string { return e.Reason }

// Badf makes a BadRecord.
func Badf(format string, args ...any) *BadRecord {
	return &BadRecord{Reason: fmt.Sprintf(format, args...)}
}

// DecodeJSON decodes one JSON value, numbers kept as json.Number, and refuses
// anything after it.
func DecodeJSON(b []byte, v any) error {
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

// DecodeObject reads a body that must be one JSON object (a webhook).
func DecodeObject(body []byte) (Record, error) {
	var v any
	if err := DecodeJSON(body, &v); err != nil {
		return nil, Badf("the body is not valid JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Badf("the body must be a JSON object, got %s", KindOf(v))
	}
	return m, nil
}

// Record is a decoded JSON object (numbers as json.Number) with typed getters
// whose errors name the field, for the 400 answer.
type Record map[string]any

// KindOf names a decoded JSON value's type for a message: "a string", "null".
func KindOf(v any) string {
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

// Clip shortens s to n bytes for a message, marking the cut.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// text reads a field as text: a string (trimmed), or when numbers is true a
// JSON number written as sent (CSV exports and some providers quote numbers,
// others don't); missing or null is "". what names the expected value in
// the error.
func (p Record) text(key, what string, numbers bool) (string, error) {
	switch v := p[key].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		if numbers {
			return v.String(), nil
		}
	}
	return "", Badf("%s must be %s, got %s", key, what, KindOf(p[key]))
}

// Str is a text field: a string (or a number, written as sent); missing or
// null is "".
func (p Record) Str(key string) (string, error) {
	return p.text(key, "a string", true)
}

// Strict is a text field that must be a string (or absent / null).
func (p Record) Strict(key string) (string, error) {
	return p.text(key, "a string", false)
}

// ID is an identifier: a non-empty string or a whole number.
func (p Record) ID(key string) (string, error) {
	s, err := p.text(key, "a string or a whole number", true)
	if n, ok := p[key].(json.Number); ok && err == nil {
		if _, err := n.Int64(); err != nil {
			return "", Badf("%s must be a string or a whole number, got %s", key, n)
		}
	}
	return s, err
}

// Seconds is a duration in seconds: a number or a numeric string ("13");
// missing, null or "" is nil.
func (p Record) Seconds(key string) (*int64, error) {
	text, err := p.text(key, "a number of seconds", true)
	if err != nil || text == "" {
		return nil, err
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f > 1e9 {
		return nil, Badf("%s must be a number of seconds, got %q", key, Clip(text, 40))
	}
	n := int64(math.Round(f))
	return &n, nil
}

// Epoch reads a Unix time: seconds (scale 1) or milliseconds (scale 1000),
// as a number or numeric string.
func (p Record) Epoch(key string, scale int64) (*time.Time, error) {
	text, err := p.text(key, "a Unix time", true)
	if err != nil || text == "" {
		return nil, err
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f <= 0 || f > 1e15 {
		return nil, Badf("%s must be a Unix time, got %q", key, Clip(text, 40))
	}
	return plausible(key, text, time.UnixMilli(int64(math.Round(f*1000/float64(scale)))))
}

// Time reads a date-time string in any of the forms providers and Salesforce
// write (see ParseTime); missing, null or "" is nil.
func (p Record) Time(key string) (*time.Time, error) {
	s, err := p.Str(key)
	if err != nil || s == "" {
		return nil, err
	}
	return ParseTime(key, s)
}

// Date reads a Salesforce date (ActivityDate, CloseDate: "2024-03-01"), or
// the date part of a date-time, as UTC midnight; it must be a string.
// Missing, null or "" is nil.
func (p Record) Date(key string) (*time.Time, error) {
	s, err := p.Strict(key)
	if err != nil || s == "" {
		return nil, err
	}
	return ParseDate(key, s)
}

// Bool reads a checkbox field (IsWon, IsClosed): JSON true or false, or as
// a CSV export writes it, "true"/"false" (any case) or "1"/"0"; the numbers
// 1 and 0 too. Missing, null or "" is nil.
func (p Record) Bool(key string) (*bool, error) {
	var text string
	switch v := p[key].(type) {
	case nil:
		return nil, nil
	case bool:
		return &v, nil
	case string:
		text = strings.ToLower(strings.TrimSpace(v))
	case json.Number:
		text = v.String()
	default:
		return nil, Badf("%s must be true or false, got %s", key, KindOf(v))
	}
	var b bool
	switch text {
	case "":
		return nil, nil
	case "true", "1":
		b = true
	case "false", "0":
		b = false
	default:
		return nil, Badf("%s must be true or false (or 1 / 0), got %q", key, Clip(text, 40))
	}
	return &b, nil
}

// Amount reads a money amount (Opportunity.Amount): a number or a numeric
// string ("1250.50"), 0 or more. Missing, null or "" is 0. Thousands
// separators and currency signs are refused rather than guessed at.
func (p Record) Amount(key string) (float64, error) {
	text, err := p.text(key, "a number", true)
	if err != nil || text == "" {
		return 0, err
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.IndexFunc(text, notDecimal) >= 0 {
		return 0, Badf("%s must be a number such as 1250.50, got %q", key, Clip(text, 40))
	}
	if f < 0 {
		return 0, Badf("%s must be 0 or more, got %s", key, Clip(text, 40))
	}
	return f, nil
}

// notDecimal is true for what a plain decimal number does not contain (hex
// floats, "Inf", "NaN", underscores are valid to ParseFloat).
func notDecimal(r rune) bool {
	return !(r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+' || r == 'e' || r == 'E')
}
