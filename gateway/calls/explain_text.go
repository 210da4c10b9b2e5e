package calls

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText prints the explanation for a person at a terminal
// (`calltrail explain`): the sentence first, then the facts behind it.
func (e *Explanation) WriteText(w io.Writer) error {
	loc, err := time.LoadLocation(e.Timezone)
	if err != nil || e.Timezone == "" {
		loc = time.UTC
	}
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\n%s\n\n", e.TaskID, e.Verdict, e.Sentence)
	fmt.Fprintf(&b, "Rule        %s\n", e.Rule.Text)

	typ := e.Call.TaskType
	if typ == "" {
		typ = "(empty: touchpoint type Web Visit)"
	} else {
		typ = fmt.Sprintf("%q", typ)
	}
	fmt.Fprintf(&b, "Call        %s (from %s), Task.Type %s, from %s\n", ts(e.Call.CallTime), e.Call.CallTimeFrom, typ, e.Call.Source)
	switch {
	case e.Call.UID != "":
		fmt.Fprintf(&b, "Visitor     %s (from %s)\n", e.Call.UID, e.Call.UIDSource)
	case e.Call.BizibleID != "":
		fmt.Fprintf(&b, "Visitor     none: %q (from %s) is not a _biz_uid\n", e.Call.BizibleID, e.Call.UIDSource)
	default:
		b.WriteString("Visitor     none: the call carries no _biz_uid\n")
	}
	writeSession := func(label string, s *Session) {
		if s == nil {
			return
		}
		fmt.Fprintf(&b, "%-11s %s on %s, started %s, last activity %s\n", label, s.SessionID, s.Site, ts(s.SessionStart), ts(s.LastActivity))
		fmt.Fprintf(&b, "            landing page %s\n", orNone(s.LandingPage, "(none)"))
		fmt.Fprintf(&b, "            source %s, medium %s, campaign %s, channel %s\n",
			orNone(s.TouchpointSource, "-"), orNone(s.Medium, "-"), orNone(s.Campaign, "-"), orNone(s.MarketingChannelPath, "-"))
	}
	writeSession("Session", e.Session)
	if e.MinutesFromSessionStart != nil {
		fmt.Fprintf(&b, "            the call came %s after the session start", plural(*e.MinutesFromSessionStart, "minute"))
		if e.MinutesFromLastActivity != nil {
			fmt.Fprintf(&b, ", %s after its last activity", plural(*e.MinutesFromLastActivity, "minute"))
		}
		b.WriteString("\n")
	}
	writeSession("Nearest", e.NearestSession)
	if tp := e.Touchpoint; tp != nil {
		fmt.Fprintf(&b, "Touchpoint  %s: type %s, source %s, medium %s, channel %s, position %s\n", tp.TouchpointID,
			tp.TouchpointType, orNone(tp.TouchpointSource, "-"), orNone(tp.Medium, "-"), orNone(tp.MarketingChannelPath, "-"), orNone(tp.TouchpointPosition, "-"))
	} else {
		b.WriteString("Touchpoint  none\n")
	}
	_, err = io.WriteString(w, b.String())
	return err
}
