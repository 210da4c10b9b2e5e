// Package bundle compiles CallTrail's browser scripts with esbuild's Go API:
// TypeScript in, one minified file out, no Node toolchain needed. Each output
// is an Entry; adding a script (the dashboard's, say) is one more line in
// Entries.
package bundle

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Entry is one script to bundle. Paths are relative to the repository root.
type Entry struct {
	Name string // what the build prints
	In   string // entry point (TypeScript or JavaScript)
	Out  string // the file the gateway embeds
	// Budget is the most the minified output may weigh gzipped, in bytes;
	// 0 means no budget. The site script's budget is a product feature: it
	// loads on every page of a customer's site.
	Budget int
}

// Entries are the scripts `go run ./build` produces.
var Entries = []Entry{
	{Name: "site script", In: "collector-js/src/index.ts", Out: "gateway/assets/dist/calltrail.js", Budget: 2048},
}

// Result is one built entry.
type Result struct {
	Entry
	Code []byte // the minified script
	Gzip int    // len(Code) gzipped at the best compression level
}

// OverBudget reports whether the gzipped size exceeds the entry's budget.
func (r Result) OverBudget() bool { return r.Budget > 0 && r.Gzip > r.Budget }

func (r Result) String() string {
	s := fmt.Sprintf("%-12s %s  %6d B raw  %5d B gzipped", r.Name, r.Out, len(r.Code), r.Gzip)
	if r.Budget > 0 {
		s += fmt.Sprintf("  (budget %d B, %d B left)", r.Budget, r.Budget-r.Gzip)
	}
	return s
}

// Build compiles one entry in memory; it writes nothing.
func Build(root string, e Entry) (Result, error) {
	res := api.Build(api.BuildOptions{
		AbsWorkingDir:     root,
		EntryPoints:       []string{e.In},
		Outfile:           e.Out,
		Bundle:            true,
		Write:             false,
		Format:            api.FormatIIFE,
		Platform:          api.PlatformBrowser,
		Target:            api.ES2020, // optional chaining and ?? stay as written: shorter
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		TreeShaking:       api.TreeShakingTrue,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
		LogLevel:          api.LogLevelSilent,
		// The output must not depend on an editor's tsconfig.json (its
		// "strict" would add a "use strict" prologue).
		TsconfigRaw: "{}",
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return Result{}, fmt.Errorf("bundle %s: %s", e.In, strings.Join(msgs, ""))
	}
	if len(res.OutputFiles) != 1 {
		return Result{}, fmt.Errorf("bundle %s: esbuild produced %d files, want 1", e.In, len(res.OutputFiles))
	}
	code := res.OutputFiles[0].Contents
	n, err := GzipSize(code)
	if err != nil {
		return Result{}, err
	}
	return Result{Entry: e, Code: code, Gzip: n}, nil
}

// GzipSize is the size of b gzipped at the best level, as `gzip -9` does.
func GzipSize(b []byte) (int, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(b); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}

// Write stores a built entry under root.
func Write(root string, r Result) error {
	path := filepath.Join(root, r.Out)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, r.Code, 0o644)
}

// Root finds the repository root (the folder holding go.mod) from dir up.
func Root(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory: run from inside the repository")
		}
		dir = parent
	}
}
