package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"

	"github.com/calltrail/calltrail/gateway/channels"
)

const channelsUsage = `usage:
  calltrail channels default          print the built-in channel sheet (a start for your own)
  calltrail channels check FILE       check a sheet; errors name the line
  calltrail channels apply FILE       put a sheet in force on a running gateway (reclassifies stored sessions)
`

func channelsCommand(args []string) error {
	fs := flag.NewFlagSet("channels", flag.ExitOnError)
	var c client
	c.register(fs)
	fs.Usage = func() { fmt.Fprint(fs.Output(), channelsUsage); fs.PrintDefaults() }
	if len(args) == 0 {
		fs.Usage()
		return errors.New("missing subcommand")
	}
	sub := args[0]
	if sub == "-h" || sub == "-help" || sub == "--help" {
		fs.Usage()
		return nil
	}
	fs.Parse(args[1:])
	switch {
	case sub == "default":
		_, err := os.Stdout.Write(channels.DefaultSheet())
		return err
	case (sub == "check" || sub == "apply") && fs.NArg() == 1:
		rules, err := readSheet(fs.Arg(0))
		if err != nil {
			return err
		}
		if sub == "check" {
			fmt.Printf("%s: %d rules, no errors\n", fs.Arg(0), len(rules))
			return nil
		}
		if err := c.resolve(); err != nil {
			return err
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		out, err := c.do(http.MethodPut, "/v1/channels", "text/csv", f)
		if err != nil {
			return err
		}
		fmt.Printf("%s", out)
		fmt.Println()
		return nil
	}
	fs.Usage()
	return fmt.Errorf("unknown or incomplete subcommand %q", sub)
}

// readSheet parses a channel sheet file; errors name the file and line.
func readSheet(path string) ([]channels.Rule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rules, err := channels.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rules, nil
}
