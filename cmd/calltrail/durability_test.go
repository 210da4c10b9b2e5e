package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The test binary doubles as the calltrail binary: a child started with
// CALLTRAIL_TEST_MAIN=1 runs main() with its arguments, so the tests can
// kill a real gateway process (chDB holds one engine per process) without
// a separate build. "test-tap DIR" is the tests' own command (tapEvents).
func TestMain(m *testing.M) {
	if os.Getenv("CALLTRAIL_TEST_MAIN") == "1" {
		if len(os.Args) == 3 && os.Args[1] == "test-tap" {
			if err := tapEvents(os.Args[2]); err != nil {
				fmt.Fprintln(os.Stderr, "test-tap:", err)
				os.Exit(1)
			}
			os.Exit(0)
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tapEvents migrates the store in data and adds events_tap, a plain
// MergeTree fed by a materialized view with every row inserted into
// events_raw: events_raw is a ReplacingMergeTree whose merges collapse
// duplicate event ids, so only the tap shows a batch stored twice. Like
// events_raw it drops a retried insert by its token (the view passes the
// retry on, with a token made from the insert's), so it holds what
// events_raw was given, each insert once.
func tapEvents(data string) error {
	ctx := context.Background()
	sf := storeFlags{data: data}
	st, err := sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer st.Close()
	for _, q := range []string{
		"CREATE TABLE events_tap (event_id UUID, site String) ENGINE = MergeTree ORDER BY tuple() SETTINGS non_replicated_deduplication_window = 1000",
		"CREATE MATERIALIZED VIEW events_tap_mv TO events_tap AS SELECT event_id, site FROM events_raw",
	} {
		if err := st.Exec(ctx, q, nil); err != nil {
			return err
		}
	}
	return nil
}

const testToken = "durability-test-token"

// gateway is a `calltrail serve` child process.
type gateway struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan error
}

func startGateway(t *testing.T, data string) *gateway {
	t.Helper()
	return startGatewayIn(t, "", data)
}

// startGatewayIn starts the gateway with dir as its working directory, so
// that a relative --data is tested the way `make run` passes it.
func startGatewayIn(t *testing.T, dir, data string) *gateway {
	t.Helper()
	cmd, pipe := startServe(t, dir, "--data", data, "--listen", "127.0.0.1:0",
		"--api-token", testToken, "--batch-wait", "50ms", "--shutdown-timeout", "20s")
	g := &gateway{cmd: cmd, exited: make(chan error, 1)}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			g.mu.Lock()
			g.stderr.WriteString(line + "\n")
			g.mu.Unlock()
			if rest, ok := strings.CutPrefix(line, "CallTrail is running on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
		g.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case g.url = <-urls:
	case err := <-g.exited:
		t.Fatalf("gateway exited while starting: %v\n%s", err, g.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("gateway did not start in 60 s:\n%s", g.log())
	}
	// Ready: /healthz 200.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := g.health(); code == 200 {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not healthy in 30 s:\n%s", g.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServe starts `calltrail serve` with args as a child process in dir
// ("" for this one's) and returns it with its standard error.
func startServe(t *testing.T, dir string, args ...string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CALLTRAIL_TEST_MAIN=1")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, pipe
}

func (g *gateway) log() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stderr.String()
}

type queueHealth struct {
	BacklogEvents  int64 `json:"backlog_events"`
	ReplayedEvents int64 `json:"replayed_events"`
	StoredEvents   int64 `json:"stored_events"`
	SkippedRecords int64 `json:"skipped_records"`
}

func (g *gateway) health() (int, queueHealth) {
	resp, err := http.Get(g.url + "/healthz")
	if err != nil {
		return 0, queueHealth{}
	}
	defer resp.Body.Close()
	var h struct {
		Queue queueHealth `json:"queue"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&h)
	return resp.StatusCode, h.Queue
}

func (g *gateway) sql(t *testing.T, query string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.url+"/v1/sql?format=TSV", strings.NewReader(query))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", query, resp.StatusCode, b)
	}
	return string(b)
}

// load posts event batches from several connections until stop is closed
// or the gateway stops answering, and returns the ids that got a 202.
func load(url string, stop <-chan struct{}) []string {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var mu sync.Mutex
	var accepted []string
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := 1 + rand.IntN(5)
				ids := make([]string, n)
				events := make([]map[string]any, n)
				now := time.Now().UnixMilli()
				for i := range ids {
					ids[i] = uuid.NewString()
					events[i] = map[string]any{"id": ids[i], "type": "page_view", "ts": now,
						"url": "https://kill.example/p?utm_source=test", "title": "t"}
				}
				body, _ := json.Marshal(map[string]any{"site": "kill.example",
					"uid": "0123456789abcdef0123456789abcdef", "sid": "s", "sent_at": now, "events": events})
				resp, err := client.Post(url+"/v1/events", "text/plain", bytes.NewReader(body))
				if err != nil {
					return // the gateway is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					mu.Lock()
					accepted = append(accepted, ids...)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return accepted
}

// loseUnsyncedConfirmation makes the queue's checkpoint what a power loss
// may leave of it: the queue confirms a batch without fsync (a lost
// confirmation only replays a batch whose token ClickHouse knows), so when
// the newest of the file's two slots is a confirmation and the other the
// intent before it, the confirmation is erased. The next start then sends
// a batch that is already stored, and only its token keeps it from being
// stored twice; a kill -9 alone rarely lands in that window. The slots are
// checkpoint.go's: 64 bytes, magic "CKP1", seq at 8, intent end at 32.
func loseUnsyncedConfirmation(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 128 {
		return false
	}
	le := binary.LittleEndian
	slot := func(i int) (seq uint64, intent, ok bool) {
		s := b[64*i:]
		return le.Uint64(s[8:]), le.Uint64(s[32:]) > 0, le.Uint32(s) == 0x31504b43
	}
	seq0, intent0, ok0 := slot(0)
	seq1, intent1, ok1 := slot(1)
	newest, intentNewest, intentOther := 0, intent0, intent1
	if seq1 > seq0 {
		newest, intentNewest, intentOther = 1, intent1, intent0
	}
	if !ok0 || !ok1 || intentNewest || !intentOther {
		return false
	}
	clear(b[64*newest : 64*newest+64])
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return true
}

// kill -9 of the gateway while a load generator posts, several times (once
// as a power loss that also loses the last unsynced confirmation), then a
// SIGTERM under load: every event id that got a 202 is in ClickHouse
// exactly once after the restarts, counted as inserted (events_tap).
func TestKill9UnderLoadLosesNoAcceptedEvent(t *testing.T) {
	data := t.TempDir()
	tap := exec.Command(os.Args[0], "test-tap", data)
	tap.Env = append(os.Environ(), "CALLTRAIL_TEST_MAIN=1")
	if out, err := tap.CombinedOutput(); err != nil {
		t.Fatalf("test-tap: %v\n%s", err, out)
	}
	var accepted []string
	const kills = 4
	for round := 0; round <= kills; round++ {
		g := startGateway(t, data)
		_, h := g.health()
		t.Logf("round %d: %d events replayed from the queue at start", round, h.ReplayedEvents)
		stop := make(chan struct{})
		done := make(chan []string, 1)
		go func() { done <- load(g.url, stop) }()
		time.Sleep(time.Duration(300+rand.IntN(500)) * time.Millisecond)
		if round == 1 {
			// A power loss once the load has stopped and the queue is
			// drained: the last batch's confirmation is lost, and the
			// next start sends that stored batch again.
			close(stop)
			accepted = append(accepted, <-done...)
			deadline := time.Now().Add(30 * time.Second)
			for _, h := g.health(); h.BacklogEvents > 0; _, h = g.health() {
				if time.Now().After(deadline) {
					t.Fatalf("the queue did not drain:\n%s", g.log())
				}
				time.Sleep(20 * time.Millisecond)
			}
			g.cmd.Process.Signal(syscall.SIGKILL)
			<-g.exited
			if !loseUnsyncedConfirmation(t, filepath.Join(data, "spool", "checkpoint")) {
				t.Fatal("after the drain the checkpoint's newest slot is not a confirmation")
			}
			t.Logf("round %d: killed once drained, the last confirmation lost", round)
			continue
		}
		if round < kills {
			// No warning, no flush: whatever got a 202 must be on disk.
			if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			got := <-done
			close(stop)
			<-g.exited
			lost := loseUnsyncedConfirmation(t, filepath.Join(data, "spool", "checkpoint"))
			t.Logf("round %d: killed after %d accepted events (last confirmation lost: %v)", round, len(got), lost)
			accepted = append(accepted, got...)
			continue
		}
		// SIGTERM: stop accepting, finish requests, flush, exit 0.
		if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-g.exited:
			if err != nil {
				t.Fatalf("after SIGTERM the gateway exited with %v:\n%s", err, g.log())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the gateway did not stop within 30 s of SIGTERM:\n%s", g.log())
		}
		close(stop)
		got := <-done
		accepted = append(accepted, got...)
		t.Logf("round %d: SIGTERM after %d accepted events", round, len(got))
		if !strings.Contains(g.log(), "left_in_queue=0") {
			t.Errorf("SIGTERM did not flush the queue:\n%s", g.log())
		}
	}
	if len(accepted) < 100 {
		t.Fatalf("only %d events accepted in all rounds: the load did not run", len(accepted))
	}

	g := startGateway(t, data)
	if _, h := g.health(); h.ReplayedEvents != 0 {
		t.Errorf("after a clean SIGTERM the next start replayed %d events", h.ReplayedEvents)
	}
	counts := map[string]int{} // what was inserted: events_raw's merges would hide a duplicate
	for _, line := range strings.Split(strings.TrimSpace(g.sql(t,
		"SELECT toString(event_id), count() FROM events_tap WHERE site = 'kill.example' GROUP BY event_id")), "\n") {
		var id string
		var n int
		if _, err := fmt.Sscan(line, &id, &n); err == nil {
			counts[id] = n
		}
	}
	var missing, twice int
	for _, id := range accepted {
		if counts[id] == 0 {
			missing++
		}
	}
	for _, n := range counts {
		if n > 1 {
			twice++
		}
	}
	t.Logf("%d events accepted over %d kills and a SIGTERM; %d rows stored", len(accepted), kills, len(counts))
	if missing > 0 || twice > 0 {
		t.Fatalf("%d accepted events missing, %d stored more than once", missing, twice)
	}
}
