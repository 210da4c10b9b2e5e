package ingest

import (
	"testing"
	"time"
)

var benchBody = []byte(`{"site":"bench.example","uid":"0123456789abcdef0123456789abcdef","sid":"single00000012","sent_at":1764770000000,"events":[{"id":"2f1c3b4a-1111-4222-8333-444455556666","type":"page_view","ts":1764769998500,"url":"https://bench.example/products/item-123?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&gclid=EAIaIQobChMI","ref":"https://www.google.com/","title":"Item 123 – Bench Shop"}]}`)

const benchUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// BenchmarkSingleEvent is the gateway's per-request work for one event:
// decode, the pipeline's steps, and the TSV row.
func BenchmarkSingleEvent(b *testing.B) {
	p := NewPipeline(Options{})
	now := time.UnixMilli(1764770000000)
	var row []byte
	b.ReportAllocs()
	for b.Loop() {
		body, err := DecodeBody(benchBody)
		if err != nil {
			b.Fatal(err)
		}
		events, rejected := p.Process(body, Request{ReceivedAt: now, UserAgent: benchUA, Source: "js"})
		if len(events) != 1 || len(rejected) != 0 {
			b.Fatal(rejected)
		}
		row = events[0].AppendTSV(row[:0])
	}
}
