package store_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/calltrail/calltrail/gateway/schema"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func TestMigrateIsIdempotentAndAppliesNewOnesOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.OpenEmpty(t)
	ms, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	applied, err := store.Migrate(ctx, s, ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(ms) || len(ms) == 0 {
		t.Fatalf("first run applied %v, want all %d migrations", applied, len(ms))
	}
	tables := func() string {
		out, err := s.Query(ctx, "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name", "TSV", nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	before := tables()
	for _, want := range []string{"events\n", "events_raw\n", "sessions\n", "sessions_agg\n", "schema_migrations\n"} {
		if !strings.Contains(before, want) {
			t.Errorf("after migrating, tables %q lack %q", before, want)
		}
	}

	// A restart: nothing applied, nothing changed.
	again, err := store.Migrate(ctx, s, ms)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run applied %v (err %v), want none", again, err)
	}
	if after := tables(); after != before {
		t.Fatalf("tables changed on a re-run:\n%s\nvs\n%s", before, after)
	}

	// A new migration applies once.
	extra := append(slices.Clone(ms), store.Migration{Version: 999, Name: "999_extra.sql",
		SQL: "-- a comment\nCREATE TABLE IF NOT EXISTS extra (a UInt8) ENGINE = MergeTree ORDER BY a;\n"})
	for i, wantApplied := range []int{1, 0} {
		got, err := store.Migrate(ctx, s, extra)
		if err != nil || len(got) != wantApplied {
			t.Fatalf("run %d with a new migration applied %v (err %v), want %d", i, got, err, wantApplied)
		}
	}
	out, _ := s.Query(ctx, "SELECT count() FROM schema_migrations WHERE version = 999", "TSV", nil)
	if strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("migration 999 recorded %s times", out)
	}
}

func TestMigrationNamesAreChecked(t *testing.T) {
	for name, files := range map[string]fstest.MapFS{
		"no number": {"m/abc.sql": {Data: []byte("SELECT 1;")}},
		"duplicate": {"m/001_a.sql": {Data: []byte("SELECT 1;")}, "m/001_b.sql": {Data: []byte("SELECT 1;")}},
	} {
		if _, err := store.ReadMigrations(files, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestStatements(t *testing.T) {
	got := store.Statements("-- head\nCREATE TABLE a (x String DEFAULT 'a;b')\nENGINE = Memory;\n\n-- only a comment;\nSELECT 1;\n-- tail\n")
	want := []string{"-- head\nCREATE TABLE a (x String DEFAULT 'a;b')\nENGINE = Memory", "-- only a comment;\nSELECT 1"}
	if !slices.Equal(got, want) {
		t.Fatalf("Statements = %q, want %q", got, want)
	}
}

func TestAnalystConnectionIsReadOnly(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	if _, err := s.QueryReadOnly(ctx, "SELECT count() FROM events", "TSV"); err != nil {
		t.Fatalf("a read failed: %v", err)
	}
	for _, q := range []string{
		"INSERT INTO schema_migrations (version, name) VALUES (1, 'x')",
		"DROP TABLE events_raw",
		"SELECT 1; DROP TABLE events_raw",
		"SET readonly = 0",
		"SELECT * FROM file('/etc/hostname', 'LineAsString')",
		"CREATE TABLE x (a UInt8) ENGINE = Memory",
	} {
		if _, err := s.QueryReadOnly(ctx, q, "TSV"); err == nil {
			t.Errorf("%q was allowed on the analyst connection", q)
		}
	}
	out, err := s.Query(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'events_raw'", "TSV", nil)
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("events_raw is gone after the analyst's attempts: %q %v", out, err)
	}
	// The writer's connection is unaffected by the analyst's readonly.
	if err := s.Exec(ctx, "CREATE TABLE IF NOT EXISTS y (a UInt8) ENGINE = Memory", nil); err != nil {
		t.Fatalf("writer lost its rights: %v", err)
	}
}
