// Package sftest checks what every Salesforce-record endpoint and CSV import
// reports about the records it refused, so the Task and Opportunity tests
// hold them to one standard.
package sftest

import (
	"strings"
	"testing"
)

// Rejections checks a 400 answer's "rejected" list: exactly one entry per
// index in want, each with a reason containing want[index]. It returns the
// list for further checks.
func Rejections(t testing.TB, ans map[string]any, want map[float64]string) []any {
	t.Helper()
	rejected, _ := ans["rejected"].([]any)
	if len(rejected) != len(want) {
		t.Fatalf("rejected %v, want %d records", rejected, len(want))
	}
	for _, r := range rejected {
		r := r.(map[string]any)
		index, _ := r["index"].(float64)
		reason, _ := r["reason"].(string)
		if w := want[index]; w == "" || !strings.Contains(reason, w) {
			t.Errorf("rejection %v, want a reason with %q", r, w)
		}
	}
	return rejected
}

// ImportReport checks a CSV import's output: the rejected-rows report has one
// line per rejected row and contains each of lines; progress has one line
// per batch.
func ImportReport(t testing.TB, rejected, progress string, rejectedRows, batches int, lines ...string) {
	t.Helper()
	for _, w := range lines {
		if !strings.Contains(rejected, w) {
			t.Errorf("rejected rows do not say %q:\n%s", w, rejected)
		}
	}
	if n := strings.Count(rejected, "\n"); n != rejectedRows {
		t.Errorf("%d rejection lines for %d rejected rows:\n%s", n, rejectedRows, rejected)
	}
	if n := strings.Count(progress, "\n"); n != batches {
		t.Errorf("progress:\n%s\nwant a line per batch (%d)", progress, batches)
	}
}
