package calls

import "github.com/calltrail/calltrail/gateway/sfrecord"

// parseCTM reads a CallTrackingMetrics webhook body: the call (activity)
// object of CTM's API (domain-facts §4.1).
//
//   - call id: id (a number)
//   - call time: unix_time (epoch seconds), else called_at
//     ("2016-03-18 11:43 AM -04:00"; without a zone it is read as UTC)
//   - visitor id: custom_fields{} (the field the CTM account maps _biz_uid
//     into), or a top-level key
func parseCTM(body []byte, o parseOptions) (*Task, error) {
	p, err := sfrecord.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	t, err := o.newTask(p, body, callFields{
		source: SourceCTM, name: "CallTrackingMetrics", ids: []string{"id"},
		direction: "direction", phone: "caller_number", tracking: "tracking_number", sources: []string{"source"},
	})
	if err != nil {
		return nil, err
	}
	if t.StartTime, err = p.Epoch("unix_time", 1); err != nil {
		return nil, err
	}
	if t.StartTime == nil {
		if t.StartTime, err = p.Time("called_at"); err != nil {
			return nil, err
		}
	}
	if t.StartTime == nil {
		return nil, sfrecord.Badf("no call time: unix_time or called_at is required")
	}

	var ids found
	switch cf := p["custom_fields"].(type) {
	case nil:
	case map[string]any:
		o.uid.walk(cf, "custom_fields", 0, &ids)
	case []any:
		// An empty list stands for "no custom fields" in some exports.
		o.uid.walk(cf, "custom_fields", 0, &ids)
	default:
		return nil, sfrecord.Badf("custom_fields must be an object, got %s", sfrecord.KindOf(cf))
	}
	o.uid.walk(map[string]any(p), "", 0, &ids)
	t.applyUID(ids)
	return t, t.finish()
}
