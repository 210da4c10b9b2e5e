package ingest

import "time"

// MaxAge is how old an event may be when it finally reaches the gateway.
// The site script keeps unsent events across reloads and offline periods;
// older than this they are more likely corrupt clocks than real history.
const MaxAge = 7 * 24 * time.Hour

// EventTime corrects the client's clock: an event the client stamped ts and
// sent at sentAt (both its own clock, epoch ms) happened sentAt−ts before the
// gateway received it. A client clock that is hours off still gives the right
// time; only the age (sentAt−ts) is trusted, and it is clamped to [0, MaxAge].
// Without sent_at, ts is taken as is but never later than receivedAt.
// ok is false when the event is older than MaxAge.
func EventTime(ts, sentAt int64, receivedAt time.Time) (t time.Time, ok bool) {
	if sentAt <= 0 {
		t = time.UnixMilli(ts).UTC()
		if t.After(receivedAt) {
			t = receivedAt
		}
		return t, receivedAt.Sub(t) <= MaxAge
	}
	// The range is checked on the raw values first: sentAt−ts, or that in
	// nanoseconds, can overflow int64 (sent_at 9e18 wrapped to a small age).
	switch {
	case ts >= sentAt:
		return receivedAt, true // stamped after it was sent: a clock step; trust the send
	case ts < sentAt-MaxAge.Milliseconds(): // sentAt > 0: no overflow
		return time.Time{}, false
	}
	return receivedAt.Add(-time.Duration(sentAt-ts) * time.Millisecond), true
}
