// Package storetest gives tests a real embedded ClickHouse (chDB): one engine
// per test process, in a temporary folder, and a fresh database per test so
// tests never see each other's rows.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/calltrail/calltrail/gateway/schema"
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
	if _, err := schema.Migrate(context.Background(), s); err != nil {
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

// Faulty wraps a real store so that a test can make inserts fail, as they
// do while ClickHouse is down or restarting; everything else, and every
// insert while it is up, goes to the real engine.
type Faulty struct {
	store.Store
	down     atomic.Bool
	refused  atomic.Int64
	inserted atomic.Int64
}

// NewFaulty wraps s; inserts succeed until SetDown(true).
func NewFaulty(s store.Store) *Faulty { return &Faulty{Store: s} }

// SetDown makes inserts fail (true) or reach the engine again (false).
func (f *Faulty) SetDown(down bool) { f.down.Store(down) }

// Refused is how many inserts failed because the store was down.
func (f *Faulty) Refused() int64 { return f.refused.Load() }

// Inserted is how many inserts reached the engine and succeeded.
func (f *Faulty) Inserted() int64 { return f.inserted.Load() }

func (f *Faulty) Insert(ctx context.Context, table string, columns []string, format string, data []byte, token string) error {
	if f.down.Load() {
		f.refused.Add(1)
		return errors.New("store unavailable (injected by the test)")
	}
	err := f.Store.Insert(ctx, table, columns, format, data, token)
	if err == nil {
		f.inserted.Add(1)
	}
	return err
}
