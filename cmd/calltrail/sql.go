package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// client reaches a running gateway's API.
type client struct {
	url, token string
}

func (c *client) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "url", env("CALLTRAIL_URL", "http://127.0.0.1:8080"), "the gateway's base URL (env CALLTRAIL_URL)")
	fs.StringVar(&c.token, "token", env("CALLTRAIL_API_TOKEN", ""), "API token (env CALLTRAIL_API_TOKEN; default: read from ./data/api-token)")
}

// resolve fills in the token from the default data folder when not given.
func (c *client) resolve() error {
	if c.token != "" {
		return nil
	}
	b, err := os.ReadFile(tokenFile(env("CALLTRAIL_DATA", "./data")))
	if err != nil {
		return errors.New("no API token: pass --token, set CALLTRAIL_API_TOKEN, or run from the folder whose data/api-token `calltrail serve` wrote")
	}
	c.token = strings.TrimSpace(string(b))
	return nil
}

// do sends a request and returns the body, or an error carrying the
// gateway's own explanation for a non-2xx answer.
func (c *client) do(method, path, contentType string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequest(method, strings.TrimRight(c.url, "/")+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w (is `calltrail serve` running at %s?)", err, c.url)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func sqlCommand(args []string) error {
	fs := flag.NewFlagSet("sql", flag.ExitOnError)
	var c client
	c.register(fs)
	format := fs.String("format", "PrettyCompact", "output format: PrettyCompact, JSON, JSONEachRow, CSV, TSV, …")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: calltrail sql [flags] \"SELECT …\"   (or the statement on stdin)\n")
		fs.PrintDefaults()
	}
	fs.Parse(args)
	query := strings.Join(fs.Args(), " ")
	if query == "" || query == "-" {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		query = string(b)
	}
	if strings.TrimSpace(query) == "" {
		fs.Usage()
		return errors.New("no SQL statement given")
	}
	if err := c.resolve(); err != nil {
		return err
	}
	out, err := c.do(http.MethodPost, "/v1/sql?format="+*format, "text/plain", strings.NewReader(query))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}
