package opportunities

import (
	"context"
	"encoding/json"

	"github.com/calltrail/calltrail/gateway/sfrecord"
	"github.com/calltrail/calltrail/gateway/store"
)

// Columns are the opportunities table's columns in the order row writes
// them.
var Columns = []string{
	"opportunity_id", "name", "amount", "stage_name", "created_date", "close_date", "is_won",
	"is_closed", "contact_id", "email_hash", "email", "source", "properties", "received_at", "version",
}

var table = sfrecord.Table{Name: "opportunities", IDColumn: "opportunity_id", Columns: Columns, Noun: "opportunity"}

// Save stores opportunities in one insert. One whose Id is already stored
// (or appears earlier in the same batch) counts as updated; the highest
// version wins when opportunities are read (FINAL).
func Save(ctx context.Context, st store.Store, opps []*Opportunity) (sfrecord.Saved, error) {
	return sfrecord.Save(ctx, st, table, opps, func(o *Opportunity) string { return o.ID }, (*Opportunity).row)
}

// row encodes the opportunity as one JSONEachRow line.
func (o *Opportunity) row() ([]byte, error) {
	props := string(o.Properties)
	if props == "" {
		props = "{}"
	}
	flag := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	b, err := json.Marshal(map[string]any{
		"opportunity_id": o.ID, "name": o.Name, "amount": o.Amount, "stage_name": o.StageName,
		"created_date": sfrecord.CHTime(&o.CreatedDate), "close_date": sfrecord.CHTime(o.CloseDate),
		"is_won": flag(o.IsWon), "is_closed": flag(o.IsClosed), "contact_id": o.ContactID,
		"email_hash": o.EmailHash, "email": o.Email, "source": o.Source, "properties": props,
		"received_at": sfrecord.CHTime(&o.ReceivedAt), "version": o.Version,
	})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
