package calls

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// DefaultUIDFields are the names a call's visitor id is looked for under, in
// a provider's custom / cookie fields (case-insensitive). More can be
// configured (`calltrail serve --call-uid-field`).
var DefaultUIDFields = []string{"_biz_uid", "bizible_id", "bizibleid", "bizible2__BizibleId__c"}

// uidFinder looks for a visitor id in a provider's payload.
type uidFinder struct {
	names map[string]bool // lowercased
}

func newUIDFinder(extra []string) uidFinder {
	f := uidFinder{names: map[string]bool{}}
	for _, n := range append(append([]string{}, DefaultUIDFields...), extra...) {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			f.names[n] = true
		}
	}
	return f
}

func (f uidFinder) isName(key string) bool { return f.names[strings.ToLower(strings.TrimSpace(key))] }

// candidate is one place an id was found.
type candidate struct{ value, path string }

// found collects candidates in the order they were found.
type found []candidate

// best is the first valid id, else the first value found (kept so that
// explain can say what was wrong with it), else nothing.
func (fs found) best() (candidate, bool) {
	for _, c := range fs {
		if ValidUID(strings.TrimSpace(c.value)) {
			return c, true
		}
	}
	if len(fs) > 0 {
		return fs[0], true
	}
	return candidate{}, false
}

// inString reads a string that may carry key/value pairs: a JSON object
// (`{"_biz_uid":"…"}`) or a query string (`_biz_uid=…&x=y`).
func (f uidFinder) inString(s, path string, out *found) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	if strings.HasPrefix(s, "{") {
		var v any
		if decodeJSON([]byte(s), &v) == nil {
			f.walk(v, path, 0, out)
		}
		return
	}
	if !strings.Contains(s, "=") {
		return
	}
	q, err := url.ParseQuery(strings.TrimPrefix(s, "?"))
	if err != nil {
		return
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if f.isName(k) && len(q[k]) > 0 {
			*out = append(*out, candidate{q[k][0], path + "." + k})
		}
	}
}

// walk searches a decoded JSON value: an object key with one of the names;
// a {name|partner_name|key, value} pair (Invoca custom data, RingPool params);
// a string that holds a JSON object or a query string. Keys are visited in
// sorted order so the answer never depends on map order.
func (f uidFinder) walk(v any, path string, depth int, out *found) {
	if depth > 8 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if name, ok := pairName(x); ok && f.isName(name) {
			if s, ok := x["value"].(string); ok {
				*out = append(*out, candidate{s, path + "[" + name + "]"})
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := x[k].(string); ok && f.isName(k) {
				*out = append(*out, candidate{s, join(path, k)})
			}
		}
		for _, k := range keys {
			switch y := x[k].(type) {
			case map[string]any, []any:
				f.walk(y, join(path, k), depth+1, out)
			case string:
				if !f.isName(k) && f.mentionsName(y) {
					f.inString(y, join(path, k), out)
				}
			}
		}
	case []any:
		for i, y := range x {
			f.walk(y, path+"["+strconv.Itoa(i)+"]", depth+1, out)
		}
	}
}

// mentionsName is a cheap test before parsing a string.
func (f uidFinder) mentionsName(s string) bool {
	l := strings.ToLower(s)
	for n := range f.names {
		if strings.Contains(l, n) {
			return true
		}
	}
	return false
}

func pairName(m map[string]any) (string, bool) {
	if _, ok := m["value"]; !ok {
		return "", false
	}
	for _, k := range []string{"name", "partner_name", "key", "label"} {
		if s, ok := m[k].(string); ok {
			return s, true
		}
	}
	return "", false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
