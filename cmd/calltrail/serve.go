package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/calltrail/calltrail/gateway/channels"
	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/opportunities"
	"github.com/calltrail/calltrail/gateway/schema"
	"github.com/calltrail/calltrail/gateway/server"
	"github.com/calltrail/calltrail/gateway/store"
)

// storeFlags are the flags every command that opens the store shares.
type storeFlags struct {
	data, clickhouse, channels string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", env("CALLTRAIL_DATA", "./data"), "data folder: the embedded store and the spool (env CALLTRAIL_DATA)")
	fs.StringVar(&f.clickhouse, "clickhouse", env("CALLTRAIL_CLICKHOUSE", ""), "ClickHouse server DSN instead of the embedded store (env CALLTRAIL_CLICKHOUSE)")
	fs.StringVar(&f.channels, "channels", env("CALLTRAIL_CHANNELS", ""), "channel sheet (CSV) to put in force at start; default: keep the sheet in force, or the built-in one (env CALLTRAIL_CHANNELS)")
}

// open opens and migrates the store.
func (f *storeFlags) open(ctx context.Context, log *slog.Logger) (store.Store, error) {
	if f.clickhouse != "" {
		return nil, errors.New("--clickhouse: ClickHouse server mode is not in this build yet; leave it unset to use the embedded store in --data")
	}
	s, err := store.OpenEmbedded(filepath.Join(f.data, "chdb"), "calltrail")
	if err != nil {
		return nil, err
	}
	applied, err := schema.Migrate(ctx, s)
	if err != nil {
		s.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "migrations", strings.Join(applied, ", "))
	}
	if err := f.applyChannels(ctx, s, log); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// applyChannels puts --channels in force. Without it the sheet in force is
// kept (the built-in one on a new store; one uploaded through the API
// survives restarts).
func (f *storeFlags) applyChannels(ctx context.Context, s store.Store, log *slog.Logger) error {
	if f.channels == "" {
		return nil
	}
	rules, err := readSheet(f.channels)
	if err != nil {
		return err
	}
	changed, err := channels.Apply(ctx, s, rules, filepath.Base(f.channels))
	if changed {
		log.Info("channel sheet in force", "file", f.channels, "rules", len(rules))
	}
	return err
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var sf storeFlags
	sf.register(fs)
	listen := fs.String("listen", env("CALLTRAIL_LISTEN", "127.0.0.1:8080"), "address to listen on (env CALLTRAIL_LISTEN)")
	token := fs.String("api-token", env("CALLTRAIL_API_TOKEN", ""), "bearer token of the read/admin API; generated and kept in DATA/api-token when unset (env CALLTRAIL_API_TOKEN)")
	var cf callFlags
	cf.register(fs)
	storeEmails, storeEmailsErr := envBool("CALLTRAIL_STORE_EMAILS")
	fs.BoolVar(&storeEmails, "store-emails", storeEmails, "keep opportunities' emails in clear text too, not only their sha256 hash (env CALLTRAIL_STORE_EMAILS)")
	fs.Parse(args)
	if storeEmailsErr != nil {
		return storeEmailsErr
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := os.MkdirAll(sf.data, 0o755); err != nil {
		return err
	}
	apiToken, generated, err := resolveToken(*token, sf.data)
	if err != nil {
		return err
	}
	st, err := sf.open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()

	callsConfig, err := cf.setup(ctx, st, log)
	if err != nil {
		return err
	}
	if storeEmails {
		log.Info("opportunities' emails are stored in clear text as well as hashed (--store-emails)")
	}
	batcher := store.NewBatcher(st, "events_raw", ingest.Columns, "TabSeparated", store.DefaultBatchOptions)
	srv, err := server.New(server.Config{Store: st, Events: batcher, APIToken: apiToken, Calls: callsConfig, Log: log,
		Opportunities: opportunities.Config{StoreEmails: storeEmails}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	srv.SetReady()

	base := "http://" + ln.Addr().String()
	fmt.Fprintf(os.Stderr, "\nCallTrail is running on %s (embedded store in %s)\n", base, sf.data)
	fmt.Fprintf(os.Stderr, "  dashboard:   %s/\n", base)
	fmt.Fprintf(os.Stderr, "  demo site:   %s/demo/\n", base)
	fmt.Fprintf(os.Stderr, "  site script: <script async src=\"%s/calltrail.js\" data-site=\"SITE\"></script>\n", base)
	if generated {
		fmt.Fprintf(os.Stderr, "  API token:   %s   (new; kept in %s)\n\n", apiToken, tokenFile(sf.data))
	} else {
		fmt.Fprintf(os.Stderr, "  API token:   in %s or $CALLTRAIL_API_TOKEN\n\n", tokenFile(sf.data))
	}
	if out, err := st.Query(ctx, "SELECT count() FROM events_raw", "TSV", nil); err == nil && strings.TrimSpace(string(out)) == "0" {
		fmt.Fprintf(os.Stderr, "  The store is empty. For a month of demo data, run in another terminal:\n    %s demo seed --url %s\n\n", os.Args[0], base)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests and flushing events")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	batcher.Close()
	return nil
}

// envBool reads a true/false setting from the environment (unset: false).
func envBool(name string) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, got %q", name, v)
	}
	return b, nil
}

func tokenFile(data string) string { return filepath.Join(data, "api-token") }

// resolveToken returns the API token: the flag's, else the one kept in the
// data folder, else a new one saved there (generated = true).
func resolveToken(flagValue, data string) (token string, generated bool, err error) {
	if flagValue != "" {
		return flagValue, false, nil
	}
	if b, err := os.ReadFile(tokenFile(data)); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), false, nil
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", false, err
	}
	token = "ct_" + hex.EncodeToString(buf)
	if err := os.WriteFile(tokenFile(data), []byte(token+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("save the API token: %w", err)
	}
	return token, true, nil
}

func migrate(args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ExitOnError)
	var sf storeFlags
	sf.register(fs)
	fs.Parse(args)
	st, err := sf.open(context.Background(), slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		return err
	}
	st.Close()
	fmt.Println("schema is up to date")
	return nil
}
