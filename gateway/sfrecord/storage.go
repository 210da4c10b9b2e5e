package sfrecord

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/calltrail/calltrail/gateway/store"
)

// Table is where one kind of record is stored: a ReplacingMergeTree keyed by
// the record's id, whose version column makes the latest win (readers use
// FINAL).
type Table struct {
	Name     string   // call_tasks
	IDColumn string   // task_id
	Columns  []string // in the order a row is encoded
	Noun     string   // what a row is, for errors: "call", "opportunity"
}

// Saved counts what Save did: records new to CallTrail, and records that
// replaced an earlier version of themselves.
type Saved struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// Save stores recs in one insert, each encoded by row as a JSONEachRow line.
// A record whose id is already stored (or appears earlier in the same batch)
// counts as updated; within one batch the last record of an id wins and the
// earlier ones are not stored.
func Save[T any](ctx context.Context, st store.Store, tbl Table, recs []T, id func(T) string, row func(T) ([]byte, error)) (Saved, error) {
	var saved Saved
	if len(recs) == 0 {
		return saved, nil
	}
	last := make(map[string]int, len(recs))
	for i, r := range recs {
		last[id(r)] = i
	}
	ids := make([]string, 0, len(last))
	for k := range last {
		ids = append(ids, k)
	}
	existing, err := existingIDs(ctx, st, tbl, ids)
	if err != nil {
		return saved, err
	}
	var rows []byte
	for i, r := range recs {
		k := id(r)
		if last[k] != i {
			saved.Updated++ // superseded by a later record of the same batch
			continue
		}
		if existing[k] {
			saved.Updated++
		} else {
			saved.Created++
		}
		b, err := row(r)
		if err != nil {
			return Saved{}, fmt.Errorf("encode %s %s: %w", tbl.Noun, k, err)
		}
		rows = append(rows, b...)
	}
	if err := st.Insert(ctx, tbl.Name, tbl.Columns, "JSONEachRow", rows, ""); err != nil {
		return Saved{}, err
	}
	return saved, nil
}

// existingIDs returns which of ids are stored already. The ids travel as
// JSON both ways, so an id may hold any character (a tab, a quote, a
// newline) a CSV export or a provider put in it.
func existingIDs(ctx context.Context, st store.Store, tbl Table, ids []string) (map[string]bool, error) {
	in, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	// Table and column names are the caller's constants, never input.
	out, err := st.Query(ctx, "SELECT toJSONString(groupUniqArray("+tbl.IDColumn+")) FROM "+tbl.Name+
		" WHERE "+tbl.IDColumn+" IN JSONExtract({ids:String}, 'Array(String)')",
		"TSVRaw", store.Params{"ids": string(in)})
	if err != nil {
		return nil, fmt.Errorf("look up stored %s ids: %w", tbl.Noun, err)
	}
	var stored []string
	if err := json.Unmarshal(out, &stored); err != nil {
		return nil, fmt.Errorf("look up stored %s ids: %w", tbl.Noun, err)
	}
	found := make(map[string]bool, len(stored))
	for _, id := range stored {
		found[id] = true
	}
	return found, nil
}
