// Command calltrail is CallTrail's one binary: the gateway (serve) and the
// tools around it: migrate, sql, channels, import, explain, demo, version.
package main

import (
	"fmt"
	"os"
)

const usage = `calltrail — call-tracking attribution on ClickHouse

Usage:
  calltrail serve    [--listen ADDR] [--data DIR] [--api-token TOKEN]   start the gateway
  calltrail migrate  [--data DIR]                                        apply the SQL migrations and exit
  calltrail sql      [--url URL] [--token TOKEN] [--format F] "SELECT …"  run read-only SQL on a running gateway
  calltrail channels default|check FILE|apply FILE                       the marketing channel sheet (docs/channels.md)
  calltrail import   tasks FILE.csv                                      load a Salesforce Task export (docs/calls.md)
  calltrail explain  TASK_ID                                             why a call was or was not merged
  calltrail demo seed [--visitors N] [--days D]                          fill a running gateway with a month of demo data
  calltrail version                                                      print the version

Run "calltrail COMMAND -h" for a command's flags. Settings can also come from
the environment: CALLTRAIL_LISTEN, CALLTRAIL_DATA, CALLTRAIL_API_TOKEN,
CALLTRAIL_URL, CALLTRAIL_CLICKHOUSE.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	commands := map[string]func([]string) error{
		"serve":    serve,
		"migrate":  migrate,
		"sql":      sqlCommand,
		"channels": channelsCommand,
		"demo":     demoCommand,
		"import":   importCommand,
		"explain":  explainCommand,
		"version":  func([]string) error { fmt.Println("calltrail", version); return nil },
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		if os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
			fmt.Print(usage)
			return
		}
		fmt.Fprintf(os.Stderr, "calltrail: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "calltrail "+os.Args[1]+":", err)
		os.Exit(1)
	}
}

// env returns the environment variable's value, or def.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
