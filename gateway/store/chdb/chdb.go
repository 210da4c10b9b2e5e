// Package chdb binds the few C functions of libchdb (ClickHouse as a library)
// that CallTrail needs, with purego, so no cgo toolchain is needed and a binary
// that never opens the embedded store never loads the 560 MB library.
package chdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Version is the chDB release CallTrail is built and tested against.
const Version = "26.5.3"

// ErrLibraryMissing is returned when libchdb.so cannot be found.
var ErrLibraryMissing = errors.New("libchdb.so not found")

// LibraryPath returns where libchdb.so is looked for: $CHDB_LIB_PATH when set,
// else the per-user cache that `make lib` fills.
func LibraryPath() string {
	if p := os.Getenv("CHDB_LIB_PATH"); p != "" {
		return p
	}
	return filepath.Join(CacheDir(), "libchdb.so")
}

// CacheDir is the folder `make lib` downloads libchdb into, outside any
// checkout so that every clone shares one copy.
func CacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "calltrail", "chdb-"+Version)
}

type lib struct {
	connect   func(argc int32, argv []*byte) unsafe.Pointer
	closeConn func(conn unsafe.Pointer)
	query     func(conn unsafe.Pointer, q *byte, qlen uintptr, f *byte, flen uintptr,
		names **byte, nameLens *uintptr, values **byte, valueLens *uintptr, count uintptr) unsafe.Pointer
	destroy  func(res unsafe.Pointer)
	buffer   func(res unsafe.Pointer) unsafe.Pointer
	length   func(res unsafe.Pointer) uintptr
	errorMsg func(res unsafe.Pointer) unsafe.Pointer
}

var (
	loadOnce sync.Once
	loaded   *lib
	loadErr  error

	// The engine is process-wide: the first Open boots it on a path and a
	// keeper connection holds it up until exit (chDB cannot safely shut down
	// and boot again in one process).
	engineMu   sync.Mutex
	enginePath string
)

func load() (*lib, error) {
	loadOnce.Do(func() {
		path := LibraryPath()
		if _, err := os.Stat(path); err != nil {
			loadErr = fmt.Errorf("%w at %s: run `make lib` to download chDB %s (~170 MB, once), or set CHDB_LIB_PATH to an existing libchdb.so", ErrLibraryMissing, path, Version)
			return
		}
		h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			loadErr = fmt.Errorf("load %s: %w", path, err)
			return
		}
		l := &lib{}
		purego.RegisterLibFunc(&l.connect, h, "chdb_connect")
		purego.RegisterLibFunc(&l.closeConn, h, "chdb_close_conn")
		purego.RegisterLibFunc(&l.query, h, "chdb_query_with_params_n")
		purego.RegisterLibFunc(&l.destroy, h, "chdb_destroy_query_result")
		purego.RegisterLibFunc(&l.buffer, h, "chdb_result_buffer")
		purego.RegisterLibFunc(&l.length, h, "chdb_result_length")
		purego.RegisterLibFunc(&l.errorMsg, h, "chdb_result_error")
		loaded = l
	})
	return loaded, loadErr
}

// Conn is one connection to the process's chDB engine. A connection runs one
// statement at a time; Query serialises callers. Several connections to the
// same path may be open at once, each with its own settings.
type Conn struct {
	lib    *lib
	handle unsafe.Pointer // chdb_connection* as returned by chdb_connect
	mu     sync.Mutex
}

// Open connects to the engine stored at path. Settings made with SET on a
// connection stay on that connection (chDB 26.5 ignores settings passed as
// connect arguments, so callers use SET).
func Open(path string) (*Conn, error) {
	l, err := load()
	if err != nil {
		return nil, err
	}
	// chDB resolves a relative path twice (the store's parts would land
	// under path/path/), so an insert fails; it is given an absolute one.
	path, err = filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("chdb: %w", err)
	}
	engineMu.Lock()
	defer engineMu.Unlock()
	if enginePath == "" {
		if _, err := connect(l, path); err != nil {
			return nil, err
		}
		enginePath = path
	} else if enginePath != path {
		return nil, fmt.Errorf("chdb: this process already runs the engine on %s; chDB holds one engine per process, so %s cannot be opened too", enginePath, path)
	}
	h, err := connect(l, path)
	if err != nil {
		return nil, err
	}
	return &Conn{lib: l, handle: h}, nil
}

func connect(l *lib, path string) (unsafe.Pointer, error) {
	args := []string{"clickhouse", "--path=" + path}
	argv := make([]*byte, len(args))
	for i, a := range args {
		argv[i] = cstr(a)
	}
	h := l.connect(int32(len(argv)), argv)
	runtime.KeepAlive(argv)
	if h == nil || *(*unsafe.Pointer)(h) == nil {
		return nil, fmt.Errorf("chdb: cannot open the store at %s (is it writable, and not in use by another process?)", path)
	}
	return h, nil
}

// Query runs one statement and returns its output in the given ClickHouse
// format ("" for none). Inserts carry their data inline after FORMAT.
// params bind {name:Type} placeholders on the server side (no interpolation);
// values are in ClickHouse's escaped text form.
func (c *Conn) Query(query []byte, format string, params map[string]string) ([]byte, error) {
	if len(query) == 0 {
		return nil, errors.New("chdb: empty query")
	}
	var names, values []*byte
	var nameLens, valueLens []uintptr
	for k, v := range params {
		names = append(names, cstr(k))
		nameLens = append(nameLens, uintptr(len(k)))
		values = append(values, cstr(v))
		valueLens = append(valueLens, uintptr(len(v)))
	}
	f := cstr(format)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handle == nil {
		return nil, errors.New("chdb: connection closed")
	}
	conn := *(*unsafe.Pointer)(c.handle)
	res := c.lib.query(conn, &query[0], uintptr(len(query)), f, uintptr(len(format)),
		first(names), first(nameLens), first(values), first(valueLens), uintptr(len(names)))
	runtime.KeepAlive(query)
	runtime.KeepAlive(f)
	runtime.KeepAlive(names)
	runtime.KeepAlive(values)
	if res == nil {
		return nil, errors.New("chdb: query returned no result")
	}
	defer c.lib.destroy(res)
	if msg := c.lib.errorMsg(res); msg != nil {
		if s := gostr(msg); s != "" {
			return nil, errors.New(strings.TrimSpace(s))
		}
	}
	n := c.lib.length(res)
	if n == 0 {
		return nil, nil
	}
	out := make([]byte, n)
	copy(out, unsafe.Slice((*byte)(c.lib.buffer(res)), n))
	return out, nil
}

// Close closes this connection. Closing the last one shuts the engine down,
// which chDB supports only once per process: keep one open until exit.
func (c *Conn) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handle != nil {
		c.lib.closeConn(c.handle)
		c.handle = nil
	}
}

func cstr(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}

func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func gostr(p unsafe.Pointer) string {
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}
