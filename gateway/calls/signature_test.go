package calls

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"time"
)

// CallRail's published test vector (domain-facts §4.2): the sample post-call
// body, byte for byte, signed with this company token.
const (
	callRailVectorKey       = "072e77e426f92738a72fe23c4d1953b4"
	callRailVectorSignature = "UZAHbUdfm3GqL7qzilGozGzWV64="
)

func callRailVector(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/callrail-post-call-vector.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCallRailPublishedVector(t *testing.T) {
	body := callRailVector(t)
	if got := SignCallRail(callRailVectorKey, body); got != callRailVectorSignature {
		t.Fatalf("SignCallRail = %s, want CallRail's %s", got, callRailVectorSignature)
	}
	if err := VerifyCallRail([]string{callRailVectorKey}, body, callRailVectorSignature); err != nil {
		t.Fatalf("the published vector does not verify: %v", err)
	}
}

func TestVerifyCallRail(t *testing.T) {
	body := []byte(`{"resource_id":"CAL8154748ae6bd4e278a7cddd38a662f4f","start_time":"2024-03-01T13:05:00.000+01:00"}`)
	sig := SignCallRail("token-a", body)
	tampered := append([]byte{}, body...)
	tampered[len(tampered)-3] = '1'
	cases := []struct {
		name    string
		secrets []string
		body    []byte
		sig     string
		want    error // nil: valid
	}{
		{"valid", []string{"token-a"}, body, sig, nil},
		{"rotation: the second secret matches", []string{"token-new", "token-a"}, body, sig, nil},
		{"tampered body", []string{"token-a"}, tampered, sig, ErrBadSignature},
		{"wrong secret", []string{"token-b"}, body, sig, ErrBadSignature},
		{"missing signature", []string{"token-a"}, body, "", ErrMissingSignature},
		{"not base64", []string{"token-a"}, body, "not a signature!", ErrBadSignature},
		{"hex instead of base64", []string{"token-a"}, body, "51900d6d475f9b71aa2fb2ab8a51a8cc6cd6567ae", ErrBadSignature},
		{"no secret configured", nil, body, sig, ErrNoSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyCallRail(c.secrets, c.body, c.sig)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyCTM(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"id":1234567,"unix_time":1709294700}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := SignCTM("secret-a", ts, body)
	stamp := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	cases := []struct {
		name    string
		secrets []string
		body    []byte
		ts, sig string
		want    error
	}{
		{"valid", []string{"secret-a"}, body, ts, sig, nil},
		{"valid with Ruby's trailing newline", []string{"secret-a"}, body, ts, sig + "\n", nil},
		{"4 minutes old", []string{"secret-a"}, body, stamp(-4 * time.Minute), SignCTM("secret-a", stamp(-4*time.Minute), body), nil},
		{"rotation: the second secret matches", []string{"secret-new", "secret-a"}, body, ts, sig, nil},
		{"tampered body", []string{"secret-a"}, []byte(`{"id":1234568,"unix_time":1709294700}`), ts, sig, ErrBadSignature},
		{"time changed, signature kept", []string{"secret-a"}, body, stamp(time.Second), sig, ErrBadSignature},
		{"wrong secret", []string{"secret-b"}, body, ts, sig, ErrBadSignature},
		{"stale: 6 minutes old", []string{"secret-a"}, body, stamp(-6 * time.Minute), SignCTM("secret-a", stamp(-6*time.Minute), body), ErrStale},
		{"from the future: 6 minutes ahead", []string{"secret-a"}, body, stamp(6 * time.Minute), SignCTM("secret-a", stamp(6*time.Minute), body), ErrStale},
		{"missing signature", []string{"secret-a"}, body, ts, "", ErrMissingSignature},
		{"no secret configured", nil, body, ts, sig, ErrNoSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyCTM(c.secrets, c.body, c.ts, c.sig, now)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	for _, ts := range []string{"", "yesterday"} {
		if err := VerifyCTM([]string{"secret-a"}, body, ts, sig, now); err == nil {
			t.Errorf("X-CTM-Time %q accepted", ts)
		}
	}
}

func TestVerifyInvoca(t *testing.T) {
	if err := VerifyInvoca([]string{"tok-1"}, "tok-1"); err != nil {
		t.Errorf("valid: %v", err)
	}
	if err := VerifyInvoca([]string{"tok-2", "tok-1"}, "tok-1"); err != nil {
		t.Errorf("rotation: %v", err)
	}
	for _, given := range []string{"tok-3", "tok-1x", "tok", ""} {
		if err := VerifyInvoca([]string{"tok-1"}, given); err == nil {
			t.Errorf("token %q accepted", given)
		}
	}
	if err := VerifyInvoca(nil, "tok-1"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("no token configured: %v", err)
	}
}

func TestSecrets(t *testing.T) {
	got := Secrets(" a, b ,,c ")
	if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("Secrets = %q", got)
	}
	if Secrets("") != nil {
		t.Fatal("empty list gives secrets")
	}
}
