// Command libchdb downloads chDB's libchdb.so (ClickHouse as a library) from
// the npm registry into the per-user cache, once, with progress and an
// integrity check. `make lib` runs it; `calltrail serve` looks there.
//
// The package is @chdb/lib-linux-x64-gnu; its tarball URL and sha512
// integrity come from `npm view`, so npm's own registry settings apply. When a
// direct download is not possible (a proxy only npm knows about), it falls
// back to `npm pack`, which shows no progress.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/calltrail/calltrail/gateway/store/chdb"
)

const pkg = "@chdb/lib-linux-x64-gnu@" + chdb.Version

func main() {
	printPath := flag.Bool("print-path", false, "print where libchdb.so is (or will be) and exit")
	flag.Parse()
	dest := chdb.LibraryPath()
	if *printPath {
		fmt.Println(dest)
		return
	}
	if _, err := os.Stat(dest); err == nil {
		fmt.Printf("libchdb %s: already in %s\n", chdb.Version, dest)
		return
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		fail(fmt.Errorf("chDB's npm package is for linux/amd64; on %s/%s set CHDB_LIB_PATH to a libchdb.so built for it", runtime.GOOS, runtime.GOARCH))
	}
	if err := fetch(dest); err != nil {
		fail(err)
	}
	fmt.Printf("libchdb %s: saved to %s\n", chdb.Version, dest)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "libchdb:", err)
	os.Exit(1)
}

func fetch(dest string) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "download-*.tgz")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	if err := download(tmp); err != nil {
		fmt.Fprintf(os.Stderr, "libchdb: direct download failed (%v); trying `npm pack` (no progress shown, ~170 MB)\n", err)
		if err := npmPack(tmp); err != nil {
			return err
		}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return extract(tmp, dest)
}

type dist struct {
	Tarball   string `json:"tarball"`
	Integrity string `json:"integrity"`
	Size      int64  `json:"unpackedSize"`
}

func download(out *os.File) error {
	raw, err := exec.Command("npm", "view", pkg, "dist", "--json").Output()
	if err != nil {
		return fmt.Errorf("npm view %s: %w (is npm installed?)", pkg, err)
	}
	var d dist
	if err := json.Unmarshal(raw, &d); err != nil || d.Tarball == "" {
		return fmt.Errorf("npm view %s: unexpected answer %q", pkg, raw)
	}
	resp, err := http.Get(d.Tarball)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", d.Tarball, resp.Status)
	}
	sum, want, err := integrity(d.Integrity)
	if err != nil {
		return err
	}
	p := &progress{total: resp.ContentLength, start: time.Now()}
	if _, err := io.Copy(io.MultiWriter(out, sum, p), resp.Body); err != nil {
		return err
	}
	p.done()
	if got := sum.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("integrity check failed for %s: the download is corrupt, run `make lib` again", d.Tarball)
	}
	return nil
}

// integrity decodes an npm "sha512-<base64>" integrity string.
func integrity(s string) (hash.Hash, []byte, error) {
	b64, ok := strings.CutPrefix(s, "sha512-")
	if !ok {
		return nil, nil, fmt.Errorf("unsupported integrity %q", s)
	}
	want, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, nil, fmt.Errorf("integrity %q: %w", s, err)
	}
	return sha512.New(), want, nil
}

func npmPack(out *os.File) error {
	dir, err := os.MkdirTemp("", "libchdb-pack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("npm", "pack", "--pack-destination", dir, pkg)
	cmd.Stderr = os.Stderr
	name, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("npm pack %s: %w", pkg, err)
	}
	f, err := os.Open(filepath.Join(dir, strings.TrimSpace(string(name))))
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := out.Truncate(0); err != nil {
		return err
	}
	_, err = io.Copy(out, f)
	return err
}

// extract writes package/libchdb.so from the tarball to dest atomically.
func extract(r io.Reader, dest string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: no package/libchdb.so in the tarball", pkg)
		}
		if err != nil {
			return err
		}
		if h.Name != "package/libchdb.so" {
			continue
		}
		part := dest + ".part"
		f, err := os.OpenFile(part, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(part, dest)
	}
}

// progress prints one updating line: bytes so far, total, rate.
type progress struct {
	total, n int64
	start    time.Time
	last     time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if time.Since(p.last) > 500*time.Millisecond {
		p.last = time.Now()
		p.print()
	}
	return len(b), nil
}

func (p *progress) print() {
	mb := float64(p.n) / 1e6
	rate := mb / time.Since(p.start).Seconds()
	if p.total > 0 {
		fmt.Fprintf(os.Stderr, "\rlibchdb %s: %6.1f / %.1f MB (%3.0f%%) %5.1f MB/s", chdb.Version, mb, float64(p.total)/1e6, 100*float64(p.n)/float64(p.total), rate)
	} else {
		fmt.Fprintf(os.Stderr, "\rlibchdb %s: %6.1f MB %5.1f MB/s", chdb.Version, mb, rate)
	}
}

func (p *progress) done() {
	p.print()
	fmt.Fprintln(os.Stderr)
}
