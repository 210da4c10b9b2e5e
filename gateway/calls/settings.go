package calls

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/calltrail/calltrail/gateway/store"
)

// Anchors: what a call's time is measured from.
const (
	// AnchorSessionStart is the source document's rule: the call must come
	// at most the window after the session started (12:17 click, 13:05 call:
	// not merged).
	AnchorSessionStart = "session_start"
	// AnchorLastActivity measures from the session's last page view or
	// form submit instead.
	AnchorLastActivity = "last_activity"
)

// MatchSettings decide when a call is merged into a session.
type MatchSettings struct {
	WindowMinutes         uint32 `json:"window_minutes"`
	Anchor                string `json:"anchor"`
	EarlyToleranceMinutes uint32 `json:"early_tolerance_minutes"`
}

// DefaultMatchSettings are the source document's rule plus 2 minutes for
// provider clock skew.
var DefaultMatchSettings = MatchSettings{WindowMinutes: 30, Anchor: AnchorSessionStart, EarlyToleranceMinutes: 2}

// Validate checks the settings.
func (m MatchSettings) Validate() error {
	switch {
	case m.Anchor != AnchorSessionStart && m.Anchor != AnchorLastActivity:
		return fmt.Errorf("call anchor must be %s or %s, got %q", AnchorSessionStart, AnchorLastActivity, m.Anchor)
	case m.WindowMinutes == 0 || m.WindowMinutes > 7*24*60:
		return fmt.Errorf("call window must be 1 to %d minutes, got %d", 7*24*60, m.WindowMinutes)
	case m.EarlyToleranceMinutes > 24*60:
		return fmt.Errorf("early tolerance must be at most %d minutes, got %d", 24*60, m.EarlyToleranceMinutes)
	}
	return nil
}

// CurrentMatchSettings reads the settings the views apply now.
func CurrentMatchSettings(ctx context.Context, st store.Store) (MatchSettings, error) {
	out, err := st.Query(ctx, "SELECT window_minutes, anchor, early_tolerance_minutes FROM match_settings_current", "JSONEachRow", nil)
	if err != nil {
		return MatchSettings{}, fmt.Errorf("read match settings: %w", err)
	}
	var m MatchSettings
	if err := json.Unmarshal(out, &m); err != nil {
		return MatchSettings{}, fmt.Errorf("read match settings: %w", err)
	}
	return m, nil
}

// SetMatchSettings makes m the settings in force, from the next query on,
// for every call already stored and every call to come. It writes nothing
// when they are in force already.
func SetMatchSettings(ctx context.Context, st store.Store, m MatchSettings) (changed bool, err error) {
	if err := m.Validate(); err != nil {
		return false, err
	}
	cur, err := CurrentMatchSettings(ctx, st)
	if err != nil {
		return false, err
	}
	if cur == m {
		return false, nil
	}
	err = st.Exec(ctx, `INSERT INTO match_settings (window_minutes, anchor, early_tolerance_minutes)
		VALUES ({w:UInt32}, {a:String}, {e:UInt32})`, store.Params{
		"w": strconv.FormatUint(uint64(m.WindowMinutes), 10),
		"a": m.Anchor,
		"e": strconv.FormatUint(uint64(m.EarlyToleranceMinutes), 10),
	})
	if err != nil {
		return false, fmt.Errorf("save match settings: %w", err)
	}
	return true, nil
}
