package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Phase is one load phase's figures.
type Phase struct {
	Requests          int64         `json:"requests"`
	Failed            int64         `json:"non_2xx"`
	Errors            int64         `json:"transport_errors"`
	Statuses          map[int]int64 `json:"statuses"`
	AcceptedEvents    int64         `json:"accepted_events"`
	Seconds           float64       `json:"seconds"`
	RequestsPerSecond float64       `json:"requests_per_second"`
	EventsPerSecond   float64       `json:"accepted_events_per_second"`
	P50               time.Duration `json:"p50_ns"`
	P99               time.Duration `json:"p99_ns"`
	// CPU time per request of the server process (all its threads: for the
	// gateway that includes ClickHouse storing the events) and of the load
	// generator: unlike requests/s, these do not depend on what else the
	// machine is running.
	ServerCPUPerRequest    time.Duration `json:"server_cpu_per_request_ns"`
	GeneratorCPUPerRequest time.Duration `json:"generator_cpu_per_request_ns"`
}

// processCPU is the user+system CPU time a process has used so far.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which is in parentheses).
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on Linux.
const clockTicks = 100

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
}

var runID = uint32(time.Now().UnixNano())

// loadPhase drives url with c.conns connections for c.duration (or
// c.maxReqs requests), each request carrying perReq events.
func loadPhase(url string, c config, perReq int, tag string, server *child) Phase {
	serverCPU0, selfCPU0 := processCPU(server.cmd.Process.Pid), selfCPU()
	addr := strings.TrimPrefix(url, "http://")
	client := &fasthttp.HostClient{Addr: addr, MaxConns: c.conns, ReadTimeout: 15 * time.Second,
		WriteTimeout: 15 * time.Second, MaxIdleConnDuration: time.Minute}
	var sent atomic.Int64
	deadline := time.Now().Add(c.duration)
	type result struct {
		lat      []int32 // µs
		statuses map[int]int64
		accepted int64
		errors   int64
	}
	results := make([]result, c.conns)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c.conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			r.statuses = map[int]int64{}
			r.lat = make([]int32, 0, 4096)
			gen := newGenerator(uint16(w), tag)
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI(url + "/v1/events")
			req.Header.SetMethod(fasthttp.MethodPost)
			req.Header.SetContentType("text/plain;charset=UTF-8")
			req.Header.SetUserAgent(userAgents[w%len(userAgents)])
			req.Header.Set("Origin", "https://bench.example")
			var body []byte
			for time.Now().Before(deadline) && sent.Add(1) <= c.maxReqs {
				body = gen.body(body[:0], perReq)
				req.SetBodyRaw(body)
				t0 := time.Now()
				err := client.Do(req, resp)
				lat := time.Since(t0)
				if err != nil {
					r.errors++
					time.Sleep(time.Millisecond)
					continue
				}
				if len(r.lat) < 2_000_000 {
					r.lat = append(r.lat, int32(min(lat.Microseconds(), 1<<30)))
				}
				code := resp.StatusCode()
				r.statuses[code]++
				if code == fasthttp.StatusAccepted {
					r.accepted += int64(perReq)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	p := Phase{Statuses: map[int]int64{}, Seconds: elapsed.Seconds()}
	var lat []int32
	for _, r := range results {
		lat = append(lat, r.lat...)
		for code, n := range r.statuses {
			p.Statuses[code] += n
			p.Requests += n
			if code != fasthttp.StatusAccepted {
				p.Failed += n
			}
		}
		p.AcceptedEvents += r.accepted
		p.Errors += r.errors
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		p.P50 = time.Duration(lat[len(lat)*50/100]) * time.Microsecond
		p.P99 = time.Duration(lat[min(len(lat)-1, len(lat)*99/100)]) * time.Microsecond
	}
	if p.Requests > 0 {
		p.ServerCPUPerRequest = (processCPU(server.cmd.Process.Pid) - serverCPU0) / time.Duration(p.Requests)
		p.GeneratorCPUPerRequest = (selfCPU() - selfCPU0) / time.Duration(p.Requests)
	}
	p.RequestsPerSecond = float64(p.Requests) / elapsed.Seconds()
	p.EventsPerSecond = float64(p.AcceptedEvents) / elapsed.Seconds()
	return p
}

func percentile(d []time.Duration, pct int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*pct/100)]
}

// generator writes realistic event bodies: page views with campaign URLs,
// some form submits and custom events; ids unique across the run.
type generator struct {
	worker uint16
	phase  uint8 // ids differ between phases
	n      uint64
	rnd    *rand.Rand
	tag    string
}

func newGenerator(worker uint16, tag string) *generator {
	return &generator{worker: worker, phase: tag[0], rnd: rand.New(rand.NewPCG(uint64(runID), uint64(worker))), tag: tag}
}

var (
	sources = []string{"utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&gclid=EAIaIQobChMI",
		"utm_source=newsletter&utm_medium=email&utm_campaign=december", "utm_source=facebook&utm_medium=paid_social&fbclid=IwAR",
		"", "", "ref=partner"}
	referrers = []string{"https://www.google.com/", "https://www.bing.com/", "", "https://news.example.org/article/42", "https://www.facebook.com/"}
)

func appendHex(b []byte, v uint64, digits int) []byte {
	const hexd = "0123456789abcdef"
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexd[(v>>(4*uint(i)))&0xf])
	}
	return b
}

func (g *generator) body(b []byte, events int) []byte {
	now := time.Now().UnixMilli()
	visitor := g.n / 8 // a visitor sends a few requests
	b = append(b, `{"site":"bench.example","uid":"`...)
	b = appendHex(b, uint64(runID), 8)
	b = appendHex(b, uint64(g.worker), 8)
	b = appendHex(b, visitor, 16)
	b = append(b, `","sid":"`...)
	b = append(b, g.tag...)
	b = appendHex(b, visitor, 12)
	b = append(b, `","sent_at":`...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, `,"events":[`...)
	for i := 0; i < events; i++ {
		g.n++
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"`...)
		b = appendHex(b, uint64(runID), 8)
		b = append(b, '-')
		b = appendHex(b, uint64(g.worker), 4)
		b = append(b, "-4"...)
		b = appendHex(b, uint64(g.phase), 3)
		b = append(b, "-8"...)
		b = appendHex(b, g.n>>48, 3)
		b = append(b, '-')
		b = appendHex(b, g.n, 12)
		page := g.rnd.IntN(500)
		kind := g.rnd.IntN(10)
		switch {
		case kind < 8:
			b = append(b, `","type":"page_view"`...)
		case kind < 9:
			b = append(b, `","type":"form_submit","form":"contact","email":"visitor`...)
			b = strconv.AppendUint(b, visitor, 10)
			b = append(b, `@mail.example"`...)
		default:
			b = append(b, `","type":"custom","name":"add_to_cart","props":{"sku":"SKU-`...)
			b = strconv.AppendInt(b, int64(page), 10)
			b = append(b, `","qty":1}`...)
		}
		b = append(b, `,"ts":`...)
		b = strconv.AppendInt(b, now-int64(events-i)*1500, 10)
		b = append(b, `,"url":"https://bench.example/products/item-`...)
		b = strconv.AppendInt(b, int64(page), 10)
		if q := sources[g.rnd.IntN(len(sources))]; q != "" {
			b = append(b, '?')
			b = append(b, q...)
		}
		b = append(b, `","ref":"`...)
		b = append(b, referrers[g.rnd.IntN(len(referrers))]...)
		b = append(b, `","title":"Item `...)
		b = strconv.AppendInt(b, int64(page), 10)
		b = append(b, ` – Bench Shop"}`...)
	}
	return append(b, "]}"...)
}
