// Package sql holds CallTrail's ClickHouse SQL: numbered migrations that build
// the schema, and the report queries. The same text runs on the embedded
// engine and on a ClickHouse server (24.8 LTS or newer).
package sql

import "embed"

// Migrations are files named NNN_name.sql, applied in order, once each.
//
//go:embed migrations/*.sql
var Migrations embed.FS
