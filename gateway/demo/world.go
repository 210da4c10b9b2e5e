// Package demo fills a store with a realistic month of CallTrail data, so
// that the dashboard and reports have something true to show: thousands of
// visitors arriving through every channel, forms, chats, calls delivered in
// each provider's own format (signed and parsed by the real adapters), some
// calls unmatched for each reason, and opportunities with revenue.
//
// Everything goes through the same code as live data (the ingest pipeline,
// the provider adapters, Salesforce Task parsing); only the clock is the
// generator's. The same seed and end time give the same data.
package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Site is the demo's site id and Origin its pages' origin.
const (
	Site   = "acme-demo"
	Origin = "https://www.acme-demo.example"
)

// arrival is how a visitor reaches the site: the landing URL's query and the
// referrer, with a weight in the mix.
type arrival struct {
	weight int
	query  func(r *rand.Rand) string
	ref    func(r *rand.Rand) string
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func clickID(r *rand.Rand) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, 24)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

func fixed(s string) func(*rand.Rand) string { return func(*rand.Rand) string { return s } }

// arrivals is the channel mix, roughly a B2B site's.
var arrivals = []arrival{
	{18, func(r *rand.Rand) string {
		return fmt.Sprintf("utm_source=google&utm_medium=cpc&utm_campaign=%s&utm_term=%s&utm_content=ad-%d&gclid=%s",
			pick(r, "brand", "call-tracking", "competitor"), pick(r, "call+tracking", "call+attribution", "acme"), 1+r.IntN(4), clickID(r))
	}, fixed("https://www.google.com/")},
	{5, func(r *rand.Rand) string {
		return "utm_source=bing&utm_medium=cpc&utm_campaign=brand&utm_term=acme&msclkid=" + clickID(r)
	}, fixed("https://www.bing.com/")},
	{20, fixed(""), func(r *rand.Rand) string {
		return pick(r, "https://www.google.com/", "https://www.google.co.uk/", "https://www.google.de/")
	}},
	{5, fixed(""), func(r *rand.Rand) string { return pick(r, "https://www.bing.com/", "https://duckduckgo.com/") }},
	{6, func(r *rand.Rand) string {
		return "utm_source=facebook&utm_medium=paid_social&utm_campaign=retargeting&fbclid=" + clickID(r)
	}, fixed("https://l.facebook.com/")},
	{4, func(r *rand.Rand) string {
		return "utm_source=linkedin&utm_medium=paid_social&utm_campaign=abm-q4&li_fat_id=" + clickID(r)
	}, fixed("https://www.linkedin.com/")},
	{5, fixed(""), func(r *rand.Rand) string { return pick(r, "https://t.co/x8Ab3", "https://www.linkedin.com/feed/") }},
	{7, func(r *rand.Rand) string {
		return "utm_source=newsletter&utm_medium=email&utm_campaign=" + pick(r, "nov-newsletter", "webinar-invite")
	}, fixed("")},
	{3, fixed("utm_source=adroll&utm_medium=display&utm_campaign=retargeting"), fixed("")},
	{7, fixed(""), func(r *rand.Rand) string {
		return pick(r, "https://www.g2.com/products/acme/reviews", "https://www.capterra.com/p/1234/acme/", "https://blog.partner.example/call-tracking-tools")
	}},
	{15, fixed(""), fixed("")},
}

var landingPaths = []string{"/", "/", "/pricing", "/features/call-tracking", "/blog/attribution-guide", "/demo"}
var pagePaths = []string{"/pricing", "/features/call-tracking", "/features/reports", "/customers", "/about", "/blog/attribution-guide", "/contact"}

func weighted(r *rand.Rand) arrival {
	total := 0
	for _, a := range arrivals {
		total += a.weight
	}
	n := r.IntN(total)
	for _, a := range arrivals {
		if n < a.weight {
			return a
		}
		n -= a.weight
	}
	return arrivals[len(arrivals)-1]
}

// hex32 is a _biz_uid-shaped id.
func hex32(r *rand.Rand) string { return fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()) }

// uuid4 is a random UUID from r (deterministic, unlike uuid.New).
func uuid4(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xfff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}

// jitter returns a duration between lo and hi.
func jitter(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
}

// amount is an opportunity's value: log-normal around 12k, 2k to 80k.
func amount(r *rand.Rand) float64 {
	v := math.Exp(math.Log(12000) + r.NormFloat64()*0.7)
	return math.Round(math.Min(80000, math.Max(2000, v))/100) * 100
}
