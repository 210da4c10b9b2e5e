// Package ui is CallTrail's dashboard (GET /): index.html, the page's shell,
// and its TypeScript in src/, which `make bundle` turns into
// gateway/assets/dist/dashboard.{js,css} (esbuild, with uPlot from
// node_modules). The gateway serves all three (gateway/server/dashboard.go).
package ui

import _ "embed"

// IndexHTML is the page. {{JS_VERSION}} and {{CSS_VERSION}} are replaced by
// the bundles' ETags, so browsers may cache the bundles for good.
//
//go:embed index.html
var IndexHTML []byte
