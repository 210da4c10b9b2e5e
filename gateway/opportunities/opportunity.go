// Package opportunities takes Salesforce-style Opportunity records in
// (POST /v1/opportunities, `calltrail import opportunities FILE.csv`) and
// stores each as one row of the opportunities table (sql/migrations/013),
// the latest version of an Id winning. The revenue an opportunity brings is
// credited to the touchpoints of the person it belongs to: its ContactId (or
// WhoId) is matched to Tasks' WhoId, its Email — kept as a hash — to the
// emails of forms and identify calls (docs/revenue.md).
package opportunities

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/sfrecord"
)

// Config is how the gateway takes opportunities.
type Config struct {
	// StoreEmails keeps an opportunity's email in clear text (column email)
	// besides its hash; the operator opts in with --store-emails. Off, only
	// email_hash is stored.
	StoreEmails bool
}

// Sources of an opportunity.
const (
	SourceAPI = "opportunities_api" // POST /v1/opportunities
	SourceCSV = "csv"               // calltrail import opportunities
)

// Object names the Salesforce Opportunity object in messages.
var Object = sfrecord.Object{Name: "Opportunity", Example: "Id, Amount, StageName, CreatedDate, ContactId"}

// Path is the endpoint `calltrail import opportunities` posts to, its
// records marked as read from a CSV export.
const Path = "/v1/opportunities?source=" + SourceCSV

// PostHTTP posts batches of Opportunity records read from a CSV export to a
// running gateway.
func PostHTTP(baseURL, token string, client *http.Client) sfrecord.Poster {
	return sfrecord.PostHTTP(baseURL, Path, token, client)
}

// Salesforce Opportunity fields CallTrail reads (besides Id,
// LastModifiedDate and SystemModstamp); any other field is kept in
// properties. Names match case-insensitively, as Salesforce does.
const (
	fieldName        = "Name"
	fieldAmount      = "Amount"
	fieldStageName   = "StageName"
	fieldCreatedDate = "CreatedDate"
	fieldCloseDate   = "CloseDate"
	fieldIsWon       = "IsWon"
	fieldIsClosed    = "IsClosed"
	fieldContactID   = "ContactId"
	fieldWhoID       = "WhoId"
	fieldEmail       = "Email"
)

var fields = sfrecord.NewFields(fieldName, fieldAmount, fieldStageName, fieldCreatedDate, fieldCloseDate,
	fieldIsWon, fieldIsClosed, fieldContactID, fieldWhoID, fieldEmail)

// Opportunity is one opportunity as CallTrail stores it.
type Opportunity struct {
	ID          string
	Name        string
	Amount      float64 // 0 when not given
	StageName   string
	CreatedDate time.Time
	CloseDate   *time.Time // a date, stored as UTC midnight: attribution counts the whole day
	IsWon       bool
	IsClosed    bool // true when IsWon

	// The person: ContactID (ContactId, else WhoId) matches Tasks' WhoId;
	// EmailHash matches forms' and identify calls' emails. At least one is set.
	ContactID string
	EmailHash string
	Email     string // normalised; only with Config.StoreEmails

	Source     string // SourceAPI or SourceCSV
	Properties json.RawMessage
	ReceivedAt time.Time
	Version    uint64 // latest wins
}

// ParseAll turns Opportunity records (sfrecord.DecodeRecords) into
// opportunities; records that cannot be stored are rejected with a reason.
func ParseAll(recs []json.RawMessage, source string, now time.Time, cfg Config) ([]*Opportunity, []sfrecord.Rejection) {
	return sfrecord.ParseRecords(recs, Object, func(m map[string]any) (*Opportunity, error) {
		return Parse(m, source, now, cfg)
	})
}

// Parse reads one Salesforce Opportunity record (JSON, or a CSV row where
// every value is a string and an empty one means "not set").
func Parse(m map[string]any, source string, now time.Time, cfg Config) (*Opportunity, error) {
	p, props, err := fields.Split(m)
	if err != nil {
		return nil, err
	}
	o := &Opportunity{Source: source, ReceivedAt: now.UTC()}
	if o.ID, err = p.RecordID(); err != nil {
		return nil, err
	}
	if o.Name, err = p.Strict(fieldName); err != nil {
		return nil, err
	}
	if o.StageName, err = p.Strict(fieldStageName); err != nil {
		return nil, err
	}
	if o.Amount, err = p.Amount(fieldAmount); err != nil {
		return nil, err
	}
	created, err := p.Time(fieldCreatedDate)
	if err != nil {
		return nil, err
	}
	if created == nil {
		return nil, sfrecord.Badf("%s is required (when the opportunity was created, e.g. 2024-03-01T12:05:00.000+0000)", fieldCreatedDate)
	}
	o.CreatedDate = *created
	if o.CloseDate, err = p.Date(fieldCloseDate); err != nil {
		return nil, err
	}
	if err := o.readStatus(p); err != nil {
		return nil, err
	}
	if err := o.readPerson(p, props, cfg); err != nil {
		return nil, err
	}
	if o.Version, err = p.Version(o.ReceivedAt); err != nil {
		return nil, err
	}
	if o.Properties, err = sfrecord.Properties(props); err != nil {
		return nil, err
	}
	return o, nil
}

// readStatus reads IsWon and IsClosed: a won opportunity is closed, so
// IsWon true with IsClosed unset means closed, and with IsClosed false is a
// contradiction.
func (o *Opportunity) readStatus(p sfrecord.Record) error {
	won, err := p.Bool(fieldIsWon)
	if err != nil {
		return err
	}
	closed, err := p.Bool(fieldIsClosed)
	if err != nil {
		return err
	}
	o.IsWon = won != nil && *won
	o.IsClosed = o.IsWon || closed != nil && *closed
	if o.IsWon && closed != nil && !*closed {
		return sfrecord.Badf("%s is true but %s is false: a won opportunity is closed", fieldIsWon, fieldIsClosed)
	}
	return nil
}

// readPerson finds whom the opportunity belongs to: ContactId, else WhoId
// (a WhoId that differs from the ContactId is kept in properties), and the
// Email, hashed by the rule forms and identify calls use.
func (o *Opportunity) readPerson(p sfrecord.Record, props map[string]any, cfg Config) error {
	contact, err := p.Strict(fieldContactID)
	if err != nil {
		return err
	}
	who, err := p.Strict(fieldWhoID)
	if err != nil {
		return err
	}
	o.ContactID = contact
	if contact == "" {
		o.ContactID = who
	} else if who != "" && who != contact {
		props[fieldWhoID] = who
	}
	email, err := p.Strict(fieldEmail)
	if err != nil {
		return err
	}
	hash, ok := ingest.HashEmail(email)
	if !ok {
		return sfrecord.Badf("%s %q is not an email address (it has no @)", fieldEmail, sfrecord.Clip(email, 64))
	}
	o.EmailHash = hash
	if cfg.StoreEmails {
		o.Email = ingest.NormalizeEmail(email)
	}
	if o.ContactID == "" && o.EmailHash == "" {
		return sfrecord.Badf("no person: give %s (or %s) or %s, so the opportunity's revenue can be credited to that person's touchpoints",
			fieldContactID, fieldWhoID, fieldEmail)
	}
	return nil
}
