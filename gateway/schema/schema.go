// Package schema is CallTrail's whole database layout, in order: the numbered
// SQL migrations of sql/migrations and the steps that SQL alone cannot say
// (the sessions view, generated from the channel sheet in force).
package schema

import (
	"context"
	"sort"

	"github.com/calltrail/calltrail/gateway/channels"
	"github.com/calltrail/calltrail/gateway/store"
)

// goSteps are the migrations written in Go, numbered among the SQL files.
var goSteps = []store.Migration{
	{Version: 6, Name: "006_sessions_view (gateway/channels: the default channel sheet and the sessions view)", Run: channels.Install},
}

// Migrations returns every migration, SQL and Go, in order.
func Migrations() ([]store.Migration, error) {
	ms, err := store.SQLMigrations()
	if err != nil {
		return nil, err
	}
	ms = append(ms, goSteps...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// Migrate brings a store's schema up to date, then regenerates the sessions
// view from the sheet in force, so that a new release's view definition
// takes effect on stores migrated before it.
func Migrate(ctx context.Context, st store.Store) (applied []string, err error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if applied, err = store.Migrate(ctx, st, ms); err != nil {
		return applied, err
	}
	return applied, channels.Refresh(ctx, st)
}
