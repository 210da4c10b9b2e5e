package ingest

import (
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Event is one accepted event, ready to store as a row of events_raw.
type Event struct {
	ID         uuid.UUID
	Site       string
	UID        string
	SessionID  string
	Type       string
	Name       string
	Time       time.Time
	ReceivedAt time.Time
	URL        string
	Landing
	Referrer     string
	ReferrerHost string
	Title        string
	Form         string
	EmailHash    string
	Email        string // clear text only with Options.StoreEmails
	Props        string
	UserAgent    string
	Browser      string
	OS           string
	Device       string
	IsBot        bool
	Source       string // "js" (the site script) or "pixel" (p.gif)
}

// Columns are events_raw's columns in the order AppendTSV writes them.
var Columns = []string{
	"event_id", "site", "uid", "session_id", "type", "name", "event_time", "received_at",
	"url", "hostname", "path", "referrer", "referrer_host", "title",
	"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
	"gclid", "gbraid", "wbraid", "msclkid", "fbclid", "ttclid", "li_fat_id", "twclid",
	"form", "email_hash", "email", "props", "user_agent", "browser", "os", "device", "is_bot", "source",
}

// AppendTSV appends the event as one TabSeparated line.
func (e *Event) AppendTSV(b []byte) []byte {
	b = append(b, e.ID.String()...)
	for _, s := range []string{e.Site, e.UID, e.SessionID, e.Type, e.Name} {
		b = appendField(b, s)
	}
	b = appendTime(b, e.Time)
	b = appendTime(b, e.ReceivedAt)
	for _, s := range []string{
		e.URL, e.Hostname, e.Path, e.Referrer, e.ReferrerHost, e.Title,
		e.UTMSource, e.UTMMedium, e.UTMCampaign, e.UTMContent, e.UTMTerm,
		e.GCLID, e.GBRAID, e.WBRAID, e.MSCLKID, e.FBCLID, e.TTCLID, e.LiFatID, e.TWCLID,
		e.Form, e.EmailHash, e.Email, e.Props, e.UserAgent, e.Browser, e.OS, e.Device,
	} {
		b = appendField(b, s)
	}
	bot := "0"
	if e.IsBot {
		bot = "1"
	}
	b = appendField(b, bot)
	b = appendField(b, e.Source)
	return append(b, '\n')
}

// appendTime writes a DateTime64(3) as epoch milliseconds with a decimal
// point, which ClickHouse parses without any time zone ambiguity.
func appendTime(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	b = append(b, '\t')
	b = strconv.AppendInt(b, ms/1000, 10)
	b = append(b, '.')
	frac := ms % 1000
	if frac < 0 {
		frac = -frac
	}
	return append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendField writes a tab and s escaped for ClickHouse's TabSeparated format.
func appendField(b []byte, s string) []byte {
	b = append(b, '\t')
	start := 0
	for i := 0; i < len(s); i++ {
		var esc byte
		switch s[i] {
		case '\t':
			esc = 't'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		case '\\':
			esc = '\\'
		case 0:
			esc = '0'
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '\\', esc)
		start = i + 1
	}
	return append(b, s[start:]...)
}
