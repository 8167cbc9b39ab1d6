package topology

import (
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder walks a YAML node tree into a Config by the structs' yaml tags,
// collecting every problem (unknown or repeated field, wrong kind, bad
// scalar) with its path and line instead of stopping at the first, and
// remembering the line of every path for the validation that follows.
type decoder struct {
	*problems
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.lines[path] = n.Line
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the zero value (and the default)
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		d.scalar(n, path, v)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, path, func(key *yaml.Node, val *yaml.Node) {
			f, ok := fieldByTag(v, key.Value)
			if !ok {
				d.lines[join(path, key.Value)] = key.Line
				d.at(join(path, key.Value), "unknown field %q%s", key.Value, suggest(v.Type(), key.Value))
				return
			}
			d.decode(val, join(path, key.Value), f)
		})
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		d.mapping(n, path, func(key *yaml.Node, val *yaml.Node) {
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, join(path, key.Value), elem)
			v.SetMapIndex(reflect.ValueOf(key.Value), elem)
		})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.at(path, "want a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, path+"["+strconv.Itoa(i)+"]", s.Index(i))
		}
		v.Set(s)
	default:
		d.scalar(n, path, v)
	}
}

// mapping calls each for every key of a mapping node, refusing repeats.
func (d *decoder) mapping(n *yaml.Node, path string, each func(key, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.at(path, "want a mapping, got %s", kindName(n))
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if seen[key.Value] {
			d.lines[join(path, key.Value)] = key.Line
			d.at(join(path, key.Value), "field %q is given twice", key.Value)
			continue
		}
		seen[key.Value] = true
		each(key, val)
	}
}

func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.at(path, "want a single value, got %s", kindName(n))
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		var plain plainError
		switch {
		case errors.As(err, &plain):
			d.at(path, "%s", plain)
			return
		}
		switch v.Kind() {
		case reflect.Int, reflect.Int64:
			d.at(path, "want a whole number, got %q", n.Value)
		case reflect.Bool:
			d.at(path, "want true or false, got %q", n.Value)
		default:
			d.at(path, "%s", cleanYAMLError(err))
		}
	}
}

func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if tagName(t.Field(i)) == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// suggest names the closest known field, for the typo that is the usual
// cause of an unknown field.
func suggest(t reflect.Type, got string) string {
	best, bestDist := "", 3
	for i := range t.NumField() {
		name := tagName(t.Field(i))
		if dist := editDistance(got, name); dist < bestDist {
			best, bestDist = name, dist
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + strconv.Quote(best) + "?)"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

var yamlLinePrefix = regexp.MustCompile(`^yaml: (unmarshal errors:\s*)?(line \d+: )?`)

// cleanYAMLError strips yaml.v3's "yaml: unmarshal errors: line N:" framing;
// our Problem already carries the line.
func cleanYAMLError(err error) string {
	return strings.TrimSpace(yamlLinePrefix.ReplaceAllString(err.Error(), ""))
}
