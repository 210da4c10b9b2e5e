// Package reports runs the dashboard's reports: named, parameterised queries
// kept as SQL files in sql/reports, so that what the dashboard shows is
// exactly what an analyst gets from the same SQL.
package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	calltrailsql "github.com/calltrail/calltrail/sql"

	"github.com/calltrail/calltrail/gateway/store"
)

// Param is a report's own parameter, besides the date range.
type Param struct {
	Name    string   `json:"name"`
	Default string   `json:"default"`
	Allowed []string `json:"allowed,omitempty"` // empty: any value
	Help    string   `json:"help"`
}

// Report is one of the dashboard's reports.
type Report struct {
	Name   string  `json:"name"`
	Title  string  `json:"title"`
	Params []Param `json:"params"` // besides from and to, which every report takes
}

// All lists the reports; each has sql/reports/{Name}.sql.
var All = []Report{
	{Name: "summary", Title: "Headline numbers"},
	{Name: "touchpoints_by_channel", Title: "Touchpoints by channel and type"},
	{Name: "calls_by_channel", Title: "Phone calls by channel, source and campaign",
		Params: []Param{{Name: "grain", Default: "day", Allowed: []string{"day", "week"}, Help: "day or week"}}},
	{Name: "call_match_rate", Title: "Call match rate by verdict"},
	{Name: "calls", Title: "Calls and their verdicts"},
	{Name: "unmatched_calls", Title: "Unmatched calls by verdict"},
	{Name: "revenue_by_channel", Title: "Revenue and pipeline by channel and model",
		Params: []Param{{Name: "model", Allowed: []string{"", "first_touch", "lead_creation", "u_shaped", "w_shaped", "full_path", "linear"}, Help: "one model, or all when empty"}}},
	{Name: "journey", Title: "One person's journey",
		Params: []Param{{Name: "person", Help: "a person_id or one of the person's uids (required)"}}},
}

// Column describes one column of a result.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is a report's answer (GET /v1/reports/{name}).
type Result struct {
	Report  string            `json:"report"`
	From    string            `json:"from"`
	To      string            `json:"to"`
	Params  map[string]string `json:"params,omitempty"`
	Columns []Column          `json:"columns"`
	Rows    []map[string]any  `json:"rows"`
}

// ErrUnknown is returned for a report name that does not exist.
var ErrUnknown = errors.New("no such report")

// BadRequest is a parameter the caller must fix.
type BadRequest struct{ Reason string }

func (e *BadRequest) Error() string { return e.Reason }

// DefaultDays is the date range when none is given: the last 30 days.
const DefaultDays = 30

// Run runs the named report with the caller's query parameters (from, to
// and the report's own). today anchors the default range.
func Run(ctx context.Context, st store.Store, name string, query map[string]string, today time.Time) (*Result, error) {
	i := slices.IndexFunc(All, func(r Report) bool { return r.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w: %q; reports are %s", ErrUnknown, name, names())
	}
	rep := All[i]
	from, to, err := dateRange(query["from"], query["to"], today)
	if err != nil {
		return nil, err
	}
	params := store.Params{"from": from, "to": to}
	shown := map[string]string{}
	for _, p := range rep.Params {
		v, ok := query[p.Name]
		if !ok {
			v = p.Default
		}
		if len(p.Allowed) > 0 && !slices.Contains(p.Allowed, v) {
			return nil, &BadRequest{fmt.Sprintf("%s must be one of %s", p.Name, strings.Join(p.Allowed, ", "))}
		}
		if p.Name == "person" && v == "" {
			return nil, &BadRequest{"person is required: a person_id or a uid (32 hex characters)"}
		}
		params[p.Name] = v
		shown[p.Name] = v
	}
	sqlText, err := fs.ReadFile(calltrailsql.Reports, "reports/"+name+".sql")
	if err != nil {
		return nil, err
	}
	out, err := st.Query(ctx, string(sqlText), "JSON", params)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", name, err)
	}
	res, err := decode(out)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", name, err)
	}
	res.Report, res.From, res.To = name, from, to
	if len(shown) > 0 {
		res.Params = shown
	}
	return res, nil
}

func names() string {
	var n []string
	for _, r := range All {
		n = append(n, r.Name)
	}
	return strings.Join(n, ", ")
}

// dateRange reads from/to (YYYY-MM-DD, inclusive); defaults: the last
// DefaultDays days up to today.
func dateRange(from, to string, today time.Time) (string, string, error) {
	end := today.UTC().Truncate(24 * time.Hour)
	if to != "" {
		t, err := time.Parse(time.DateOnly, to)
		if err != nil {
			return "", "", &BadRequest{fmt.Sprintf("to must be a date like 2026-12-03, got %q", to)}
		}
		end = t
	}
	start := end.AddDate(0, 0, -(DefaultDays - 1))
	if from != "" {
		t, err := time.Parse(time.DateOnly, from)
		if err != nil {
			return "", "", &BadRequest{fmt.Sprintf("from must be a date like 2026-11-01, got %q", from)}
		}
		start = t
	}
	if start.After(end) {
		return "", "", &BadRequest{fmt.Sprintf("from (%s) is after to (%s)", start.Format(time.DateOnly), end.Format(time.DateOnly))}
	}
	return start.Format(time.DateOnly), end.Format(time.DateOnly), nil
}

// decode reads ClickHouse's JSON format. 64-bit integers arrive quoted (so
// JavaScript does not round them); counts are far below 2^53, so they are
// turned back into numbers for the dashboard.
func decode(out []byte) (*Result, error) {
	var raw struct {
		Meta []Column                     `json:"meta"`
		Data []map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, err
	}
	res := &Result{Columns: raw.Meta, Rows: make([]map[string]any, 0, len(raw.Data))}
	for _, row := range raw.Data {
		r := make(map[string]any, len(row))
		for _, c := range raw.Meta {
			v := row[c.Name]
			if isInt64(c.Type) && len(v) > 1 && v[0] == '"' {
				v = bytes.Trim(v, `"`)
			}
			var x any
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			if err := d.Decode(&x); err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			r[c.Name] = x
		}
		res.Rows = append(res.Rows, r)
	}
	return res, nil
}

func isInt64(t string) bool {
	t = strings.TrimSuffix(strings.TrimPrefix(t, "Nullable("), ")")
	return t == "UInt64" || t == "Int64"
}
