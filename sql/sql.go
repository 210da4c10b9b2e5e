// Package sql holds CallTrail's ClickHouse SQL: numbered migrations that build
// the schema, and the view templates the gateway fills in (the sessions view,
// from the channel sheet in force). The same text runs on the embedded engine
// and on a ClickHouse server (24.8 LTS or newer).
package sql

import (
	"embed"
	_ "embed"
)

// Migrations are files named NNN_name.sql, applied in order, once each.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// SessionsView creates the sessions view; its CHANNEL_RULES placeholder is
// replaced by the channel sheet in force (gateway/channels).
//
//go:embed views/sessions.sql
var SessionsView string

// Reports are the dashboard's queries, one file each (gateway/reports
// names them and their parameters).
//
//go:embed reports/*.sql
var Reports embed.FS
