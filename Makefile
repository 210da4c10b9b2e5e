# CallTrail — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
CACHE_HOME := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
export CHDB_LIB_PATH ?= $(CACHE_HOME)/calltrail/chdb-26.5.3/libchdb.so
DATA ?= ./data
LISTEN ?= 127.0.0.1:8080

.PHONY: run test build bundle lib deps bench fuzz clean

## run: fetch libchdb if missing, build, start the gateway on the embedded store with the demo site
run: lib build
	./bin/calltrail serve --data $(DATA) --listen $(LISTEN)

## test: install what the tests need (chromium, libchdb), then run every test
## (and each fuzz target for a few seconds)
test: deps lib bundle
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=5s

## build: the calltrail binary in ./bin
build: bundle
	$(GO) build -o bin/calltrail ./cmd/calltrail

## bundle: the site script and the dashboard with esbuild, into gateway/assets/dist
bundle: gateway/ui/node_modules/.package-lock.json
	$(GO) run ./build

# The dashboard's npm packages (uPlot), as pinned in its package-lock.json:
# installed when node_modules is missing or older than the lock file.
gateway/ui/node_modules/.package-lock.json: gateway/ui/package-lock.json
	npm ci --prefix gateway/ui --ignore-scripts --no-audit --no-fund

## lib: download chDB's libchdb.so (~170 MB, once) into $(CACHE_HOME)/calltrail
lib:
	@test -f "$(CHDB_LIB_PATH)" || $(GO) run ./build/libchdb

## deps: Debian's chromium for the browser tests (apt, as root or with sudo)
deps:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing chromium (apt) for the browser tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## bench: build the gateway and measure its ingestion against a no-op Fiber
## baseline in the same run (README, Performance); BENCH_ARGS="--duration 30s"
bench: lib build
	$(GO) run ./cmd/calltrail-bench --gateway bin/calltrail $(BENCH_ARGS)

## fuzz: run every fuzz target for FUZZTIME each (default 2m)
FUZZTIME ?= 2m
FUZZ_TARGETS := ./gateway/ingest:FuzzEvents ./gateway/ingest:FuzzParseLanding
fuzz:
	@set -e; for target in $(FUZZ_TARGETS); do \
	  pkg=$${target%%:*}; name=$${target#*:}; \
	  echo "fuzz: $$name ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

clean:
	rm -rf bin gateway/assets/dist/*.js gateway/assets/dist/*.css
