package ingest

import (
	"encoding/json"
	"strings"
	"testing"
)

// The hand-written decoder reads strings exactly as encoding/json does.
func TestDecoderStringsMatchEncodingJSON(t *testing.T) {
	for _, lit := range []string{
		`"plain"`, `"tab\there"`, `"q\"b\\s\/"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00 smile"`,
		`"lone \ud83d high"`, `"lone \ude00 low"`, `"\ud83d\u0041"`, "\"raw \xff bytes\"", `"é中😀"`,
		`"\b\f\n\r"`, `""`,
	} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		ev, err := decodeEvent(json.RawMessage(`{"title":` + lit + `}`))
		if err != nil || ev.Title != want {
			t.Errorf("%s: got %q (%v), want %q", lit, ev.Title, err, want)
		}
	}
}

func TestDecoderRejectsWhatEncodingJSONRejects(t *testing.T) {
	for _, in := range []string{
		`{"title":"a`, `{"title":"\x01"}`, `{"title":"\q"}`, `{"title":"\u12"}`, `{"ts":01}`, `{"ts":1.}`,
		`{"ts":-}`, `{"a":tru}`, `{"a":[1,]}`, `{"a":{"b":1,}}`, `{"a" 1}`, `{"a":1}x`, `{,}`, `{"a":1e}`,
	} {
		if json.Valid([]byte(in)) {
			t.Fatalf("%s is valid JSON", in)
		}
		if _, err := decodeEvent(json.RawMessage(in)); err == nil {
			t.Errorf("%s decoded", in)
		}
	}
	deep := `{"props":{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`
	if _, err := decodeEvent(json.RawMessage(deep)); err == nil {
		t.Error("100-deep nesting decoded")
	}
}

func TestDecoderFields(t *testing.T) {
	ev, err := decodeEvent(json.RawMessage(` {"id":"x","type":"custom","ts":1764770000000,"url":null,"unknown":{"n":[1,2,{"x":null}]},
		"props": {"a": [1, 2.5e3, true]} , "name":"n","name":"last"} `))
	if err != nil || ev.ID != "x" || ev.TS != 1764770000000 || ev.Name != "last" || string(ev.Props) != `{"a": [1, 2.5e3, true]}` {
		t.Fatalf("%+v %v", ev, err)
	}
	for in, want := range map[string]string{
		`{"ts":"1"}`:                  `field "ts" must be a number, not a JSON string`,
		`{"ts":1.5}`:                  `field "ts" must be a whole number`,
		`{"url":1}`:                   `field "url" must be a string, not a JSON number`,
		`{"ts":1e99}`:                 `must be a whole number`,
		`[1]`:                         `not a JSON object but a JSON array`,
		`{"ts":99999999999999999999}`: `out of range`,
	} {
		if _, err := decodeEvent(json.RawMessage(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	for in, want := range map[string]string{
		`{"site":1,"events":[{}]}`: `field "site" must be a string`,
		`{"events":{}}`:            `field "events" must be an array`,
		`[{}]`:                     `must be a JSON object`,
		`{"events":[}`:             `not valid JSON`,
		`{"events":[]}`:            `non-empty array`,
		`{"events":null}`:          `non-empty array`,
	} {
		if _, err := DecodeBody([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}

func TestReadQueryFirstNonEmptyValueWinsAnyCase(t *testing.T) {
	l, ok := ParseLanding("https://a.example/p?UTM_Source=&utm_source=First&utm_source=second&utm_medium=e+mail&gclid=a%2Fb&bad=%zz;x&utm%5Fterm=t")
	if !ok || l.UTMSource != "First" || l.UTMMedium != "e mail" || l.GCLID != "a/b" || l.UTMTerm != "t" {
		t.Fatalf("%+v", l)
	}
}
