package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/store"
)

// callFlags are serve's settings for calls (docs/calls.md).
type callFlags struct {
	callrail, ctm, invoca string
	uidFields, taskType   string
	window, anchor, early string
}

func (f *callFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.callrail, "callrail-secret", env("CALLTRAIL_CALLRAIL_SECRET", ""), "CallRail company webhook token(s), comma-separated during a rotation; unset: CallRail webhooks are refused (env CALLTRAIL_CALLRAIL_SECRET)")
	fs.StringVar(&f.ctm, "ctm-secret", env("CALLTRAIL_CTM_SECRET", ""), "CallTrackingMetrics webhook secret(s), comma-separated; unset: CTM webhooks are refused (env CALLTRAIL_CTM_SECRET)")
	fs.StringVar(&f.invoca, "invoca-token", env("CALLTRAIL_INVOCA_TOKEN", ""), "Invoca webhook token(s), comma-separated; unset: Invoca webhooks are refused (env CALLTRAIL_INVOCA_TOKEN)")
	fs.StringVar(&f.uidFields, "call-uid-field", env("CALLTRAIL_CALL_UID_FIELD", ""), "more field names a provider may carry the visitor id under (comma-separated), besides "+strings.Join(calls.DefaultUIDFields, ", ")+" (env CALLTRAIL_CALL_UID_FIELD)")
	fs.StringVar(&f.taskType, "call-task-type", env("CALLTRAIL_CALL_TASK_TYPE", calls.DefaultTaskType), "Task.Type (touchpoint type and medium) of calls from provider webhooks (env CALLTRAIL_CALL_TASK_TYPE)")
	fs.StringVar(&f.window, "call-window", env("CALLTRAIL_CALL_WINDOW", "30"), "minutes after the anchor that a call still merges into a session (env CALLTRAIL_CALL_WINDOW)")
	fs.StringVar(&f.anchor, "call-anchor", env("CALLTRAIL_CALL_ANCHOR", calls.AnchorSessionStart), "what the window counts from: session_start (the source's rule) or last_activity (env CALLTRAIL_CALL_ANCHOR)")
	fs.StringVar(&f.early, "call-early-tolerance", env("CALLTRAIL_CALL_EARLY_TOLERANCE", "2"), "minutes a call may come before its session's first hit, for clock differences (env CALLTRAIL_CALL_EARLY_TOLERANCE)")
}

// setup reads the call flags: the match settings (applyMatching puts them
// in force once the store is open) and the webhook configuration.
func (f *callFlags) setup(log *slog.Logger) (calls.MatchSettings, calls.Config, error) {
	minutes := func(name, v string) (uint32, error) {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("--%s must be a whole number of minutes, got %q", name, v)
		}
		return uint32(n), nil
	}
	var m calls.MatchSettings
	var err error
	if m.WindowMinutes, err = minutes("call-window", f.window); err != nil {
		return m, calls.Config{}, err
	}
	if m.EarlyToleranceMinutes, err = minutes("call-early-tolerance", f.early); err != nil {
		return m, calls.Config{}, err
	}
	m.Anchor = strings.TrimSpace(f.anchor)
	if err := m.Validate(); err != nil {
		return m, calls.Config{}, err
	}
	cfg := calls.Config{
		CallRailSecrets: calls.Secrets(f.callrail),
		CTMSecrets:      calls.Secrets(f.ctm),
		InvocaTokens:    calls.Secrets(f.invoca),
		UIDFields:       calls.Secrets(f.uidFields),
		TaskType:        strings.TrimSpace(f.taskType),
	}
	for _, p := range calls.Providers {
		if !cfg.Configured(p) {
			log.Info("provider webhooks refused until a secret is set", "provider", p, "flag", "--"+map[string]string{
				calls.SourceCallRail: "callrail-secret", calls.SourceCTM: "ctm-secret", calls.SourceInvoca: "invoca-token"}[p])
		}
	}
	return m, cfg, nil
}

// applyMatching puts the match settings in force (for stored calls too, at
// once).
func applyMatching(ctx context.Context, st store.Store, m calls.MatchSettings, log *slog.Logger) error {
	changed, err := calls.SetMatchSettings(ctx, st, m)
	if err != nil {
		return err
	}
	if changed {
		log.Info("call matching settings in force", "window_minutes", m.WindowMinutes, "anchor", m.Anchor, "early_tolerance_minutes", m.EarlyToleranceMinutes)
	}
	return nil
}

func explainCommand(args []string) error {
	fs := flag.NewFlagSet("explain", flag.ExitOnError)
	var c client
	c.register(fs)
	tz := fs.String("tz", "", "time zone of the times shown, e.g. Europe/Amsterdam (default: the zone $TZ names, else UTC)")
	asJSON := fs.Bool("json", false, "print the gateway's JSON answer")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: calltrail explain [flags] TASK_ID   (e.g. callrail:CAL…, ctm:1234567, or a Task's Id)\n")
		fs.PrintDefaults()
	}
	fs.Parse(args)
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give one task_id")
	}
	if err := c.resolve(); err != nil {
		return err
	}
	zone := *tz
	if zone == "" {
		if zone = zoneOf(os.Getenv("TZ")); zone == "" && os.Getenv("TZ") != "" {
			fmt.Fprintf(os.Stderr, "calltrail explain: $TZ %q names no time zone; times are in UTC (pass --tz Europe/Amsterdam)\n", os.Getenv("TZ"))
		}
	}
	path := "/v1/calls/" + url.PathEscape(fs.Arg(0)) + "/explain"
	if zone != "" {
		path += "?tz=" + url.QueryEscape(zone)
	}
	out, err := c.do(http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err = os.Stdout.Write(append(out, '\n'))
		return err
	}
	var e calls.Explanation
	if err := json.Unmarshal(out, &e); err != nil {
		return fmt.Errorf("unexpected answer: %w", err)
	}
	return e.WriteText(os.Stdout)
}

// zoneOf turns $TZ into the IANA zone name the gateway's ?tz= takes, or ""
// (UTC) when it names none. $TZ may be a name ("Europe/Amsterdam"), a file
// (":/etc/localtime", a link into the zoneinfo tree that names the zone) or
// a POSIX rule ("CET-1CEST"), which the gateway cannot read: explain then
// shows UTC rather than failing with a 400 the user did not ask for.
func zoneOf(tz string) string {
	tz = strings.TrimPrefix(tz, ":")
	if filepath.IsAbs(tz) {
		p, err := filepath.EvalSymlinks(tz)
		if err != nil {
			return ""
		}
		var ok bool
		if _, tz, ok = strings.Cut(p, "/zoneinfo/"); !ok {
			return ""
		}
	}
	// "Local" would be the gateway's own zone, not the user's.
	if tz == "" || tz == "Local" {
		return ""
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return ""
	}
	return tz
}
