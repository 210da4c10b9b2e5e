// Package store is CallTrail's one way to ClickHouse: the embedded engine
// (chDB) today, a ClickHouse server through the same interface later. The SQL
// is the same for both; only how it reaches the engine differs.
package store

import (
	"context"
	"errors"
)

// Params bind {name:Type} placeholders in a query. Values are ClickHouse
// text (for a String placeholder, the string itself); they are never
// interpolated into the SQL.
type Params map[string]string

// Store runs SQL against CallTrail's database.
type Store interface {
	// Exec runs a statement whose output is not needed (DDL, inserts of a
	// few literal rows).
	Exec(ctx context.Context, query string, params Params) error
	// Query runs a statement for CallTrail itself and returns its output in
	// a ClickHouse format such as "JSONEachRow" or "TSV".
	Query(ctx context.Context, query, format string, params Params) ([]byte, error)
	// QueryReadOnly runs an analyst's statement with ClickHouse's
	// readonly=1 in force: anything that writes fails in the engine.
	QueryReadOnly(ctx context.Context, query, format string) ([]byte, error)
	// Insert appends rows, encoded in format (e.g. "TabSeparated"), to the
	// named columns of table. A non-empty token is the insert deduplication
	// token: the same token and data inserted twice are stored once.
	Insert(ctx context.Context, table string, columns []string, format string, data []byte, token string) error
	// Close releases the store's connections.
	Close() error
}

// ErrBadData marks an insert the engine refused for the rows themselves (a
// value that does not parse, a broken CHECK constraint), raised before it
// stored any of them: the same rows fail the same way every time, while a
// part of them may be taken. Any other insert error may come from the store
// as a whole, or follow a partial store (a materialized view that failed
// after its source table took the rows).
var ErrBadData = errors.New("the store refused the rows")

// ErrReadOnly marks an analyst's statement that tried to write.
var ErrReadOnly = errors.New("read-only: this statement would change data")
