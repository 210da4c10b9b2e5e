package calls

import (
	"errors"
	"fmt"
	"time"
)

// Config is how the gateway takes provider webhooks.
type Config struct {
	// Secrets per provider; several at once during a rotation. A provider
	// with none refuses every delivery.
	CallRailSecrets []string // company webhook tokens (header Signature)
	CTMSecrets      []string // account secrets (X-CTM-Time, X-CTM-Signature)
	InvocaTokens    []string // shared tokens (URL path or X-Invoca-Token)
	// UIDFields are names to look for the visitor id under, besides
	// DefaultUIDFields.
	UIDFields []string
	// TaskType is Task.Type for provider calls; DefaultTaskType when empty.
	TaskType string
	// Now is the clock (tests set it); time.Now when nil.
	Now func() time.Time
}

// Providers are the webhook endpoints, POST /v1/calls/{provider}.
var Providers = []string{SourceCTM, SourceCallRail, SourceInvoca}

// Delivery is one webhook request.
type Delivery struct {
	Provider  string
	Body      []byte              // raw, as signed
	Header    func(string) string // request header by name
	PathToken string              // Invoca: the token in /v1/calls/invoca/{token}
}

// ErrUnknownProvider answers a provider name CallTrail does not know.
var ErrUnknownProvider = errors.New("unknown provider: use ctm, callrail or invoca")

// AuthError is a refused delivery (401): the signature or token is missing or
// wrong, or the provider has no secret configured.
type AuthError struct {
	Provider string
	Err      error
}

func (e *AuthError) Error() string { return e.Provider + ": " + e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

type parseOptions struct {
	uid      uidFinder
	taskType string
	now      time.Time
}

// Receive verifies a delivery's signature on the raw body and turns the
// provider's JSON into a Task. Errors: *AuthError (401), *BadRecord (400),
// ErrNotACall (acknowledge, store nothing), ErrUnknownProvider (404).
func (c *Config) Receive(d Delivery) (*Task, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	header := d.Header
	if header == nil {
		header = func(string) string { return "" }
	}
	var verr error
	var parse func([]byte, parseOptions) (*Task, error)
	switch d.Provider {
	case SourceCallRail:
		verr = VerifyCallRail(c.CallRailSecrets, d.Body, header("Signature"))
		parse = parseCallRail
	case SourceCTM:
		verr = VerifyCTM(c.CTMSecrets, d.Body, header("X-CTM-Time"), header("X-CTM-Signature"), now)
		parse = parseCTM
	case SourceInvoca:
		token := d.PathToken
		if token == "" {
			token = header("X-Invoca-Token")
		}
		verr = VerifyInvoca(c.InvocaTokens, token)
		parse = parseInvoca
	default:
		return nil, ErrUnknownProvider
	}
	if verr != nil {
		return nil, &AuthError{Provider: d.Provider, Err: verr}
	}
	t, err := parse(d.Body, parseOptions{uid: newUIDFinder(c.UIDFields), taskType: c.TaskType, now: now.UTC()})
	if err != nil {
		var bad *BadRecord
		if errors.As(err, &bad) || errors.Is(err, ErrNotACall) {
			return nil, err
		}
		return nil, &BadRecord{Reason: fmt.Sprintf("%s payload: %v", d.Provider, err)}
	}
	return t, nil
}

// Configured reports whether a provider has a secret; the gateway logs the
// ones that do not at start.
func (c *Config) Configured(provider string) bool {
	switch provider {
	case SourceCallRail:
		return len(c.CallRailSecrets) > 0
	case SourceCTM:
		return len(c.CTMSecrets) > 0
	case SourceInvoca:
		return len(c.InvocaTokens) > 0
	}
	return false
}
