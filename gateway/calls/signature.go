package calls

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CTMTolerance is how far X-CTM-Time may be from the gateway's clock.
const CTMTolerance = 5 * time.Minute

// Signature errors. Each answer is a 401; the message says which check
// failed (never which secret was close).
var (
	ErrNoSecret         = errors.New("no secret is configured for this provider, so every delivery is refused")
	ErrMissingSignature = errors.New("the signature is missing")
	ErrBadSignature     = errors.New("the signature does not match the body with any configured secret")
	ErrStale            = fmt.Errorf("X-CTM-Time is more than %v away from now (a replay, or a clock off)", CTMTolerance)
)

// SignCallRail is CallRail's header `Signature`: base64 of HMAC-SHA1 of the
// raw body with the company's webhook token as the key.
func SignCallRail(token string, body []byte) string {
	return base64.StdEncoding.EncodeToString(hmacSHA1([]byte(token), body))
}

// SignCTM is CallTrackingMetrics' X-CTM-Signature: base64 of HMAC-SHA1 of
// X-CTM-Time followed by the raw body, keyed with the account's secret.
func SignCTM(secret, timestamp string, body []byte) string {
	msg := make([]byte, 0, len(timestamp)+len(body))
	msg = append(append(msg, timestamp...), body...)
	return base64.StdEncoding.EncodeToString(hmacSHA1([]byte(secret), msg))
}

func hmacSHA1(key, msg []byte) []byte {
	m := hmac.New(sha1.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// VerifyCallRail checks the `Signature` header against every secret (several
// during a rotation), in constant time.
func VerifyCallRail(secrets []string, body []byte, signature string) error {
	if len(secrets) == 0 {
		return ErrNoSecret
	}
	given, err := decodeSignature(signature)
	if err != nil {
		return err
	}
	ok := 0
	for _, s := range secrets {
		ok |= subtle.ConstantTimeCompare(hmacSHA1([]byte(s), body), given)
	}
	if ok != 1 {
		return ErrBadSignature
	}
	return nil
}

// VerifyCTM checks X-CTM-Time (epoch seconds, at most CTMTolerance from now)
// and X-CTM-Signature against every secret, in constant time.
func VerifyCTM(secrets []string, body []byte, timestamp, signature string, now time.Time) error {
	if len(secrets) == 0 {
		return ErrNoSecret
	}
	timestamp = strings.TrimSpace(timestamp)
	if timestamp == "" {
		return errors.New("the X-CTM-Time header is missing")
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("X-CTM-Time must be a Unix time in seconds")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > CTMTolerance || d < -CTMTolerance {
		return ErrStale
	}
	given, err := decodeSignature(signature)
	if err != nil {
		return err
	}
	msg := make([]byte, 0, len(timestamp)+len(body))
	msg = append(append(msg, timestamp...), body...)
	ok := 0
	for _, s := range secrets {
		ok |= subtle.ConstantTimeCompare(hmacSHA1([]byte(s), msg), given)
	}
	if ok != 1 {
		return ErrBadSignature
	}
	return nil
}

// VerifyInvoca checks the secret token Invoca sends (in the webhook URL's
// path or a header) against every configured token, in constant time: both
// sides are hashed first so that not even the length leaks.
func VerifyInvoca(tokens []string, given string) error {
	if len(tokens) == 0 {
		return ErrNoSecret
	}
	given = strings.TrimSpace(given)
	if given == "" {
		return errors.New("the token is missing: put it in the webhook URL (/v1/calls/invoca/TOKEN) or the X-Invoca-Token header")
	}
	g := sha256.Sum256([]byte(given))
	ok := 0
	for _, t := range tokens {
		h := sha256.Sum256([]byte(t))
		ok |= subtle.ConstantTimeCompare(h[:], g[:])
	}
	if ok != 1 {
		return errors.New("the token matches no configured Invoca token")
	}
	return nil
}

// decodeSignature reads a base64 HMAC-SHA1 header value. Ruby's
// Base64.encode64 ends with a newline; surrounding white space is ignored.
func decodeSignature(sig string) ([]byte, error) {
	sig = strings.TrimSpace(sig)
	if sig == "" {
		return nil, ErrMissingSignature
	}
	b, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(b) != sha1.Size {
		return nil, ErrBadSignature
	}
	return b, nil
}

// Secrets splits a comma-separated list of secrets (flag or environment
// value), dropping empty entries.
func Secrets(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
