package pgserver

import (
	"errors"
	"fmt"
	"maps"
	"strings"
)

// The startup packet's parameters other than user and database are
// settings of the session (application_name, TimeZone and DateStyle from
// pgjdbc, -c options), as on a server: they are the session's defaults,
// which RESET and DISCARD ALL return to. Under transaction pooling they
// travel like the client's SETs: every server connection the session
// uses gets them first (once per connection while they match). One the
// server would refuse fails the login, as PostgreSQL does.

// startupSetting is the statement that applies a startup parameter.
// set_config takes the value as the parameter's own text form, exactly
// as a startup packet gives it (SET would read 'a, b' as one element of
// a list such as search_path).
func startupSetting(name, value string) string {
	return "SELECT pg_catalog.set_config(" + quoteLiteral(name) + ", " + quoteLiteral(value) + ", false)"
}

// startupSettings reads a startup packet's settings, keyed like SET's
// (lower case). options holds "-c name=value" (or "--name=value") words.
func startupSettings(params map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range params {
		switch k = strings.ToLower(k); {
		case k == "user" || k == "database":
		case k == "replication":
			if v != "" && !strings.EqualFold(v, "false") && !strings.EqualFold(v, "off") && v != "0" && !strings.EqualFold(v, "no") {
				return nil, errors.New("replication connections are not supported through shardgate")
			}
		case strings.HasPrefix(k, "_pq_."): // protocol extensions: none supported, as a server may say
		case k == "options":
			opts, err := parseOptions(v)
			if err != nil {
				return nil, err
			}
			maps.Copy(out, opts)
		default:
			out[k] = v
		}
	}
	return out, nil
}

// parseOptions reads the options startup parameter: words separated by
// spaces (a backslash keeps the next character, a space included), each
// "-c name=value", "-cname=value" or "--name=value".
func parseOptions(s string) (map[string]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	out := map[string]string{}
	for i := 0; i < len(words); i++ {
		var kv string
		switch w := words[i]; {
		case w == "-c" && i+1 < len(words):
			i++
			kv = words[i]
		case strings.HasPrefix(w, "-c") && len(w) > 2:
			kv = w[2:]
		case strings.HasPrefix(w, "--") && len(w) > 2:
			kv = w[2:]
		default:
			return nil, fmt.Errorf("unsupported startup option %q: shardgate takes only -c name=value", w)
		}
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("startup option %q: want name=value", kv)
		}
		out[strings.ToLower(strings.ReplaceAll(name, "-", "_"))] = value
	}
	return out, nil
}

// resetSetting is what RESET name leaves: the startup value, or none.
func (s *session) resetSetting(name string) {
	if q, ok := s.startupSets[name]; ok {
		s.settings[name] = q
		return
	}
	delete(s.settings, name)
}

// resetAllSettings is what RESET ALL and DISCARD ALL leave.
func (s *session) resetAllSettings() {
	clear(s.settings)
	maps.Copy(s.settings, s.startupSets)
}
