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
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/calltrail/calltrail/gateway/calls"
	"github.com/calltrail/calltrail/gateway/channels"
	"github.com/calltrail/calltrail/gateway/ingest"
	"github.com/calltrail/calltrail/gateway/schema"
	"github.com/calltrail/calltrail/gateway/server"
	"github.com/calltrail/calltrail/gateway/spool"
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
	queueMax := byteSize(spool.DefaultMaxBytes)
	fs.Var(&queueMax, "queue-max", "most event bytes the durable queue (DATA/spool) holds while the store is slow or down; past it events get 503 + Retry-After (e.g. 512MiB, 4GiB)")
	batchRows := fs.Int("batch-rows", spool.DefaultBatchRows, "events per insert into ClickHouse, at most")
	batchWait := fs.Duration("batch-wait", spool.DefaultBatchWait, "longest an event waits in the queue before its batch is inserted")
	rateLimit := fs.Int("rate-limit", intEnv("CALLTRAIL_RATE_LIMIT", 0), "requests per second one client IP may make to /v1/events and /v1/p.gif, 429 past it; 0 = off (env CALLTRAIL_RATE_LIMIT)")
	maxConns := fs.Int("max-conns", server.DefaultMaxConns, "connections served at once")
	shutdownWait := fs.Duration("shutdown-timeout", 10*time.Second, "on SIGTERM, how long to finish requests and flush the queue into the store; what is left replays at the next start")
	var cf callFlags
	cf.register(fs)
	storeEmails, storeEmailsErr := envBool("CALLTRAIL_STORE_EMAILS")
	fs.BoolVar(&storeEmails, "store-emails", storeEmails, "keep emails (forms, identify calls, opportunities) in clear text too, not only their sha256 hash (env CALLTRAIL_STORE_EMAILS)")
	fs.Parse(args)
	if storeEmailsErr != nil {
		return storeEmailsErr
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("CALLTRAIL_CPUPROFILE"); path != "" {
		// For profiling the hot path under `make bench`: a CPU profile of
		// the whole run, written at shutdown.
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	if err := os.MkdirAll(sf.data, 0o755); err != nil {
		return err
	}
	apiToken, generated, err := resolveToken(*token, sf.data)
	if err != nil {
		return err
	}
	match, callsConfig, err := cf.setup(log)
	if err != nil {
		return err
	}
	if storeEmails {
		log.Info("emails are stored in clear text as well as hashed (--store-emails)")
	}
	// Listen first: while the store is opened and migrated and the queue
	// replayed, /healthz answers 503 "starting" (and /v1 routes 503)
	// instead of a probe's connection being refused.
	srv, err := server.New(server.Config{APIToken: apiToken, Calls: callsConfig, Log: log,
		StoreEmails: storeEmails, RateLimit: *rateLimit, MaxConns: *maxConns})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(os.Stderr, "CallTrail is starting on %s: opening the store in %s (/healthz is 503 until it is ready)\n", base, sf.data)

	st, queue, err := openBackend(ctx, sf, match, spool.Options{
		MaxBytes: int64(queueMax), BatchRows: *batchRows, BatchWait: *batchWait,
		Table: "events_raw", Columns: ingest.Columns, Format: "TabSeparated", Log: log,
	}, log)
	if err != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), *shutdownWait)
		defer cancel()
		srv.Shutdown(shutdownCtx)
		return err
	}
	defer st.Close()
	srv.Ready(server.Backend{Store: st, Events: queue})

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
		// Other commands find the token in ./data by default; name it
		// when this store lives elsewhere, so the line works as printed.
		tokenArg := ""
		if filepath.Clean(sf.data) != "data" {
			tokenArg = fmt.Sprintf(" --token \"$(cat %s)\"", tokenFile(sf.data))
		}
		fmt.Fprintf(os.Stderr, "  The store is empty. For a month of demo data, run in another terminal:\n    %s demo seed --url %s%s\n\n", os.Args[0], base, tokenArg)
	}

	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
	}
	// Stop accepting (503, /healthz 503), finish requests in flight, then
	// flush the queue into the store until the deadline; what is left
	// stays in DATA/spool and replays at the next start.
	log.Info("shutting down: finishing requests and flushing queued events", "deadline", *shutdownWait)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *shutdownWait)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	queue.Close(shutdownCtx)
	stats := queue.Stats()
	log.Info("stopped", "stored_events", stats.StoredEvents, "left_in_queue", stats.BacklogEvents)
	return serveErr
}

// openBackend opens and migrates the store, puts the call match settings
// in force and opens the queue (replaying what it holds). On an error
// nothing is left open.
func openBackend(ctx context.Context, sf storeFlags, match calls.MatchSettings, qo spool.Options, log *slog.Logger) (store.Store, *spool.Spool, error) {
	st, err := sf.open(ctx, log)
	if err != nil {
		return nil, nil, err
	}
	if err := applyMatching(ctx, st, match, log); err != nil {
		st.Close()
		return nil, nil, err
	}
	queue, err := spool.Open(filepath.Join(sf.data, "spool"), st, qo)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, queue, nil
}

// byteSize is a flag of bytes written as 1073741824, 1GiB, 512MiB, 64KiB.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(v string) error {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a size such as 1GiB or 536870912", v)
	}
	*b = byteSize(n * mult)
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

func intEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
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
