package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader for the two documents the gateway parses on every
// request (the envelope and an event), in one pass and without reflection:
// encoding/json was the largest cost of a request. It accepts exactly
// RFC 8259 JSON; strings come out as fresh Go strings (never aliasing the
// request buffer), with invalid UTF-8 replaced by U+FFFD as encoding/json
// does; unknown fields are skipped; a field given twice keeps the last
// value; null leaves a field empty.

// maxDepth bounds nesting inside skipped values (props, unknown fields).
const maxDepth = 64

type scanner struct {
	b []byte
	i int
}

var errEnd = errors.New("unexpected end of JSON input")

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return errEnd
		}
		return s.errorf("expected %q, found %q", c, s.b[s.i])
	}
	s.i++
	return nil
}

// kindAt names the JSON type of the value starting at the next byte, for
// error messages.
func (s *scanner) kindAt() string {
	switch s.peek() {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// object calls field for each key of an object; field must consume the
// value.
func (s *scanner) object(field func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	var keyBuf [32]byte
	for {
		if s.peek() != '"' {
			if s.i >= len(s.b) {
				return errEnd
			}
			return s.errorf("expected a field name")
		}
		key, err := s.rawString(keyBuf[:0])
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		case 0:
			return errEnd
		default:
			return s.errorf("expected ',' or '}' after a field")
		}
	}
}

// str reads a string value into *dst (null leaves it as is).
func (s *scanner) str(name string, dst *string) error {
	switch s.peek() {
	case '"':
		b, err := s.rawString(nil)
		if err != nil {
			return err
		}
		*dst = string(b)
		return nil
	case 'n':
		return s.literal("null")
	}
	return typeError(name, "a string", s.kindAt())
}

// int reads a whole number into *dst (null leaves it as is).
func (s *scanner) int(name string, dst *int64) error {
	c := s.peek()
	if c == 'n' {
		return s.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return typeError(name, "a number", s.kindAt())
	}
	start := s.i
	integral, err := s.number()
	if err != nil {
		return err
	}
	if !integral {
		return &fieldError{fmt.Sprintf("field %q must be a whole number (epoch milliseconds), not %s", name, clip(string(s.b[start:s.i]), 32))}
	}
	v, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	if err != nil {
		return &fieldError{fmt.Sprintf("field %q: %s is out of range", name, clip(string(s.b[start:s.i]), 32))}
	}
	*dst = v
	return nil
}

// fieldError is a value of the wrong kind: well-formed JSON, wrong shape.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

func typeError(name, want, got string) error {
	return &fieldError{fmt.Sprintf("field %q must be %s, not a JSON %s", name, want, got)}
}

// rawString reads a string at s.i (the opening quote) and returns its
// content, unescaped and valid UTF-8, appended to buf; the result may
// alias the input when it needs no change and buf is nil.
func (s *scanner) rawString(buf []byte) ([]byte, error) {
	s.i++ // the quote
	start := s.i
	// Fast path: no escapes, printable ASCII or valid UTF-8.
	simple := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			out := s.b[start:s.i]
			s.i++
			if simple || utf8.Valid(out) {
				if buf != nil {
					return append(buf, out...), nil
				}
				return out, nil
			}
			return appendValidUTF8(buf, out), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, s.errorf("control character in a string")
		}
		if c >= 0x80 {
			simple = false
		}
		s.i++
	}
	if s.i >= len(s.b) {
		return nil, errEnd
	}
	// Slow path: escapes.
	out := append(buf, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return appendValidUTF8(nil, out), nil
			}
			return out, nil
		case c < 0x20:
			return nil, s.errorf("control character in a string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, errEnd
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					if lo, ok := s.hex4(); ok {
						if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
							r2 = dec
						} else {
							s.i = save
						}
					} else {
						return nil, s.errorf("bad \\u escape")
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, s.errorf("bad escape \\%c", e)
		}
	}
	return nil, errEnd
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

func appendValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// number reads a JSON number; integral is false when it has a fraction or
// an exponent.
func (s *scanner) number() (integral bool, err error) {
	integral = true
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i >= len(s.b):
		return false, errEnd
	case s.b[s.i] == '0':
		s.i++
	case s.b[s.i] >= '1' && s.b[s.i] <= '9':
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
	default:
		return false, s.errorf("bad number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		integral = false
		s.i++
		if !s.digits() {
			return false, s.errorf("bad number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		integral = false
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false, s.errorf("bad number")
		}
	}
	return integral, nil
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.errorf("invalid character")
	}
	s.i += len(word)
	return nil
}

// skip reads over any value, checking its syntax, and returns its bytes.
func (s *scanner) skip(depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, s.errorf("nested more than %d deep", maxDepth)
	}
	c := s.peek()
	start := s.i
	var err error
	switch {
	case c == 0:
		return nil, errEnd
	case c == '"':
		_, err = s.rawString(nil)
	case c == '{':
		err = s.object(func([]byte) error { _, err := s.skip(depth + 1); return err })
	case c == '[':
		err = s.array(func() error { _, err := s.skip(depth + 1); return err })
	case c == 't':
		err = s.literal("true")
	case c == 'f':
		err = s.literal("false")
	case c == 'n':
		err = s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err = s.number()
	default:
		err = s.errorf("invalid character %q", c)
	}
	if err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// array calls elem for each element; elem must consume it.
func (s *scanner) array(elem func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		case 0:
			return errEnd
		default:
			return s.errorf("expected ',' or ']' after an element")
		}
	}
}

// end checks that only white space follows.
// finish ends a decode: err is what reading the value returned. A field's
// own error (wrong type, too long) is reported as it is; any other is the
// JSON itself being broken, said as "<what> is not valid JSON: …".
func (s *scanner) finish(what string, err error) error {
	if err == nil && s.peek() != 0 {
		err = s.errorf("data after the JSON value")
	}
	var fe *fieldError
	if err == nil || errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s is not valid JSON: %v", what, err)
}
