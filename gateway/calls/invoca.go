package calls

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/calltrail/calltrail/gateway/sfrecord"
)

// ErrNotACall is a valid Invoca delivery that is not a call (a Signal, a
// Post Call Event or a Reported Conversion transaction): acknowledged,
// nothing stored.
var ErrNotACall = errors.New("not a call transaction: nothing stored")

// parseInvoca reads an Invoca webhook body with Transactions API field names
// (domain-facts §4.3).
//
//   - call id: complete_call_id (one per call, across its transactions), else
//     corrects_transaction_id (a correction replaces the original), else
//     transaction_id
//   - call time: start_time_utc (epoch milliseconds), else start_time_local
//     ("2019-01-24 06:43:15 -07:00"), else start_time_xml
//   - visitor id: a RingPool parameter captured from the cookie
//     (`cookieNames: ['_biz_uid']`) or marketing data, as a top-level field or
//     in custom_data [{name|partner_name, value}]
func parseInvoca(body []byte, o parseOptions) (*Task, error) {
	p, err := sfrecord.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	typ, err := p.Str("transaction_type")
	if err != nil {
		return nil, err
	}
	if typ != "" && !strings.EqualFold(typ, "call") {
		return nil, ErrNotACall
	}
	// Invoca's transactions are inbound calls; it sends no direction.
	t, err := o.newTask(p, body, callFields{
		source: SourceInvoca, name: "Invoca", ids: []string{"complete_call_id", "corrects_transaction_id", "transaction_id"},
		phone: "calling_phone_number", tracking: "virtual_line_id",
		sources: []string{"call_source_description", "advertiser_campaign_name"},
	})
	if err != nil {
		return nil, err
	}
	if t.StartTime, err = p.Epoch("start_time_utc", 1000); err != nil {
		return nil, err
	}
	for _, k := range []string{"start_time_local", "start_time_xml"} {
		if t.StartTime != nil {
			break
		}
		if t.StartTime, err = p.Time(k); err != nil {
			return nil, err
		}
	}
	if t.StartTime == nil {
		return nil, sfrecord.Badf("no call time: start_time_utc is required")
	}
	if err := t.invocaVersion(p); err != nil {
		return nil, err
	}

	var ids found
	switch cd := p["custom_data"].(type) {
	case nil, []any, map[string]any:
		o.uid.walk(cd, "custom_data", 0, &ids)
	default:
		return nil, sfrecord.Badf("custom_data must be an array of {name, value}, got %s", sfrecord.KindOf(cd))
	}
	o.uid.walk(map[string]any(p), "", 0, &ids)
	t.applyUID(ids)
	return t, t.finish()
}

// invocaVersion orders the versions of one call by Invoca's own clock, so that
// a late retry of the original transaction cannot undo a correction that
// CallTrail received before it (receive time would rank the retry newer). A
// correction is as new as its corrected_at; the original is as old as the
// call's start, before any correction. A correction without corrected_at
// keeps the receive time, which is after the call too.
func (t *Task) invocaVersion(p sfrecord.Record) error {
	corrects, err := p.Str("corrects_transaction_id")
	if err != nil {
		return err
	}
	// corrected_at as epoch milliseconds (like start_time_utc) or a date-time
	// string (like start_time_local).
	var corrected *time.Time
	if _, isNumber := p["corrected_at"].(json.Number); isNumber {
		corrected, err = p.Epoch("corrected_at", 1000)
	} else {
		corrected, err = p.Time("corrected_at")
	}
	switch {
	case err != nil:
		return err
	case corrected != nil:
		t.Version = sfrecord.VersionOf(*corrected)
	case corrects == "":
		t.Version = sfrecord.VersionOf(*t.StartTime)
	}
	return nil
}
