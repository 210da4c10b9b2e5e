package server_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/calltrail/calltrail/gateway/server/servertest"
)

// BenchmarkPostEvent is one single-event POST /v1/events through the whole
// gateway (decode, pipeline, TSV, durable queue) over loopback; run it with
// -cpuprofile to see the hot path. `make bench` measures the real thing.
func BenchmarkPostEvent(b *testing.B) {
	g := servertest.StartWithOptions(b, servertest.Options{BatchWait: time.Second, Async: true})
	client := &fasthttp.HostClient{Addr: strings.TrimPrefix(g.URL, "http://"), MaxConns: 256}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI(g.URL + "/v1/events")
		req.Header.SetMethod("POST")
		req.Header.SetUserAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
		for pb.Next() {
			req.SetBodyString(batch(queuedPageView(uuid.NewString())))
			if err := client.Do(req, resp); err != nil || resp.StatusCode() != 202 {
				b.Errorf("POST: %v %d %s", err, resp.StatusCode(), resp.Body())
				return
			}
			n.Add(1)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "req/s")
	st := g.Spool.Stats()
	b.ReportMetric(float64(st.WrittenEvents)/float64(max(1, st.Fsyncs)), "events/fsync")
}
