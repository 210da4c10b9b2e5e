package bundle

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEveryEntryBuilds(t *testing.T) {
	root, err := Root(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range Entries {
		r, err := Build(root, e)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		if len(r.Code) == 0 || r.Gzip == 0 || r.Gzip >= len(r.Code) {
			t.Errorf("%s: raw %d B, gzipped %d B: not a plausible minified script", e.Name, len(r.Code), r.Gzip)
		}
		t.Log(r)
	}
}

func TestBuildReportsErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.ts"), []byte("const x: number = ;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(dir, Entry{Name: "bad", In: "bad.ts", Out: "bad.js"})
	if err == nil || !strings.Contains(err.Error(), "bad.ts") {
		t.Fatalf("want an error naming bad.ts, got %v", err)
	}
}

func TestGzipSizeIsTheGzippedLength(t *testing.T) {
	in := bytes.Repeat([]byte("calltrail "), 200)
	n, err := GzipSize(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(in)
	w.Close()
	if n != buf.Len() {
		t.Fatalf("GzipSize = %d, want %d", n, buf.Len())
	}
	r, _ := gzip.NewReader(&buf)
	out, _ := io.ReadAll(r)
	if !bytes.Equal(out, in) {
		t.Fatal("round trip failed")
	}
}

func TestOverBudget(t *testing.T) {
	for _, c := range []struct {
		gzip, budget int
		over         bool
	}{{2048, 2048, false}, {2049, 2048, true}, {9999, 0, false}} {
		r := Result{Entry: Entry{Budget: c.budget}, Gzip: c.gzip}
		if r.OverBudget() != c.over {
			t.Errorf("gzip %d budget %d: OverBudget = %v", c.gzip, c.budget, !c.over)
		}
	}
}
