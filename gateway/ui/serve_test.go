package ui_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calltrail/calltrail/build/bundle"
	"github.com/calltrail/calltrail/gateway/server/servertest"
)

// get asks the gateway without letting Go's client decompress.
func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestGatewayServesTheDashboard: GET / is the page without the token, the
// bundles it names come from gateway/assets/dist with an ETag, 304 on
// revalidation, gzip or brotli; the data behind it still needs the token.
func TestGatewayServesTheDashboard(t *testing.T) {
	root, err := bundle.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	dist := map[string][]byte{}
	for _, name := range []string{"dashboard.js", "dashboard.css"} {
		b, err := os.ReadFile(filepath.Join(root, "gateway/assets/dist", name))
		if err != nil {
			t.Fatalf("gateway/assets/dist/%s is not built: run `make bundle` before the tests", name)
		}
		dist[name] = b
	}
	g := servertest.Start(t)

	resp, page := get(t, g.URL+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if etag := resp.Header.Get("ETag"); etag == "" {
		t.Error("GET /: no ETag")
	} else if r, _ := get(t, g.URL+"/", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with If-None-Match: %d, want 304", r.StatusCode)
	}
	if strings.Contains(string(page), "{{") {
		t.Errorf("the page still has placeholders:\n%s", page)
	}

	for name, raw := range dist {
		// The page names each bundle with its ETag as ?v=, so it can be cached for good.
		i := strings.Index(string(page), "/ui/"+name+"?v=")
		if i < 0 {
			t.Fatalf("the page does not load /ui/%s?v=…", name)
		}
		src := string(page[i:])
		src = src[:strings.IndexByte(src, '"')]
		resp, b := get(t, g.URL+src)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || !bytes.Equal(b, raw) || etag != `"`+src[strings.Index(src, "=")+1:]+`"` {
			t.Fatalf("GET %s: %d, %d bytes (file %d), ETag %s", src, resp.StatusCode, len(b), len(raw), etag)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s Cache-Control %q", name, cc)
		}
		if r, _ := get(t, g.URL+src, "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d, want 304", name, r.StatusCode)
		}
		r, zb := get(t, g.URL+src, "Accept-Encoding", "gzip")
		zr, err := gzip.NewReader(bytes.NewReader(zb))
		if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s gzip: %v %q", name, err, r.Header.Get("Content-Encoding"))
		}
		if unz, _ := io.ReadAll(zr); !bytes.Equal(unz, raw) {
			t.Errorf("%s: the gzip body differs from the file", name)
		}
		if r, br := get(t, g.URL+src, "Accept-Encoding", "gzip, deflate, br"); r.Header.Get("Content-Encoding") != "br" || len(br) >= len(zb) {
			t.Errorf("%s: brotli not preferred or not smaller: %q, %d B vs gzip %d B", name, r.Header.Get("Content-Encoding"), len(br), len(zb))
		}
	}

	// The page is public; the data is not.
	if r, _ := get(t, g.URL+"/v1/reports/summary"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("reports without the token: %d, want 401", r.StatusCode)
	}
}
