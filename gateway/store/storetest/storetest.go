// Package storetest gives tests a real embedded ClickHouse (chDB): one engine
// per test process, in a temporary folder, and a fresh database per test so
// tests never see each other's rows.
package storetest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/calltrail/calltrail/gateway/channels"
	"github.com/calltrail/calltrail/gateway/store"
	"github.com/calltrail/calltrail/gateway/store/chdb"
)

var (
	dirOnce sync.Once
	dir     string
	dirErr  error
	seq     atomic.Int64
)

// Dir is the process's engine folder.
func Dir(t testing.TB) string {
	t.Helper()
	dirOnce.Do(func() { dir, dirErr = os.MkdirTemp("", "calltrail-test-chdb-") })
	if dirErr != nil {
		t.Fatal(dirErr)
	}
	return dir
}

// Main runs a package's tests and removes the engine folder afterwards. Use
// it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	return code
}

// Open returns an empty, migrated store in a database of its own, with the
// default channel sheet in force, as `calltrail serve` starts. The library
// must be installed (`make lib`): a missing engine fails the test, it does
// not skip it.
func Open(t testing.TB) *store.Embedded {
	t.Helper()
	s := OpenEmpty(t)
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(context.Background(), s, ms); err != nil {
		t.Fatal(err)
	}
	if _, err := channels.Apply(context.Background(), s, channels.Default(), "default"); err != nil {
		t.Fatal(err)
	}
	return s
}

// OpenEmpty is Open without the migrations.
func OpenEmpty(t testing.TB) *store.Embedded {
	t.Helper()
	db := fmt.Sprintf("t%d_%s", seq.Add(1), sanitize(t.Name()))
	s, err := store.OpenEmbedded(Dir(t), db)
	if err != nil {
		t.Fatalf("open embedded store (library %s): %v", chdb.LibraryPath(), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sanitize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}
