package topology

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid marks a topology that failed decoding or validation; the error
// is a *ValidationError listing every problem.
var ErrInvalid = errors.New("invalid topology")

// Problem is one thing wrong with a topology file, located by line and by
// field path (e.g. databases[0].shards[1].keyrange).
type Problem struct {
	File    string
	Line    int
	Path    string
	Message string
}

func (p Problem) String() string {
	path := p.Path
	if path == "" {
		path = "(top)"
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, path, p.Message)
}

// ValidationError is every problem found in one file, in file order.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// plainError is a message that needs no "yaml:" decoration.
type plainError string

func (e plainError) Error() string { return string(e) }

func errorf(format string, args ...any) error { return plainError(fmt.Sprintf(format, args...)) }

// problems collects Problems with lines looked up from the decoded file.
type problems struct {
	file  string
	lines map[string]int // field path -> line of its value
	list  []Problem
}

// at records a problem at path, using the line of the nearest enclosing
// path that the file actually wrote (a missing field has no line of its own).
func (p *problems) at(path, format string, args ...any) {
	p.list = append(p.list, Problem{File: p.file, Line: p.lineOf(path), Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) lineOf(path string) int {
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return p.lines[""]
		}
		path = path[:i]
	}
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sortProblems(p.list)
	return &ValidationError{Problems: p.list}
}

func sortProblems(list []Problem) {
	// Stable: problems on one line keep the order the checks found them in.
	slices.SortStableFunc(list, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
}
