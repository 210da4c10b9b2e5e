package assets

import (
	"fmt"
	"io/fs"
)

// Dashboard returns the dashboard's bundled script and stylesheet, or an
// error that says how to build them.
func Dashboard() (js, css []byte, err error) {
	if js, err = fs.ReadFile(dist, "dist/dashboard.js"); err == nil {
		css, err = fs.ReadFile(dist, "dist/dashboard.css")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("the dashboard is not built into this binary: run `make bundle` (or `make build`) first")
	}
	return js, css, nil
}
