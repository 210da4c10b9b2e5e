package calls

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/calltrail/calltrail/gateway/sfrecord"
	"github.com/calltrail/calltrail/gateway/store"
)

// ErrNotFound is an explain for a task_id CallTrail has not stored.
var ErrNotFound = errors.New("no call with this task_id")

// Explanation is why one call was or was not merged into a web session
// (GET /v1/calls/{task_id}/explain, `calltrail explain`).
type Explanation struct {
	TaskID   string `json:"task_id"`
	Verdict  string `json:"verdict"` // merged, outside_window, no_session, no_bizible_id
	Rule     Rule   `json:"rule"`
	Call     Call   `json:"call"`
	Timezone string `json:"timezone"` // of the times in Sentence
	// Session is the session considered: the matched one (merged) or the one
	// that was too old (outside_window).
	Session                 *Session `json:"session"`
	MinutesFromSessionStart *float64 `json:"minutes_from_session_start"`
	MinutesFromLastActivity *float64 `json:"minutes_from_last_activity"`
	// NearestSession is the visitor's session closest in time to the call,
	// when the call was not merged and it differs from Session.
	NearestSession *Session    `json:"nearest_session,omitempty"`
	Touchpoint     *Touchpoint `json:"touchpoint"`
	Sentence       string      `json:"sentence"`
}

// Rule is the match settings applied.
type Rule struct {
	Anchor                string `json:"anchor"`
	WindowMinutes         uint32 `json:"window_minutes"`
	EarlyToleranceMinutes uint32 `json:"early_tolerance_minutes"`
	Text                  string `json:"text"`
}

// Call is the stored call.
type Call struct {
	CallTime     time.Time `json:"call_time"`
	CallTimeFrom string    `json:"call_time_from"`
	TaskType     string    `json:"task_type"`
	Subject      string    `json:"subject"`
	Source       string    `json:"source"`
	UID          string    `json:"uid"`
	BizibleID    string    `json:"bizible_id"`
	UIDSource    string    `json:"uid_source"`
}

// Session is a web session's touchpoint fields.
type Session struct {
	Site                 string    `json:"site"`
	SessionID            string    `json:"session_id"`
	SessionStart         time.Time `json:"session_start"`
	LastActivity         time.Time `json:"last_activity"`
	LandingPage          string    `json:"landing_page"`
	ReferrerPage         string    `json:"referrer_page"`
	TouchpointSource     string    `json:"touchpoint_source"`
	Medium               string    `json:"medium"`
	Campaign             string    `json:"campaign"`
	MarketingChannel     string    `json:"marketing_channel"`
	MarketingChannelPath string    `json:"marketing_channel_path"`
	// MinutesBeforeCall is call time − session start (negative: the session
	// started after the call).
	MinutesBeforeCall float64 `json:"minutes_before_call"`
}

// Touchpoint is the call's touchpoint as the touchpoints view shows it.
type Touchpoint struct {
	TouchpointID         string    `json:"touchpoint_id"`
	TouchpointDate       time.Time `json:"touchpoint_date"`
	TouchpointType       string    `json:"touchpoint_type"`
	TouchpointSource     string    `json:"touchpoint_source"`
	Medium               string    `json:"medium"`
	MarketingChannel     string    `json:"marketing_channel"`
	MarketingChannelPath string    `json:"marketing_channel_path"`
	AdCampaignName       string    `json:"ad_campaign_name"`
	AdContent            string    `json:"ad_content"`
	LandingPage          string    `json:"landing_page"`
	TouchpointPosition   string    `json:"touchpoint_position"`
	SessionID            string    `json:"session_id"`
}

// chTimeLayout is how ClickHouse writes DateTime64(3) in JSON output.
const chTimeLayout = "2006-01-02 15:04:05.000"

// chT reads a DateTime64 from JSON output (a UTC column).
type chT struct{ time.Time }

func (t *chT) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseInLocation(chTimeLayout, s, time.UTC)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

type matchRow struct {
	TaskID                  string   `json:"task_id"`
	Site                    string   `json:"site"`
	UID                     string   `json:"uid"`
	CallTime                chT      `json:"call_time"`
	TaskType                string   `json:"task_type"`
	SessionID               string   `json:"session_id"`
	SessionStart            chT      `json:"session_start"`
	SessionLastActivity     chT      `json:"session_last_activity"`
	MinutesFromSessionStart *float64 `json:"minutes_from_session_start"`
	Verdict                 string   `json:"verdict"`
	TouchpointID            string   `json:"touchpoint_id"`
	Rule                    string   `json:"rule"`
	Anchor                  string   `json:"anchor"`
	WindowMinutes           uint32   `json:"window_minutes"`
	EarlyToleranceMinutes   uint32   `json:"early_tolerance_minutes"`
	SessionSite             string   `json:"session_site"`
	MinutesFromLastActivity *float64 `json:"minutes_from_last_activity"`
	Subject                 string   `json:"subject"`
	BizibleID               string   `json:"bizible_id"`
	Source                  string   `json:"source"`
	CallTimeFrom            string   `json:"call_time_from"`
	UIDSource               string   `json:"uid_source"`
}

type sessionRow struct {
	Site                 string  `json:"site"`
	SessionID            string  `json:"session_id"`
	SessionStart         chT     `json:"session_start"`
	LastActivity         chT     `json:"last_activity"`
	LandingPage          string  `json:"landing_page"`
	ReferrerPage         string  `json:"referrer_page"`
	TouchpointSource     string  `json:"touchpoint_source"`
	Medium               string  `json:"medium"`
	AdCampaignName       string  `json:"ad_campaign_name"`
	MarketingChannel     string  `json:"marketing_channel"`
	MarketingChannelPath string  `json:"marketing_channel_path"`
	MinutesBeforeCall    float64 `json:"minutes_before_call"`
}

func (r sessionRow) session() *Session {
	return &Session{
		Site: r.Site, SessionID: r.SessionID, SessionStart: r.SessionStart.Time, LastActivity: r.LastActivity.Time,
		LandingPage: r.LandingPage, ReferrerPage: r.ReferrerPage, TouchpointSource: r.TouchpointSource,
		Medium: r.Medium, Campaign: r.AdCampaignName, MarketingChannel: r.MarketingChannel,
		MarketingChannelPath: r.MarketingChannelPath, MinutesBeforeCall: r.MinutesBeforeCall,
	}
}

// sessionsOfVisitor reads the touchpoint fields of the visitor {uid}'s
// sessions, with the last activity as call_matches counts it (the last page
// view or form submit, not session_end: any event) and the minutes from each
// session's start to the call {call}.
const sessionsOfVisitor = `SELECT f.site AS site, f.session_id AS session_id, f.session_start AS session_start,
		b.last_activity AS last_activity, f.landing_page AS landing_page, f.referrer_page AS referrer_page,
		f.touchpoint_source AS touchpoint_source, f.medium AS medium, f.ad_campaign_name AS ad_campaign_name,
		f.marketing_channel AS marketing_channel, f.marketing_channel_path AS marketing_channel_path,
		round((toUnixTimestamp64Milli({call:DateTime64(3, 'UTC')}) - toUnixTimestamp64Milli(f.session_start)) / 60000, 2)
			AS minutes_before_call
	FROM (SELECT * FROM session_touch_fields WHERE uid = {uid:String}) AS f
	LEFT JOIN (SELECT site, session_id, last_activity FROM call_session_bounds WHERE uid = {uid:String}) AS b
		ON b.site = f.site AND b.session_id = f.session_id`

// Explain reads one call's verdict and says it in a sentence, with times
// shown in loc (UTC when nil).
func Explain(ctx context.Context, st store.Store, taskID string, loc *time.Location) (*Explanation, error) {
	if loc == nil {
		loc = time.UTC
	}
	var m matchRow
	found, err := queryOne(ctx, st, `
		SELECT m.*, t.uid_source AS uid_source
		FROM call_matches AS m
		LEFT JOIN (SELECT task_id, uid_source FROM call_tasks FINAL WHERE task_id = {id:String}) AS t
		    ON t.task_id = m.task_id
		WHERE m.task_id = {id:String}`, store.Params{"id": taskID}, &m)
	if err != nil {
		return nil, fmt.Errorf("read call_matches: %w", err)
	}
	if !found {
		return nil, ErrNotFound
	}
	e := &Explanation{
		TaskID: m.TaskID, Verdict: m.Verdict, Timezone: loc.String(),
		Rule: Rule{Anchor: m.Anchor, WindowMinutes: m.WindowMinutes, EarlyToleranceMinutes: m.EarlyToleranceMinutes, Text: m.Rule},
		Call: Call{CallTime: m.CallTime.Time, CallTimeFrom: m.CallTimeFrom, TaskType: m.TaskType, Subject: m.Subject,
			Source: m.Source, UID: m.UID, BizibleID: m.BizibleID, UIDSource: m.UIDSource},
		MinutesFromSessionStart: m.MinutesFromSessionStart,
		MinutesFromLastActivity: m.MinutesFromLastActivity,
	}
	callParam := m.CallTime.UTC().Format(chTimeLayout)
	if m.SessionID != "" {
		var s sessionRow
		ok, err := queryOne(ctx, st, sessionsOfVisitor+` WHERE site = {site:String} AND session_id = {sid:String}`,
			store.Params{"site": m.SessionSite, "uid": m.UID, "sid": m.SessionID, "call": callParam}, &s)
		if err != nil {
			return nil, fmt.Errorf("read the session: %w", err)
		}
		if ok {
			e.Session = s.session()
		} else {
			// The session's rows vanished between the two reads (a TTL, a
			// delete): say what call_matches saw.
			e.Session = &Session{Site: m.SessionSite, SessionID: m.SessionID, SessionStart: m.SessionStart.Time,
				LastActivity: m.SessionLastActivity.Time, MinutesBeforeCall: deref(m.MinutesFromSessionStart)}
		}
	}
	if m.Verdict == "outside_window" || m.Verdict == "no_session" {
		var s sessionRow
		ok, err := queryOne(ctx, st, sessionsOfVisitor+`
			ORDER BY abs(toUnixTimestamp64Milli(session_start) - toUnixTimestamp64Milli({call:DateTime64(3, 'UTC')})), session_id
			LIMIT 1`, store.Params{"uid": m.UID, "call": callParam}, &s)
		if err != nil {
			return nil, fmt.Errorf("read the nearest session: %w", err)
		}
		if ok && (e.Session == nil || s.SessionID != e.Session.SessionID || s.Site != e.Session.Site) {
			e.NearestSession = s.session()
		}
	}
	if m.TouchpointID != "" {
		var tp struct {
			Touchpoint
			Date chT `json:"touchpoint_date"`
		}
		ok, err := queryOne(ctx, st, `SELECT touchpoint_id, touchpoint_date, touchpoint_type, touchpoint_source,
				medium, marketing_channel, marketing_channel_path, ad_campaign_name, ad_content, landing_page,
				touchpoint_position, session_id
			FROM touchpoints WHERE uid = {uid:String} AND touchpoint_id = {tp:String}`,
			store.Params{"uid": m.UID, "tp": m.TouchpointID}, &tp)
		if err != nil {
			return nil, fmt.Errorf("read the touchpoint: %w", err)
		}
		if ok {
			tp.Touchpoint.TouchpointDate = tp.Date.Time
			e.Touchpoint = &tp.Touchpoint
		}
	}
	e.Sentence = e.sentence(loc)
	return e, nil
}

// queryOne reads the first row of a JSONEachRow answer into v.
func queryOne(ctx context.Context, st store.Store, query string, params store.Params, v any) (bool, error) {
	out, err := st.Query(ctx, query, "JSONEachRow", params)
	if err != nil {
		return false, err
	}
	line, _, _ := bytes.Cut(bytes.TrimSpace(out), []byte("\n"))
	if len(line) == 0 {
		return false, nil
	}
	return true, json.Unmarshal(line, v)
}

// sentence says the verdict the way a marketer reads it.
func (e *Explanation) sentence(loc *time.Location) string {
	call := e.Call.CallTime.In(loc)
	clock := func(t time.Time) string { return clockAt(t.In(loc), call) }
	window := plural(float64(e.Rule.WindowMinutes), "minute")
	var b strings.Builder
	switch e.Verdict {
	case "no_bizible_id":
		if e.Call.BizibleID == "" {
			b.WriteString("No touchpoint: the call carries no BizibleId (the visitor's _biz_uid cookie), so it cannot be tied to a web session.")
		} else {
			fmt.Fprintf(&b, "No touchpoint: the BizibleId %q", sfrecord.Clip(e.Call.BizibleID, 40))
			if e.Call.UIDSource != "" {
				fmt.Fprintf(&b, " (from %s)", e.Call.UIDSource)
			}
			b.WriteString(" is not a _biz_uid visitor id (32 lowercase hex characters), so the call cannot be tied to a web session.")
		}
		b.WriteString(" Escalate to the call-tracking provider: its script must read the _biz_uid cookie and send it with the call.")
		return b.String()

	case "merged":
		s := e.Session
		start := e.Call.CallTime
		if s != nil {
			start = s.SessionStart
		}
		mins := deref(e.MinutesFromSessionStart)
		lastActivity := e.Rule.Anchor == AnchorLastActivity && s != nil
		switch {
		case mins < 0:
			fmt.Fprintf(&b, "Merged: the call came at %s, %s before the session's first hit at %s, within the %s allowed for clock differences.",
				clock(call), plural(-mins, "minute"), clock(start), plural(float64(e.Rule.EarlyToleranceMinutes), "minute"))
		case lastActivity && e.Call.CallTime.Before(s.LastActivity):
			// The window counts from the last activity, which came after the
			// call: minutes from the start would read as "too late".
			fmt.Fprintf(&b, "Merged: the call came at %s, during the session: it started at %s and its last activity was at %s; sessions count for %s after their last activity.",
				clock(call), clock(start), clock(s.LastActivity), window)
		case lastActivity:
			fmt.Fprintf(&b, "Merged: the session's last activity was at %s and the call came at %s, %s later; sessions count for %s after their last activity.",
				clock(s.LastActivity), clock(call), plural(deref(e.MinutesFromLastActivity), "minute"), window)
		default:
			fmt.Fprintf(&b, "Merged: the session started at %s and the call came at %s, %s later; sessions count for %s.",
				clock(start), clock(call), plural(mins, "minute"), window)
		}
		if s != nil {
			fmt.Fprintf(&b, " The session (%s", orNone(s.MarketingChannelPath, "no channel"))
			if s.LandingPage != "" {
				fmt.Fprintf(&b, ", landing page %s", s.LandingPage)
			}
			b.WriteString(") gets")
		} else {
			b.WriteString(" The session gets")
		}
		if e.Call.TaskType == "" {
			b.WriteString(" a touchpoint of type Web Visit, because the Task has no Type; set Task.Type (e.g. \"Call\") to report it as a call.")
		} else {
			fmt.Fprintf(&b, " a %q touchpoint instead of a Web Visit.", e.Call.TaskType)
		}
		return b.String()

	case "outside_window":
		s := e.Session
		if e.Rule.Anchor == AnchorLastActivity {
			fmt.Fprintf(&b, "Not merged: the session's last activity was at %s and the call came at %s, %s later; sessions count for %s after their last activity.",
				clock(s.LastActivity), clock(call), plural(deref(e.MinutesFromLastActivity), "minute"), window)
		} else {
			fmt.Fprintf(&b, "Not merged: the session started at %s and the call came at %s, %s later; sessions count for %s.",
				clock(s.SessionStart), clock(call), plural(deref(e.MinutesFromSessionStart), "minute"), window)
		}

	case "no_session":
		if n := e.NearestSession; n != nil {
			fmt.Fprintf(&b, "Not merged: the visitor's nearest session started at %s, %s after the call at %s; a call may come at most %s before its session starts (clock differences).",
				clock(n.SessionStart), plural(-n.MinutesBeforeCall, "minute"), clock(call), plural(float64(e.Rule.EarlyToleranceMinutes), "minute"))
		} else {
			fmt.Fprintf(&b, "Not merged: no web session of this visitor (%s) has been recorded, so far, before the call at %s; if the visit's events arrive later, the call is merged as soon as they do.",
				e.Call.UID, clock(call))
		}
	}
	b.WriteString(" A separate CRM Task touchpoint was created")
	if e.Call.TaskType == "" {
		b.WriteString(" (of type Web Visit, because the Task has no Type)")
	}
	b.WriteString(".")
	return b.String()
}

// clockAt writes t as 13:05 when it is on the call's day, else with its date.
func clockAt(t, call time.Time) string {
	if t.Year() == call.Year() && t.YearDay() == call.YearDay() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// plural writes "48 minutes", "1 minute", "29.5 minutes".
func plural(n float64, unit string) string {
	n = math.Round(n*10) / 10
	s := fmt.Sprintf("%.1f", n)
	if n == math.Trunc(n) {
		s = fmt.Sprintf("%d", int64(n))
	}
	if n == 1 {
		return s + " " + unit
	}
	return s + " " + unit + "s"
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
