package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// calltrail runs this test binary as the calltrail command (TestMain) with
// args, stdin and extra environment, and returns what it printed and its
// exit status.
func calltrail(t *testing.T, stdin string, env []string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	// The last value of a duplicate key wins: env overrides the test's own.
	cmd.Env = append(append(os.Environ(), "CALLTRAIL_TEST_MAIN=1"), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), exit.ExitCode()
	} else if err != nil {
		t.Fatalf("calltrail %v: %v", args, err)
	}
	return out.String(), errOut.String(), 0
}

const cliUID = "0123456789abcdef0123456789abcdef"

// A Data Loader export: two good rows and one with a US-style date.
const tasksCSV = `Id,Type,Subject,CreatedDate,bizible2__BizibleId__c,bizible2__Bizible_Touchpoint_Date__c
T-CLI-1,Call,Inbound call,2024-03-01T12:12:00.000Z,` + cliUID + `,2024-03-01T12:10:00.000Z
T-CLI-2,Call,Inbound call,03/01/2024 13:05,,
T-CLI-3,,Inbound call,2024-03-01T15:00:00.000Z,,
`

// `calltrail import tasks` and `calltrail explain` against a real gateway:
// their arguments, the stdout summary, the exit status, and explain's time
// zone taken from $TZ in any of the forms $TZ comes in.
func TestImportAndExplainCommands(t *testing.T) {
	g := startGateway(t, t.TempDir())
	dir := t.TempDir()
	file := filepath.Join(dir, "tasks.csv")
	if err := os.WriteFile(file, []byte(tasksCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	conn := []string{"--url", g.url, "--token", testToken}
	noTZ := []string{"TZ="}

	t.Run("import arguments", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"import"}, "what to import: tasks or opportunities"},
			{[]string{"import", "calls", file}, `cannot import "calls"`},
			{append([]string{"import", "tasks"}, conn...), "give one CSV file"},
			{append(append([]string{"import", "tasks"}, conn...), file, file), "give one CSV file"},
			{append(append([]string{"import", "tasks"}, conn...), filepath.Join(dir, "missing.csv")), "no such file"},
		} {
			_, stderr, status := calltrail(t, "", nil, c.args...)
			if status != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("%v: status %d, stderr %q; want 1 and %q", c.args, status, stderr, c.want)
			}
		}
		// No token anywhere: it says where one comes from.
		_, stderr, status := calltrail(t, "", []string{"CALLTRAIL_API_TOKEN=", "CALLTRAIL_DATA=" + dir},
			"import", "tasks", "--url", g.url, file)
		if status != 1 || !strings.Contains(stderr, "no API token") {
			t.Errorf("without a token: status %d, stderr %q", status, stderr)
		}
	})

	t.Run("import tasks", func(t *testing.T) {
		stdout, stderr, status := calltrail(t, "", nil, append(append([]string{"import", "tasks"}, conn...), "--batch", "2", file)...)
		if want := file + ": 3 rows: 2 imported, 0 updated, 1 rejected\n"; stdout != want {
			t.Errorf("stdout %q, want %q", stdout, want)
		}
		if status != 1 {
			t.Errorf("exit status %d with a rejected row, want 1", status)
		}
		for _, want := range []string{
			`rejected: line 3 (Id T-CLI-2): CreatedDate: cannot read "03/01/2024 13:05"`,
			"import: 2 rows read: 1 imported, 0 updated, 1 rejected", // the first batch
			"1 row rejected (the reason is above)",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if got := strings.TrimSpace(g.sql(t, "SELECT groupArray(task_id) FROM (SELECT task_id FROM call_tasks FINAL ORDER BY task_id)")); got != "['T-CLI-1','T-CLI-3']" {
			t.Errorf("stored %s", got)
		}

		// The good rows again, from stdin: updated, nothing rejected, status 0.
		good := strings.Join(pick(strings.Split(tasksCSV, "\n"), 0, 1, 3), "\n") + "\n"
		stdout, stderr, status = calltrail(t, good, nil, append(append([]string{"import", "tasks"}, conn...), "-")...)
		if want := "-: 2 rows: 0 imported, 2 updated, 0 rejected\n"; stdout != want || status != 0 {
			t.Errorf("re-import: stdout %q, status %d; want %q and 0\n%s", stdout, status, want, stderr)
		}
	})

	t.Run("explain", func(t *testing.T) {
		_, stderr, status := calltrail(t, "", noTZ, append([]string{"explain"}, conn...)...)
		if status != 1 || !strings.Contains(stderr, "give one task_id") {
			t.Errorf("no task_id: status %d, stderr %q", status, stderr)
		}
		_, stderr, status = calltrail(t, "", noTZ, append(append([]string{"explain"}, conn...), "T-unknown")...)
		if status != 1 || !strings.Contains(stderr, "404") || !strings.Contains(stderr, "no call with task_id T-unknown") {
			t.Errorf("unknown call: status %d, stderr %q", status, stderr)
		}

		stdout, stderr, status := calltrail(t, "", noTZ, append(append([]string{"explain"}, conn...), "T-CLI-1")...)
		want := "T-CLI-1: no_session\n\nNot merged: no web session of this visitor (" + cliUID + ") has been recorded, so far, before the call at 12:10;"
		if status != 0 || !strings.HasPrefix(stdout, want) || !strings.Contains(stdout, "Call        2024-03-01 12:10:00 UTC (from touchpoint_date)") {
			t.Errorf("explain: status %d\n%s\nwant it to start with\n%s\n%s", status, stdout, want, stderr)
		}

		stdout, _, status = calltrail(t, "", noTZ, append(append([]string{"explain", "--json"}, conn...), "T-CLI-1")...)
		var e struct{ Verdict, Timezone string }
		if err := json.Unmarshal([]byte(stdout), &e); err != nil || status != 0 || e.Verdict != "no_session" || e.Timezone != "UTC" {
			t.Errorf("--json: status %d, %+v, %v:\n%s", status, e, err, stdout)
		}

		_, stderr, status = calltrail(t, "", noTZ, append(append([]string{"explain", "--tz", "Mars/Olympus"}, conn...), "T-CLI-1")...)
		if status != 1 || !strings.Contains(stderr, "400") {
			t.Errorf("--tz Mars/Olympus: status %d, stderr %q; want the gateway's 400", status, stderr)
		}
	})

	t.Run("explain time zone from $TZ", func(t *testing.T) {
		// :/path/localtime is a link into a zoneinfo tree; only its name is read.
		zoneinfo := filepath.Join(dir, "zoneinfo", "Asia")
		if err := os.MkdirAll(zoneinfo, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(zoneinfo, "Tokyo"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		localtime := filepath.Join(dir, "localtime")
		if err := os.Symlink(filepath.Join(zoneinfo, "Tokyo"), localtime); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			tz, clock, zone, stderr string
		}{
			{"Europe/Amsterdam", "13:10", "CET", ""},
			{":" + localtime, "21:10", "JST", ""},
			{"CET-1CEST", "12:10", "UTC", `$TZ "CET-1CEST" names no time zone; times are in UTC`},
			{":/nonexistent/localtime", "12:10", "UTC", "names no time zone"},
			{"Local", "12:10", "UTC", "names no time zone"},
		} {
			stdout, stderr, status := calltrail(t, "", []string{"TZ=" + c.tz}, append(append([]string{"explain"}, conn...), "T-CLI-1")...)
			if status != 0 || !strings.Contains(stdout, "before the call at "+c.clock+";") ||
				!strings.Contains(stdout, " "+c.clock+":00 "+c.zone+" (from touchpoint_date)") {
				t.Errorf("TZ=%s: status %d, want the call at %s %s:\n%s%s", c.tz, status, c.clock, c.zone, stdout, stderr)
			}
			if c.stderr == "" && stderr != "" || !strings.Contains(stderr, c.stderr) {
				t.Errorf("TZ=%s: stderr %q, want %q", c.tz, stderr, c.stderr)
			}
		}
	})
}

// pick picks the elements at the given indexes.
func pick(s []string, idx ...int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, s[i])
	}
	return out
}
