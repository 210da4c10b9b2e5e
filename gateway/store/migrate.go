package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	calltrailsql "github.com/calltrail/calltrail/sql"
)

// Migration is one numbered step of the schema: a SQL file, or, where SQL
// alone cannot say it (a view generated from data), a Go function.
type Migration struct {
	Version int
	Name    string
	SQL     string
	Run     func(ctx context.Context, s Store) error
}

// SQLMigrations returns the migrations shipped in sql/migrations, in order.
// gateway/schema adds the Go steps to make the whole schema.
func SQLMigrations() ([]Migration, error) {
	return ReadMigrations(calltrailsql.Migrations, "migrations")
}

// ReadMigrations reads NNN_name.sql files from dir of fsys.
func ReadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || path.Ext(name) != ".sql" {
			return nil, fmt.Errorf("migration %s: name must be NNN_description.sql", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share number %d", prev, name, v)
		}
		seen[v] = name
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrate applies, in order, every migration not yet recorded in the
// schema_migrations table, and returns the names of those it applied. Running
// it again applies nothing. Statements use IF NOT EXISTS / OR REPLACE, so a
// migration interrupted half-way is safe to run again.
func Migrate(ctx context.Context, s Store, ms []Migration) ([]string, error) {
	err := s.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations
		(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
		ENGINE = MergeTree ORDER BY version`, nil)
	if err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	out, err := s.Query(ctx, "SELECT version FROM schema_migrations", "TSV", nil)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	done := map[int]bool{}
	for _, line := range strings.Fields(string(out)) {
		v, _ := strconv.Atoi(line)
		done[v] = true
	}
	var applied []string
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		for i, stmt := range Statements(m.SQL) {
			if err := s.Exec(ctx, stmt, nil); err != nil {
				return applied, fmt.Errorf("migration %s, statement %d: %w", m.Name, i+1, err)
			}
		}
		if m.Run != nil {
			if err := m.Run(ctx, s); err != nil {
				return applied, fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		err := s.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ({v:UInt32}, {n:String})",
			Params{"v": strconv.Itoa(m.Version), "n": m.Name})
		if err != nil {
			return applied, fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
	}
	return applied, nil
}

// Statements splits a SQL file into statements: each ends with a semicolon
// at the end of a line. Comment-only pieces are dropped.
func Statements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if hasCode(s) {
			out = append(out, s)
		}
	}
	for _, line := range strings.SplitAfter(sqlText, "\n") {
		trimmed := strings.TrimRight(line, " \t\r\n")
		if strings.HasSuffix(trimmed, ";") && !strings.HasPrefix(strings.TrimSpace(trimmed), "--") {
			cur.WriteString(strings.TrimSuffix(trimmed, ";"))
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return out
}

func hasCode(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "--") {
			return true
		}
	}
	return false
}
