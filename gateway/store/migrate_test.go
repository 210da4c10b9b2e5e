package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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

// ClickHouse decides what an analyst's statement is: its parser names the
// kind and only reads run, on a readonly=1 connection.
func TestAnalystConnectionIsReadOnly(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	for _, q := range []string{
		"SELECT count() FROM events",
		"with x AS (SELECT 1 AS n)\nSELECT n FROM x -- a comment",
		"(SELECT 1) UNION ALL SELECT 2",
		"SELECT 1 INTERSECT SELECT 1",
		"SELECT 1 EXCEPT SELECT 2",
		"SELECT 'a\tb\\n' AS `tab and backslash` FORMAT JSON",
		"SELECT 1;",
		"SHOW TABLES",
		"SHOW CREATE TABLE events_raw",
		"DESCRIBE events",
		"DESC (SELECT 1 AS n)",
		"EXISTS TABLE events",
		"EXPLAIN SELECT count() FROM events",
		"EXPLAIN AST INSERT INTO events_raw (site) VALUES ('x')",
	} {
		if _, err := s.QueryReadOnly(ctx, q, "TSV"); err != nil {
			t.Errorf("a read failed: %q: %v", q, err)
		}
	}
	outfile := filepath.Join(t.TempDir(), "out.tsv")
	for _, q := range []string{
		"SYSTEM STOP MERGES",
		"SYSTEM FLUSH LOGS",
		"KILL QUERY WHERE 1 SYNC",
		"INSERT INTO schema_migrations (version, name) VALUES (1, 'x')",
		"CREATE TABLE x (a UInt8) ENGINE = Memory",
		"ALTER TABLE events_raw DELETE WHERE 1",
		"SET readonly = 0",
		"OPTIMIZE TABLE events_raw FINAL",
		"DROP TABLE events_raw",
		"TRUNCATE TABLE events_raw",
		"USE system",
		"GRANT SELECT ON *.* TO default",
		"SELECT 1 INTO OUTFILE '" + outfile + "'",
		"DESCRIBE file('/etc/hostname', 'LineAsString')",
		"SELECT * FROM file('/etc/hostname', 'LineAsString')",
		"SELECT 1 SETTINGS readonly = 0",
	} {
		if _, err := s.QueryReadOnly(ctx, q, "TSV"); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%q: %v, want ErrReadOnly", q, err)
		}
	}
	if _, err := os.Stat(outfile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("INTO OUTFILE wrote %s: %v", outfile, err)
	}
	// Two statements are not one: refused before either runs.
	for _, q := range []string{"SELECT 1; DROP TABLE events_raw", "SELECT 1; SYSTEM STOP MERGES", "SELEC 1", ""} {
		if _, err := s.QueryReadOnly(ctx, q, "TSV"); err == nil || errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%q: %v, want a syntax error", q, err)
		}
	}
	// USE was refused: the connection still reads CallTrail's database.
	if out, err := s.QueryReadOnly(ctx, "SELECT currentDatabase() = 'system'", "TSV"); err != nil || string(out) != "0\n" {
		t.Fatalf("the analyst connection switched database: %q %v", out, err)
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

// A parameter's value reaches ClickHouse as given, whatever bytes it holds:
// the store escapes it for the engine (a task id with a tab or a backslash
// once ended the value early or lost the backslash).
func TestParamsCarryAnyBytes(t *testing.T) {
	s := storetest.OpenEmpty(t)
	text := "tab\there, back\\slash, quote' and \"double\", new\nline, cr\r, nul\x00."
	out, err := s.Query(context.Background(), "SELECT hex({s:String}), hex(JSONExtract({a:String}, 'Array(String)')[2])", "TSV",
		store.Params{"s": text, "a": `["x", "it's a \\ back\t"]`})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ToUpper(hex(text)) + "\t" + strings.ToUpper(hex("it's a \\ back\t")) + "\n"
	if string(out) != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
}

func hex(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}
