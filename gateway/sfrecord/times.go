package sfrecord

import "time"

// timeLayouts are tried in order. A time without a zone is read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,                       // 2018-02-19T13:41:00.236-05:00, …Z
	"2006-01-02T15:04:05.999999999Z0700",   // Salesforce: 2024-03-01T12:05:00.000+0000
	"2006-01-02 15:04:05.999999999 -07:00", // Invoca start_time_local: 2019-01-24 06:43:15 -07:00
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 3:04 PM -07:00", // CTM called_at: 2016-03-18 11:43 AM -04:00
	"2006-01-02 3:04 PM -0700",
	"2006-01-02 3:04:05 PM -07:00",
	"2006-01-02 3:04 PM", // CTM API sample, no zone
	"2006-01-02 3:04:05 PM",
	"2006-01-02T15:04:05.999999999", // no zone
	"2006-01-02 15:04:05.999999999", // CallRail datetime (UTC)
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	time.DateOnly,
}

// plausible refuses a time no call or deal has: before 1990 or after 2200
// (ClickHouse's DateTime64 would clamp it, or refuse the whole insert).
func plausible(key, s string, t time.Time) (*time.Time, error) {
	t = t.UTC()
	if t.Year() < 1990 || t.Year() > 2200 {
		return nil, Badf("%s %q is not a plausible date", key, Clip(s, 40))
	}
	return &t, nil
}

// ParseTime reads a date-time (or a date, as its UTC midnight) in the forms
// providers and Salesforce write; key names the field in the error.
func ParseTime(key, s string) (*time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return plausible(key, s, t)
		}
	}
	return nil, Badf("%s: cannot read %q as an ISO 8601 date-time (e.g. 2024-03-01T12:05:00Z)", key, Clip(s, 40))
}

// ParseDate reads a Salesforce date (ActivityDate, CloseDate: 2024-03-01), or
// the date part of a date-time.
func ParseDate(key, s string) (*time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return plausible(key, s, t)
	}
	t, err := ParseTime(key, s)
	if err != nil {
		return nil, Badf("%s: cannot read %q as a date (e.g. 2024-03-01)", key, Clip(s, 40))
	}
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return &d, nil
}

// VersionOf turns a time into a record version: later is larger.
func VersionOf(t time.Time) uint64 {
	if t.UnixNano() <= 0 {
		return 0
	}
	return uint64(t.UnixNano())
}

// CHTime writes a DateTime64(3, 'UTC') value for JSONEachRow, or null.
func CHTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}
