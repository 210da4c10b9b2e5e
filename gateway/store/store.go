// Package store is CallTrail's one way to ClickHouse: the embedded engine
// (chDB) today, a ClickHouse server through the same interface later. The SQL
// is the same for both; only how it reaches the engine differs.
package store

import (
	"context"
	"errors"
)

// Params bind {name:Type} placeholders in a query. A value is the value's
// text: for a String placeholder the string itself, any bytes (the store
// escapes it for the engine); for numbers and dates their usual text. A list
// travels as JSON in a String, read with JSONExtract. Values are never
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
	// QueryReadOnly runs one analyst's statement if it only reads, as
	// ClickHouse's parser sees it (SELECT, SHOW, DESCRIBE, EXISTS, EXPLAIN),
	// with ClickHouse's readonly=1 in force; anything else is ErrReadOnly.
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

// ErrReadOnly marks an analyst's statement that does not only read.
var ErrReadOnly = errors.New("only reads are allowed here")
