package channels

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/calltrail/calltrail/gateway/store"
)

// Apply puts rules in force: stored as a new version of channel_rules (the
// history of sheets), then compiled into the sessions view, which every view
// of sessions and touchpoints reads at query time. When the same sheet is
// already in force nothing is stored and changed is false. source says where
// the sheet came from ("default", a file name, "api").
func Apply(ctx context.Context, st store.Store, rules []Rule, source string) (changed bool, err error) {
	canonical, _ := json.Marshal(rules)
	sum := sha256.Sum256(canonical)
	hash := hex.EncodeToString(sum[:])
	out, err := st.Query(ctx, "SELECT any(sheet_hash) FROM channel_rules WHERE version = (SELECT max(version) FROM channel_rules)", "TSV", nil)
	if err != nil {
		return false, fmt.Errorf("read the channel sheet in force: %w", err)
	}
	if strings.TrimSpace(string(out)) == hash {
		return false, Refresh(ctx, st)
	}
	version := time.Now().UnixNano()
	var rows []byte
	for i, r := range rules {
		row, _ := json.Marshal(map[string]any{
			"version": version, "ord": i + 1, "line": r.Line, "channel": r.Channel, "subchannel": r.Subchannel,
			"campaign": nonNil(r.Patterns[Campaign]), "medium": nonNil(r.Patterns[Medium]), "source": nonNil(r.Patterns[Source]),
			"landing_page": nonNil(r.Patterns[LandingPage]), "referring_website": nonNil(r.Patterns[ReferringWebsite]),
			"click_id": nonNil(r.Patterns[ClickID]), "sheet_hash": hash, "sheet_source": source,
		})
		rows = append(append(rows, row...), '\n')
	}
	cols := []string{"version", "ord", "line", "channel", "subchannel", "campaign", "medium", "source",
		"landing_page", "referring_website", "click_id", "sheet_hash", "sheet_source"}
	// One insert: all rows of the new version appear at once.
	if err := st.Insert(ctx, "channel_rules", cols, "JSONEachRow", rows, ""); err != nil {
		return false, fmt.Errorf("store the channel sheet: %w", err)
	}
	return true, Refresh(ctx, st)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// InForce reports whether any sheet has been applied to this store.
func InForce(ctx context.Context, st store.Store) (bool, error) {
	out, err := st.Query(ctx, "SELECT count() > 0 FROM channel_rules", "TSV", nil)
	if err != nil {
		return false, fmt.Errorf("read channel_rules: %w", err)
	}
	return strings.TrimSpace(string(out)) == "1", nil
}
