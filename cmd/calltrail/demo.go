package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

const demoUsage = `usage: calltrail demo seed [--visitors N] [--days D] [--url URL] [--token T]

Fills the running gateway's store with a realistic stretch of demo data
(site "acme-demo"): visitors from every channel, forms, chats, calls through
each provider's webhook format, unmatched calls of every kind, opportunities.
Use a fresh --data folder for it: the demo data mixes with real data.
`

func demoCommand(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	var c client
	c.register(fs)
	visitors := fs.Int("visitors", 3000, "visitors in the period")
	days := fs.Int("days", 30, "days of data, ending now")
	fs.Usage = func() { fmt.Fprint(fs.Output(), demoUsage); fs.PrintDefaults() }
	if len(args) == 0 || args[0] != "seed" {
		fs.Usage()
		return errors.New("unknown or missing subcommand (want: seed)")
	}
	fs.Parse(args[1:])
	if err := c.resolve(); err != nil {
		return err
	}
	q := url.Values{"visitors": {strconv.Itoa(*visitors)}, "days": {strconv.Itoa(*days)}}
	fmt.Fprintf(fs.Output(), "seeding %d visitors over %d days …\n", *visitors, *days)
	out, err := c.do(http.MethodPost, "/v1/demo/seed?"+q.Encode(), "", nil)
	if err != nil {
		return err
	}
	fmt.Printf("%s\n", out)
	fmt.Fprintf(fs.Output(), "done: open %s/ for the dashboard\n", c.url)
	return nil
}
