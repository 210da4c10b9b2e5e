package calls

// parseCTM reads a CallTrackingMetrics webhook body: the call (activity)
// object of CTM's API (domain-facts §4.1).
//
//   - call id: id (a number)
//   - call time: unix_time (epoch seconds), else called_at
//     ("2016-03-18 11:43 AM -04:00"; without a zone it is read as UTC)
//   - visitor id: custom_fields{} (the field the CTM account maps _biz_uid
//     into), or a top-level key
func parseCTM(body []byte, o parseOptions) (*Task, error) {
	p, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	callID, err := p.id("id")
	if err != nil {
		return nil, err
	}
	if callID == "" {
		return nil, badf("no call id: CallTrackingMetrics sends the call's id")
	}
	if err := checkID("the call id", callID); err != nil {
		return nil, err
	}
	t := o.newTask(SourceCTM, callID, body)

	if t.StartTime, err = p.epoch("unix_time", 1); err != nil {
		return nil, err
	}
	if t.StartTime == nil {
		if t.StartTime, err = p.timeField("called_at"); err != nil {
			return nil, err
		}
	}
	if t.StartTime == nil {
		return nil, badf("no call time: unix_time or called_at is required")
	}
	if t.CallDurationSeconds, err = p.seconds("duration"); err != nil {
		return nil, err
	}
	dir, err := p.str("direction")
	if err != nil {
		return nil, err
	}
	t.CallType = direction(dir)
	if t.Phone, err = p.str("caller_number"); err != nil {
		return nil, err
	}
	if t.TrackingNumber, err = p.str("tracking_number"); err != nil {
		return nil, err
	}
	source, err := p.str("source")
	if err != nil {
		return nil, err
	}
	t.Subject = callSubject("CallTrackingMetrics", t.CallType, t.Phone, source)

	var ids found
	switch cf := p["custom_fields"].(type) {
	case nil:
	case map[string]any:
		o.uid.walk(cf, "custom_fields", 0, &ids)
	case []any:
		// An empty list stands for "no custom fields" in some exports.
		o.uid.walk(cf, "custom_fields", 0, &ids)
	default:
		return nil, badf("custom_fields must be an object, got %s", kindOf(cf))
	}
	o.uid.walk(map[string]any(p), "", 0, &ids)
	t.applyUID(ids)
	return t, t.finish()
}
