package collectorjs_test

import (
	"testing"

	"github.com/calltrail/calltrail/build/bundle"
)

// TestSizeBudget fails when the site script, minified and gzipped, is over
// its budget (bundle.Entries: 2,048 bytes). It loads on every page of a
// customer's site; GoatCounter's count.js (2,204 B) and Umami's script
// (2,544 B) do less.
func TestSizeBudget(t *testing.T) {
	root, err := bundle.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range bundle.Entries {
		if e.In != "collector-js/src/index.ts" {
			continue
		}
		r, err := bundle.Build(root, e)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(r)
		if e.Budget != 2048 {
			t.Errorf("the site script's budget is %d B; the product promises 2048 B", e.Budget)
		}
		if r.OverBudget() {
			t.Fatalf("calltrail.js is %d B gzipped, %d B over its %d B budget: make it smaller (see collector-js/ARCHITECTURE.md)",
				r.Gzip, r.Gzip-r.Budget, r.Budget)
		}
		return
	}
	t.Fatal("no bundle entry for collector-js/src/index.ts")
}
