package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// NormalizeEmail is the one form of an email address CallTrail hashes (and
// keeps, when the operator opts in to clear text): trimmed and lower-cased.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// HashEmail is how an email joins a person wherever it comes from (a form,
// an identify call, an opportunity): the hex sha256 of NormalizeEmail(s).
// ok is false for text that is not an address (no @); an empty one hashes to
// "" and is ok.
func HashEmail(s string) (hash string, ok bool) {
	e := NormalizeEmail(s)
	if e == "" {
		return "", true
	}
	if !strings.Contains(e, "@") {
		return "", false
	}
	sum := sha256.Sum256([]byte(e))
	return hex.EncodeToString(sum[:]), true
}
