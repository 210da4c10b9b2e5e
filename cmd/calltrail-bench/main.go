// Command calltrail-bench measures the gateway's ingestion on this machine
// (`make bench`): it starts a real `calltrail serve` on the embedded store
// and, in the same run, a no-op Fiber handler as the baseline, drives both
// with the same load generator (fasthttp client, many connections, loopback
// only, bounded in time and count), and reports accepted and stored events
// per second, request latency, the time from 202 to visible in SQL, the
// gateway's peak RSS, and the ratio to the baseline.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

type config struct {
	gateway   string
	duration  time.Duration
	conns     int
	batch     int
	maxReqs   int64
	script    string
	keep      bool
	jsonOut   string
	noopAddr  string
	gwArgs    string
	gwLog     string
	drainWait time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.gateway, "gateway", "bin/calltrail", "the calltrail binary to measure")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each load phase")
	flag.IntVar(&c.conns, "conns", 128, "concurrent connections of the load generator")
	flag.IntVar(&c.batch, "batch", 20, "events per request in the batch phase (0: no batch phase)")
	flag.Int64Var(&c.maxReqs, "max-requests", 5_000_000, "most requests in one phase")
	flag.StringVar(&c.script, "script", "gateway/assets/dist/calltrail.js", "the site script, to report its gzipped size")
	flag.BoolVar(&c.keep, "keep", false, "keep the gateway's data folder")
	flag.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&c.gwArgs, "gateway-args", "", "extra flags for calltrail serve")
	flag.StringVar(&c.gwLog, "gateway-log", "", "write the gateway's log (and its final /healthz) to this file")
	flag.DurationVar(&c.drainWait, "drain-timeout", 120*time.Second, "how long to wait for every accepted event to be stored")
	flag.StringVar(&c.noopAddr, "serve-noop", "", "internal: serve the no-op baseline on this address")
	flag.Parse()
	if c.noopAddr != "" {
		serveNoop(c.noopAddr)
		return
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "calltrail-bench:", err)
		os.Exit(1)
	}
}

// serveNoop is the baseline: Fiber with the gateway's settings and a
// handler that answers 202 without looking at the body.
func serveNoop(addr string) {
	app := fiber.New(fiber.Config{BodyLimit: 8 << 20, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second, Concurrency: 10_000,
		DisableStartupMessage: true})
	answer := []byte(`{"accepted":1,"rejected":[]}`)
	app.Post("/v1/events", func(c *fiber.Ctx) error {
		c.Status(fiber.StatusAccepted)
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(answer)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "noop listening on http://%s\n", ln.Addr())
	_ = app.Listener(ln)
}

// child is a server process under test.
type child struct {
	cmd  *exec.Cmd
	url  string
	logs *strings.Builder
	mu   sync.Mutex
	done chan struct{}
}

func startChild(name string, args []string, env []string, marker string) (*child, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := &child{cmd: cmd, logs: &strings.Builder{}, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			ch.mu.Lock()
			ch.logs.WriteString(line + "\n")
			ch.mu.Unlock()
			if _, rest, ok := strings.Cut(line, marker); ok {
				select {
				case urls <- strings.Fields(rest)[0]:
				default:
				}
			}
		}
		cmd.Wait()
		close(ch.done)
	}()
	select {
	case ch.url = <-urls:
		return ch, nil
	case <-ch.done:
		return nil, fmt.Errorf("%s exited while starting:\n%s", name, ch.log())
	case <-time.After(120 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not start in 120 s", name)
	}
}

func (ch *child) log() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.logs.String()
}

func (ch *child) stop() {
	ch.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-ch.done:
	case <-time.After(60 * time.Second):
		ch.cmd.Process.Kill()
		<-ch.done
	}
}

// peakRSS is the process's high-water resident set (VmHWM), in bytes.
func peakRSS(pid int) int64 { return procStatus(pid, "VmHWM:") }

// procStatus reads one "kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Results is what one run reports.
type Results struct {
	Machine          string        `json:"machine"`
	Conns            int           `json:"conns"`
	PhaseSeconds     float64       `json:"phase_seconds"`
	Baseline         Phase         `json:"baseline_noop"`
	Single           Phase         `json:"gateway_single"`
	Batch            Phase         `json:"gateway_batch"`
	Ratio            float64       `json:"single_vs_baseline"`
	Accepted         int64         `json:"accepted_events"`
	Stored           int64         `json:"stored_events"`
	StoredRows       int64         `json:"stored_rows"`
	StoredPerSecond  float64       `json:"stored_events_per_second"`
	CatchUp          time.Duration `json:"catch_up_ns"`
	VisibleP50       time.Duration `json:"visible_p50_ns"`
	VisibleP99       time.Duration `json:"visible_p99_ns"`
	VisibleMax       time.Duration `json:"visible_max_ns"`
	VisibleSamples   int           `json:"visible_samples"`
	VisibleMissing   int           `json:"visible_missing"`
	GatewayPeakRSS   int64         `json:"gateway_peak_rss_bytes"`      // VmHWM at the end, counting queries
	LoadPeakRSS      int64         `json:"gateway_load_peak_rss_bytes"` // highest VmRSS sampled while ingesting
	VisibleSingleP99 time.Duration `json:"visible_single_p99_ns"`
	VisibleBatchP99  time.Duration `json:"visible_batch_p99_ns"`
	ScriptGzipBytes  int           `json:"script_gzip_bytes,omitempty"`
	ScriptRawBytes   int           `json:"script_raw_bytes,omitempty"`
	AllStoredOnce    bool          `json:"all_stored_once"`
}

func run(c config) error {
	res := Results{Machine: fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		Conns: c.conns, PhaseSeconds: c.duration.Seconds()}
	if _, err := os.Stat(c.gateway); err != nil {
		return fmt.Errorf("no gateway binary at %s: build it first (go build -o bin/calltrail ./cmd/calltrail) or pass --gateway", c.gateway)
	}

	// 1. The baseline: a no-op Fiber handler in its own process.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "baseline: no-op Fiber handler, %d connections, %s\n", c.conns, c.duration)
	noop, err := startChild(self, []string{"--serve-noop", "127.0.0.1:0"}, nil, "noop listening on ")
	if err != nil {
		return err
	}
	res.Baseline = loadPhase(noop.url, c, 1, "noop", noop)
	noop.stop()

	// 2. The gateway on the embedded store.
	data, err := os.MkdirTemp("", "calltrail-bench-")
	if err != nil {
		return err
	}
	if !c.keep {
		defer os.RemoveAll(data)
	}
	token := "bench-token"
	args := []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--api-token", token}
	if c.gwArgs != "" {
		args = append(args, strings.Fields(c.gwArgs)...)
	}
	fmt.Fprintf(os.Stderr, "gateway: %s %s\n", c.gateway, strings.Join(args, " "))
	gw, err := startChild(c.gateway, args, nil, "CallTrail is running on ")
	if err != nil {
		return err
	}
	defer gw.stop()
	if err := waitHealthy(gw.url); err != nil {
		return fmt.Errorf("%w\n%s", err, gw.log())
	}
	api := &apiClient{url: gw.url, token: token}
	probe := newProber(gw.url, api)
	rss := sampleRSS(gw.cmd.Process.Pid)
	start := time.Now()
	probe.start()

	fmt.Fprintf(os.Stderr, "gateway: single events, %d connections, %s\n", c.conns, c.duration)
	probe.phase.Store(1)
	res.Single = loadPhase(gw.url, c, 1, "single", gw)
	if c.batch > 0 {
		fmt.Fprintf(os.Stderr, "gateway: batches of %d events, %d connections, %s\n", c.batch, c.conns, c.duration)
		probe.phase.Store(2)
		res.Batch = loadPhase(gw.url, c, c.batch, "batch", gw)
	}
	probe.stop()
	res.Accepted = res.Single.AcceptedEvents + res.Batch.AcceptedEvents

	// 3. Wait until the queue is empty (the gateway's /healthz says so),
	// then count in SQL what ClickHouse holds.
	fmt.Fprintf(os.Stderr, "waiting until all %d accepted events are stored\n", res.Accepted)
	deadline := time.Now().Add(c.drainWait)
	for time.Now().Before(deadline) {
		if q, err := queueState(gw.url); err == nil && q.BacklogEvents == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	storedAt := time.Now()
	res.LoadPeakRSS = rss.stop()
	if n, rows, err := api.counts(); err == nil {
		res.Stored, res.StoredRows = n, rows
	}
	loadEnd := start.Add(2 * c.duration)
	res.CatchUp = max(0, storedAt.Sub(loadEnd))
	res.StoredPerSecond = float64(res.Stored) / storedAt.Sub(start).Seconds()
	res.AllStoredOnce = res.Stored == res.Accepted && res.StoredRows == res.Stored
	probe.finish(&res)
	res.GatewayPeakRSS = peakRSS(gw.cmd.Process.Pid)
	if c.gwLog != "" {
		_, health, _ := fasthttp.Get(nil, gw.url+"/healthz")
		defer func() { os.WriteFile(c.gwLog, []byte(gw.log()+"\n/healthz: "+string(health)+"\n"), 0o644) }()
	}
	if res.Baseline.RequestsPerSecond > 0 {
		res.Ratio = res.Single.RequestsPerSecond / res.Baseline.RequestsPerSecond
	}
	if b, err := os.ReadFile(c.script); err == nil {
		res.ScriptRawBytes = len(b)
		res.ScriptGzipBytes = gzipSize(b)
	}
	report(os.Stdout, &res, c)
	if c.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(c.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if !res.AllStoredOnce {
		return fmt.Errorf("accepted %d events, stored %d distinct in %d rows: not every accepted event is stored exactly once", res.Accepted, res.Stored, res.StoredRows)
	}
	return nil
}

func gzipSize(b []byte) int {
	var n countWriter
	w, _ := gzip.NewWriterLevel(&n, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return int(n)
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func waitHealthy(url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		code, _, err := fasthttp.GetTimeout(nil, url+"/healthz", time.Second)
		if err == nil && code == 200 {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("the gateway was not healthy within 60 s")
}

// apiClient runs SQL on the gateway through /v1/sql, as an analyst would.
type apiClient struct {
	url, token string
	client     fasthttp.Client
}

func (a *apiClient) sql(query string) (string, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(a.url + "/v1/sql?format=TSV")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.SetBodyString(query)
	if err := a.client.DoTimeout(req, resp, 30*time.Second); err != nil {
		return "", err
	}
	if resp.StatusCode() != 200 {
		return "", fmt.Errorf("%d: %s", resp.StatusCode(), resp.Body())
	}
	return string(resp.Body()), nil
}

// counts is the distinct events and the rows of the load in events_raw.
func (a *apiClient) counts() (events, rows int64, err error) {
	out, err := a.sql("SELECT uniqExact(event_id), count() FROM events_raw WHERE site = 'bench.example'")
	if err != nil {
		return 0, 0, err
	}
	_, err = fmt.Sscan(out, &events, &rows)
	return events, rows, err
}

// prober measures the time from 202 to visible in SQL: a few probe events
// a second, each polled for with a query until it shows.
type prober struct {
	url      string
	api      *apiClient
	client   fasthttp.Client
	quit     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	pending  map[string]probeSent // probe id → when its 202 came, in which phase
	latency  []time.Duration
	byPhase  map[int32][]time.Duration
	phase    atomic.Int32
	seq      atomic.Int64
	prefix   string
	finished chan struct{}
}

func newProber(url string, api *apiClient) *prober {
	return &prober{url: url, api: api, quit: make(chan struct{}), pending: map[string]probeSent{}, byPhase: map[int32][]time.Duration{},
		prefix: randomHex(4), finished: make(chan struct{})}
}

func (p *prober) start() {
	p.wg.Add(2)
	go p.send()
	go p.poll()
}

func (p *prober) send() {
	defer p.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-t.C:
		}
		id := fmt.Sprintf("%s-0000-4000-8000-%012x", p.prefix, p.seq.Add(1))
		now := time.Now().UnixMilli()
		body := fmt.Sprintf(`{"site":"bench-probe","uid":"%032x","sid":"probe","sent_at":%d,"events":[{"id":"%s","type":"page_view","ts":%d,"url":"https://probe.example/"}]}`, 1, now, id, now)
		code, err := p.post(body)
		if err == nil && code == fasthttp.StatusAccepted {
			p.mu.Lock()
			p.pending[id] = probeSent{at: time.Now(), phase: p.phase.Load()}
			p.mu.Unlock()
		}
	}
}

func (p *prober) post(body string) (int, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(p.url + "/v1/events")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("text/plain")
	req.Header.SetUserAgent(userAgents[0])
	req.SetBodyString(body)
	err := p.client.DoTimeout(req, resp, 10*time.Second)
	return resp.StatusCode(), err
}

func (p *prober) poll() {
	defer p.wg.Done()
	for {
		select {
		case <-p.quit:
			return
		case <-time.After(100 * time.Millisecond):
		}
		p.check()
	}
}

func (p *prober) check() {
	p.mu.Lock()
	ids := make([]string, 0, len(p.pending))
	for id := range p.pending {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	out, err := p.api.sql(fmt.Sprintf("SELECT toString(event_id) FROM events_raw WHERE site = 'bench-probe' AND event_id IN ('%s')", strings.Join(ids, "','")))
	if err != nil {
		return
	}
	seen := time.Now()
	p.mu.Lock()
	for _, id := range strings.Fields(out) {
		if sent, ok := p.pending[id]; ok {
			p.latency = append(p.latency, seen.Sub(sent.at))
			p.byPhase[sent.phase] = append(p.byPhase[sent.phase], seen.Sub(sent.at))
			delete(p.pending, id)
		}
	}
	p.mu.Unlock()
}

func (p *prober) stop() { close(p.quit); p.wg.Wait() }

// finish polls for the last probes (at most 10 s) and fills the results.
func (p *prober) finish(r *Results) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := len(p.pending)
		p.mu.Unlock()
		if n == 0 {
			break
		}
		p.check()
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r.VisibleSamples, r.VisibleMissing = len(p.latency), len(p.pending)
	r.VisibleP50, r.VisibleP99, r.VisibleMax = percentile(p.latency, 50), percentile(p.latency, 99), percentile(p.latency, 100)
	r.VisibleSingleP99, r.VisibleBatchP99 = percentile(p.byPhase[1], 99), percentile(p.byPhase[2], 99)
}

type probeSent struct {
	at    time.Time
	phase int32
}

// queueState is the queue part of the gateway's /healthz.
func queueState(url string) (struct {
	BacklogEvents int64 `json:"backlog_events"`
}, error) {
	var h struct {
		Queue struct {
			BacklogEvents int64 `json:"backlog_events"`
		} `json:"queue"`
	}
	_, body, err := fasthttp.GetTimeout(nil, url+"/healthz", 5*time.Second)
	if err == nil {
		err = json.Unmarshal(body, &h)
	}
	return h.Queue, err
}

// rssSampler records the highest VmRSS of a process, every 50 ms.
type rssSampler struct {
	quit chan struct{}
	peak atomic.Int64
	done chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	r := &rssSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			if v := procStatus(pid, "VmRSS:"); v > r.peak.Load() {
				r.peak.Store(v)
			}
			select {
			case <-r.quit:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return r
}

func (r *rssSampler) stop() int64 { close(r.quit); <-r.done; return r.peak.Load() }

func randomHex(n int) string {
	return fmt.Sprintf("%0*x", 2*n, time.Now().UnixNano()&(1<<(8*n)-1))
}

func report(w io.Writer, r *Results, c config) {
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/1e3) }
	fmt.Fprintf(w, "\nCallTrail ingestion benchmark — %s, %d connections, %s per phase, loopback\n\n", r.Machine, r.Conns, c.duration)
	fmt.Fprintf(w, "%-34s %12s %14s %10s %10s %8s %14s %12s\n", "phase", "requests/s", "events/s", "p50", "p99", "non-2xx", "server CPU/req", "client CPU/req")
	for _, p := range []struct {
		name string
		ph   Phase
	}{{"baseline: no-op Fiber handler", r.Baseline}, {"gateway: single-event requests", r.Single},
		{fmt.Sprintf("gateway: %d-event batches", c.batch), r.Batch}} {
		fmt.Fprintf(w, "%-34s %12.0f %14.0f %10s %10s %8d %14s %12s\n", p.name, p.ph.RequestsPerSecond, p.ph.EventsPerSecond,
			ms(p.ph.P50), ms(p.ph.P99), p.ph.Failed, us(p.ph.ServerCPUPerRequest), us(p.ph.GeneratorCPUPerRequest))
	}
	fmt.Fprintf(w, "\nsingle-event requests/s vs the no-op baseline:  %.0f%%  (target ≥ 50%%)\n", 100*r.Ratio)
	if b, g := r.Baseline, r.Single; g.ServerCPUPerRequest > 0 {
		fmt.Fprintf(w, "  CPU per request, server + generator: no-op %s, gateway %s: on an idle machine the gateway can reach ~%.0f%% of the baseline\n",
			us(b.ServerCPUPerRequest+b.GeneratorCPUPerRequest), us(g.ServerCPUPerRequest+g.GeneratorCPUPerRequest),
			100*float64(b.ServerCPUPerRequest+b.GeneratorCPUPerRequest)/float64(g.ServerCPUPerRequest+g.GeneratorCPUPerRequest))
	}
	fmt.Fprintf(w, "accepted events (both phases):                  %d\n", r.Accepted)
	fmt.Fprintf(w, "stored in ClickHouse (distinct / rows):         %d / %d  %s\n", r.Stored, r.StoredRows, map[bool]string{true: "— every accepted event stored once", false: "— MISMATCH"}[r.AllStoredOnce])
	fmt.Fprintf(w, "stored events/s (load start → all stored):      %.0f   (catch-up after the load: %s)\n", r.StoredPerSecond, r.CatchUp.Round(time.Millisecond))
	fmt.Fprintf(w, "202 → visible in SQL (%d probes):              p50 %s, p99 %s, max %s  (target p99 < 2 s)\n",
		r.VisibleSamples, ms(r.VisibleP50), ms(r.VisibleP99), ms(r.VisibleMax))
	if r.VisibleMissing > 0 {
		fmt.Fprintf(w, "  %d probes never became visible\n", r.VisibleMissing)
	}
	fmt.Fprintf(w, "  by phase: p99 %s while single events, %s while batches\n", ms(r.VisibleSingleP99), ms(r.VisibleBatchP99))
	fmt.Fprintf(w, "gateway peak RSS while ingesting (VmRSS):       %s  (target < 400 MB; libchdb.so's code is ~190 MB of it)\n", mb(r.LoadPeakRSS))
	fmt.Fprintf(w, "gateway peak RSS incl. the counting queries:    %s  (VmHWM)\n", mb(r.GatewayPeakRSS))
	if r.ScriptGzipBytes > 0 {
		fmt.Fprintf(w, "site script calltrail.js:                       %d bytes, %d gzipped\n", r.ScriptRawBytes, r.ScriptGzipBytes)
	} else {
		fmt.Fprintf(w, "site script: not built (%s missing: run `make bundle`)\n", c.script)
	}
}
