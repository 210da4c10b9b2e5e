module github.com/calltrail/calltrail

go 1.26.8

require (
	github.com/ebitengine/purego v0.11.3
	github.com/evanw/esbuild v0.28.2
	github.com/google/uuid v1.6.0
	github.com/medama-io/go-useragent v1.2.5
)

require (
	github.com/boyter/go-string v1.0.5 // indirect
	golang.org/x/sys v0.0.0-20220715151400-c0bba94af5f8 // indirect
)
