// Package channels classifies sessions into marketing channels the way Marketo
// Measure's channel sheet does: an ordered list of rows, read top-down, the
// first row whose every filled cell matches wins. The sheet is a CSV file
// (default.csv is CallTrail's own); Apply stores it in ClickHouse, where the
// sessions view reads it at query time, so a new sheet reclassifies every
// stored session and touchpoint without re-ingesting anything.
package channels

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

//go:embed default.csv
var defaultSheet []byte

// Field is a session property a rule can test.
type Field int

// The fields, in the order of the sheet's columns.
const (
	Campaign Field = iota
	Medium
	Source
	LandingPage
	ReferringWebsite
	ClickID
	numFields
)

// columns maps header names (lower case) to fields.
var columns = map[string]Field{
	"campaign": Campaign, "medium": Medium, "source": Source,
	"landing page": LandingPage, "referring website": ReferringWebsite, "click id": ClickID,
}

var clickIDs = map[string]bool{"gclid": true, "gbraid": true, "wbraid": true, "msclkid": true,
	"fbclid": true, "ttclid": true, "li_fat_id": true, "twclid": true}

// Rule is one row of the sheet.
type Rule struct {
	Line       int // line in the file, for messages
	Channel    string
	Subchannel string
	// Patterns per field: alternatives, each a ClickHouse ILIKE pattern.
	// None means the cell was empty: anything matches.
	Patterns [numFields][]string
}

// Default returns CallTrail's default sheet.
func Default() []Rule {
	rules, err := Parse(bytes.NewReader(defaultSheet))
	if err != nil {
		panic("channels: default.csv: " + err.Error()) // a test guards this
	}
	return rules
}

// DefaultSheet is the default sheet's text, to show users or start their own.
func DefaultSheet() []byte { return bytes.Clone(defaultSheet) }

// LineError names the line of the sheet that is wrong and why.
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Parse reads a channel sheet: a header row naming the columns (Channel and
// Subchannel first, then any of Campaign, Medium, Source, Landing Page,
// Referring Website, Click ID, Note, in any order), then one rule per row.
// Lines starting with # are comments. A sheet with any error is refused
// whole, with the line and the reason.
func Parse(r io.Reader) ([]Rule, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, &LineError{1, "the sheet has no header row: " + errText(err)}
	}
	line, _ := cr.FieldPos(0)
	fieldOf := make([]Field, len(header)) // -1 for Channel/Subchannel/Note
	var channelCol, subCol = -1, -1
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		fieldOf[i] = -1
		switch name {
		case "channel":
			channelCol = i
		case "subchannel":
			subCol = i
		case "note", "notes", "do not remove":
		default:
			f, ok := columns[name]
			if !ok {
				return nil, &LineError{line, fmt.Sprintf("unknown column %q; columns are Channel, Subchannel, Campaign, Medium, Source, Landing Page, Referring Website, Click ID, Note", h)}
			}
			fieldOf[i] = f
		}
	}
	if channelCol < 0 {
		return nil, &LineError{line, "the header has no Channel column"}
	}
	var rules []Rule
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ = cr.FieldPos(0)
		if err != nil {
			return nil, &LineError{line, errText(err)}
		}
		if len(rec) > len(header) {
			return nil, &LineError{line, fmt.Sprintf("%d cells but the header names %d columns", len(rec), len(header))}
		}
		rule := Rule{Line: line, Channel: strings.TrimSpace(rec[channelCol])}
		if rule.Channel == "" {
			return nil, &LineError{line, "Channel is empty"}
		}
		if subCol >= 0 && subCol < len(rec) {
			rule.Subchannel = strings.TrimSpace(rec[subCol])
		}
		for i, cell := range rec {
			if fieldOf[i] < 0 || strings.TrimSpace(cell) == "" {
				continue
			}
			pats, err := patterns(fieldOf[i], cell)
			if err != nil {
				return nil, &LineError{line, fmt.Sprintf("%s: %v", header[i], err)}
			}
			rule.Patterns[fieldOf[i]] = pats
		}
		rules = append(rules, rule)
	}
	if len(rules) == 0 {
		return nil, &LineError{line, "the sheet has no rules"}
	}
	return rules, nil
}

// patterns turns a cell ("cpc;ppc", "*google.*", "(none)") into ILIKE patterns.
func patterns(f Field, cell string) ([]string, error) {
	var out []string
	for _, alt := range strings.Split(cell, ";") {
		v := strings.TrimSpace(alt)
		switch {
		case v == "":
			return nil, fmt.Errorf("an empty alternative in %q (remove the extra ;)", cell)
		case v == "(none)":
			out = append(out, "") // ILIKE '' matches only the empty string
		case f == ClickID:
			if !clickIDs[strings.ToLower(v)] {
				return nil, fmt.Errorf("%q is not a click id; use gclid, gbraid, wbraid, msclkid, fbclid, ttclid, li_fat_id or twclid", v)
			}
			out = append(out, strings.ToLower(v))
		case v == "*":
			out = append(out, "_%") // anything but empty
		default:
			core := strings.TrimSuffix(strings.TrimPrefix(v, "*"), "*")
			if strings.Contains(core, "*") {
				return nil, fmt.Errorf("%q: * may stand only at the start or end of a value", v)
			}
			p := likeEscape(core)
			if strings.HasPrefix(v, "*") {
				p = "%" + p
			}
			if strings.HasSuffix(v, "*") && len(v) > 1 {
				p += "%"
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// likeEscape quotes LIKE's own wildcards so that utm_medium=paid_social
// matches only itself.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func errText(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
