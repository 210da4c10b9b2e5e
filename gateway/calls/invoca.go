package calls

import (
	"errors"
	"strings"
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
	p, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	typ, err := p.str("transaction_type")
	if err != nil {
		return nil, err
	}
	if typ != "" && !strings.EqualFold(typ, "call") {
		return nil, ErrNotACall
	}
	var callID string
	for _, k := range []string{"complete_call_id", "corrects_transaction_id", "transaction_id"} {
		if callID, err = p.id(k); err != nil {
			return nil, err
		}
		if callID != "" {
			break
		}
	}
	if callID == "" {
		return nil, badf("no call id: Invoca sends complete_call_id or transaction_id")
	}
	if err := checkID("the call id", callID); err != nil {
		return nil, err
	}
	t := o.newTask(SourceInvoca, callID, body)

	if t.StartTime, err = p.epoch("start_time_utc", 1000); err != nil {
		return nil, err
	}
	for _, k := range []string{"start_time_local", "start_time_xml"} {
		if t.StartTime != nil {
			break
		}
		if t.StartTime, err = p.timeField(k); err != nil {
			return nil, err
		}
	}
	if t.StartTime == nil {
		return nil, badf("no call time: start_time_utc is required")
	}
	if t.CallDurationSeconds, err = p.seconds("duration"); err != nil {
		return nil, err
	}
	t.CallType = "Inbound"
	if t.Phone, err = p.str("calling_phone_number"); err != nil {
		return nil, err
	}
	if t.TrackingNumber, err = p.str("virtual_line_id"); err != nil {
		return nil, err
	}
	source, err := p.str("call_source_description")
	if err != nil {
		return nil, err
	}
	if source == "" {
		if source, err = p.str("advertiser_campaign_name"); err != nil {
			return nil, err
		}
	}
	t.Subject = callSubject("Invoca", t.CallType, t.Phone, source)

	var ids found
	switch cd := p["custom_data"].(type) {
	case nil, []any, map[string]any:
		o.uid.walk(cd, "custom_data", 0, &ids)
	default:
		return nil, badf("custom_data must be an array of {name, value}, got %s", kindOf(cd))
	}
	o.uid.walk(map[string]any(p), "", 0, &ids)
	t.applyUID(ids)
	return t, t.finish()
}
