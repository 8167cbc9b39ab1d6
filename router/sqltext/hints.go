package sqltext

import "strings"

// isHintComment reports whether a comment token may carry hints: a block
// comment (/* */ or /*+ */), not a MySQL executable comment's marker.
// Line comments are not read: hints are written as block comments by
// every tool that adds them (ORMs, sqlcommenter, pg_hint_plan, Vitess).
func isHintComment(d Dialect, text string) bool {
	if len(text) < 4 || text[0] != '/' || text[1] != '*' {
		return false
	}
	return d != MySQL || !isExecMarker(text)
}

// isExecMarker reports whether a MySQL comment token is a marker of an
// executable comment: "/*!..." or "/*M!..." opening one, "*/" closing it.
func isExecMarker(text string) bool {
	return text == "*/" || strings.HasPrefix(text, "/*!") || strings.HasPrefix(text, "/*M!")
}

// parseHints reads key=value pairs from a block comment into h: keys
// shard, key and role, in any case; pairs separated by spaces or commas;
// spaces around '=' allowed; a value may be quoted ('a b' or "a b").
// Unknown keys and words without '=' are ignored, and the first value
// given for a key wins.
func parseHints(comment string, h *Hints) {
	body := comment[2:]
	body = strings.TrimSuffix(body, "*/")
	if strings.IndexByte(body, '=') < 0 {
		return
	}
	body = strings.TrimPrefix(body, "+")
	for i := 0; i < len(body); {
		for i < len(body) && isHintSep(body[i]) {
			i++
		}
		k := i
		for i < len(body) && !isHintSep(body[i]) && body[i] != '=' {
			i++
		}
		key := body[k:i]
		j := i
		for j < len(body) && isSpace(body[j]) {
			j++
		}
		if j >= len(body) || body[j] != '=' {
			continue
		}
		if key == "" { // a stray '='
			i = j + 1
			continue
		}
		for j++; j < len(body) && isSpace(body[j]); j++ {
		}
		var val string
		if j < len(body) && (body[j] == '\'' || body[j] == '"') {
			e := indexByte(body, j+1, body[j])
			if e < 0 {
				e = len(body)
			}
			val, i = body[j+1:e], e+1
		} else {
			v := j
			for j < len(body) && !isHintSep(body[j]) {
				j++
			}
			val, i = body[v:j], j
		}
		setHint(h, key, val)
	}
}

func isHintSep(c byte) bool { return isSpace(c) || c == ',' }

func setHint(h *Hints, key, val string) {
	var dst *string
	switch {
	case EqualFold(key, "shard"):
		dst = &h.Shard
	case EqualFold(key, "key"):
		dst = &h.Key
	case EqualFold(key, "role"):
		dst = &h.Role
	default:
		return
	}
	if *dst == "" {
		*dst = val
	}
}
