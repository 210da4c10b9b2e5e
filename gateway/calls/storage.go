package calls

import (
	"context"
	"fmt"
	"strings"

	"github.com/calltrail/calltrail/gateway/store"
)

// Saved counts what Save did: calls new to CallTrail, and calls that
// replaced an earlier version of themselves.
type Saved struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// Save stores tasks in call_tasks in one insert. A task whose id is already
// stored (or appears earlier in the same batch) counts as updated; the
// highest version wins when the calls are read (FINAL).
func Save(ctx context.Context, st store.Store, tasks []*Task) (Saved, error) {
	var saved Saved
	if len(tasks) == 0 {
		return saved, nil
	}
	// Within one batch, the last record of an id wins; earlier ones are
	// updates that never need storing.
	last := make(map[string]int, len(tasks))
	for i, t := range tasks {
		last[t.TaskID] = i
	}
	ids := make([]string, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	existing, err := existingIDs(ctx, st, ids)
	if err != nil {
		return saved, err
	}
	var rows []byte
	for i, t := range tasks {
		if last[t.TaskID] != i {
			saved.Updated++ // superseded by a later record of the same batch
			continue
		}
		if existing[t.TaskID] {
			saved.Updated++
		} else {
			saved.Created++
		}
		r, err := t.row()
		if err != nil {
			return Saved{}, fmt.Errorf("encode call %s: %w", t.TaskID, err)
		}
		rows = append(rows, r...)
	}
	if err := st.Insert(ctx, "call_tasks", Columns, "JSONEachRow", rows, ""); err != nil {
		return Saved{}, err
	}
	return saved, nil
}

// existingIDs returns which of ids are stored already.
func existingIDs(ctx context.Context, st store.Store, ids []string) (map[string]bool, error) {
	out, err := st.Query(ctx, "SELECT DISTINCT task_id FROM call_tasks WHERE task_id IN {ids:Array(String)}",
		"TSVRaw", store.Params{"ids": arrayLiteral(ids)})
	if err != nil {
		return nil, fmt.Errorf("look up stored calls: %w", err)
	}
	found := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if line != "" {
			found[line] = true
		}
	}
	return found, nil
}

// arrayLiteral writes strings as a ClickHouse Array(String) value.
func arrayLiteral(ss []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quote(s))
	}
	b.WriteByte(']')
	return b.String()
}

// quote writes s as a single-quoted ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\t", `\t`, "\r", `\r`, "\x00", `\0`).Replace(s) + "'"
}
