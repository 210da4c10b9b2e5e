// Command build bundles CallTrail's browser scripts (bundle.Entries) into
// gateway/assets/dist, where the gateway embeds them, and prints each one's
// raw and gzipped size. It fails when a script is over its size budget, so
// `make bundle` stops before a too-large script ships.
//
//	go run ./build
package main

import (
	"fmt"
	"os"

	"github.com/calltrail/calltrail/build/bundle"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := bundle.Root(".")
	if err != nil {
		return err
	}
	var over []string
	for _, e := range bundle.Entries {
		r, err := bundle.Build(root, e)
		if err != nil {
			return err
		}
		if err := bundle.Write(root, r); err != nil {
			return err
		}
		fmt.Println(r)
		if r.OverBudget() {
			over = append(over, fmt.Sprintf("%s is %d B gzipped, over its %d B budget", r.Out, r.Gzip, r.Budget))
		}
	}
	if len(over) > 0 {
		return fmt.Errorf("%v", over)
	}
	return nil
}
