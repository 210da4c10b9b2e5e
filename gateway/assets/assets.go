// Package assets embeds what the gateway serves as files: the bundled site
// script (built into dist/ by `make bundle`) and the demo site.
package assets

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed dist
var dist embed.FS

//go:embed demo
var demo embed.FS

// Script returns the bundled site script, or an error that says how to build it.
func Script() ([]byte, error) {
	b, err := fs.ReadFile(dist, "dist/calltrail.js")
	if err != nil {
		return nil, fmt.Errorf("calltrail.js is not built into this binary: run `make bundle` (or `make build`) first")
	}
	return b, nil
}

// Demo is the demo site's files, rooted at the site's top.
func Demo() fs.FS {
	sub, err := fs.Sub(demo, "demo")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return sub
}
