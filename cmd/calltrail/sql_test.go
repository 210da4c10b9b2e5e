package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// `calltrail sql` against a real gateway: the default table format, another
// format on request, and a write refused with the gateway's reason.
func TestSQLCommand(t *testing.T) {
	g := startGateway(t, t.TempDir())
	conn := []string{"sql", "--url", g.url, "--token", testToken}

	stdout, stderr, status := calltrail(t, "", nil, append(conn, "SELECT 40 + 2 AS answer")...)
	if status != 0 || !strings.Contains(stdout, "answer") || !strings.Contains(stdout, "42") {
		t.Errorf("PrettyCompact: status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	stdout, _, status = calltrail(t, "", nil, append(conn, "--format", "CSV", "SELECT 'a,b' AS s, 1 AS n")...)
	if status != 0 || stdout != "\"a,b\",1\n" {
		t.Errorf("CSV: status %d, stdout %q", status, stdout)
	}
	_, stderr, status = calltrail(t, "", nil, append(conn, "DROP TABLE events_raw")...)
	if status != 1 || !strings.Contains(stderr, "403") || !strings.Contains(stderr, "only reads") {
		t.Errorf("a write: status %d, stderr %q; want 1 and the 403's reason", status, stderr)
	}
	if got := strings.TrimSpace(g.sql(t, "SELECT count() FROM system.tables WHERE database = 'calltrail' AND name = 'events_raw'")); got != "1" {
		t.Errorf("events_raw after the refused DROP: %q tables", got)
	}
}

// A binary that cannot find libchdb.so says what is missing and which
// command fetches it, and exits 1 without a panic.
func TestMissingEngineNamesTheFix(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libchdb.so")
	_, stderr, status := calltrail(t, "", []string{"CHDB_LIB_PATH=" + missing},
		"migrate", "--data", t.TempDir())
	if status != 1 || !strings.Contains(stderr, missing) || !strings.Contains(stderr, "make lib") || strings.Contains(stderr, "panic") {
		t.Fatalf("status %d, stderr %q; want 1, the path and `make lib`", status, stderr)
	}
}
