package pipeline

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// SourceError is a problem at a position in a pipeline definition.
type SourceError struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *SourceError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// SourceErrors is every problem found in one file, in source order. Adapters
// return it from Parse so callers can point at the first problem.
type SourceErrors []*SourceError

func (l SourceErrors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// MaxSourceSize is the largest pipeline definition an adapter is given.
const MaxSourceSize = 32 << 20

// SniffSize is how many leading bytes of a file Adapter.Sniff sees.
const SniffSize = 16 << 10

// Source is one file handed to an adapter.
type Source struct {
	// File is the path as given by the user or found by the walk; it is
	// used in positions and findings.
	File string
	// Rel is File relative to the walk root (or the repository root),
	// slash-separated; adapters use it to recognise paths such as
	// .github/workflows/x.yml.
	Rel string
	// Src is the whole file (at most MaxSourceSize bytes).
	Src []byte
	// ReadFile reads another file of the same checkout by a slash-separated
	// path relative to the repository root (GitLab `include: local`). It
	// refuses paths that leave the root, symlinks out of it and non-regular
	// files. Nil when the caller gives no access to other files.
	ReadFile func(rel string) ([]byte, error)
	// RuleOptions returns the configured options of a rule (as
	// Options.RuleOptions does), for adapters whose inference a rule's
	// options steer, such as GitLab's runner-tag patterns. Nil: none.
	RuleOptions func(id string) map[string]any
}

// Adapter parses one pipeline format into stage graphs.
type Adapter struct {
	// Format is the name graphs from this adapter carry, e.g. "github-actions".
	Format string
	// Title is a human name for messages and docs, e.g. "GitHub Actions workflow".
	Title string
	// MatchPath reports whether a file is this format by its path alone
	// (rel is slash-separated, relative to the walk root). Files matched by
	// path are always parsed; a parse failure is a finding.
	MatchPath func(rel string) bool
	// Sniff reports whether the first SniffSize bytes of a .yaml/.yml/.json
	// file not matched by any path are this format. Sniffed files that then
	// fail to parse are findings too, so Sniff must be specific.
	Sniff func(head []byte) bool
	// Parse parses a file into one or more graphs (a multi-document file may
	// hold several pipelines). Graphs need not be built: callers run Build
	// through Analyze. On a syntax or structure problem Parse returns
	// SourceErrors.
	Parse func(src *Source) ([]*Graph, error)
}

var adapters []*Adapter

// RegisterAdapter adds an adapter; it is called from the adapter packages'
// init functions. Registering the same format twice panics.
func RegisterAdapter(a *Adapter) {
	for _, x := range adapters {
		if x.Format == a.Format {
			panic("pipeline: adapter " + a.Format + " registered twice")
		}
	}
	adapters = append(adapters, a)
	sort.Slice(adapters, func(i, j int) bool { return adapters[i].Format < adapters[j].Format })
}

// Adapters returns the registered adapters sorted by format name.
func Adapters() []*Adapter { return append([]*Adapter(nil), adapters...) }

// AdapterFor returns the adapter for a format name, or nil.
func AdapterFor(format string) *Adapter {
	for _, a := range adapters {
		if a.Format == format {
			return a
		}
	}
	return nil
}

// MatchPath returns the adapter that claims rel by its path, or nil.
func MatchPath(rel string) *Adapter {
	rel = path.Clean(strings.ReplaceAll(rel, "\\", "/"))
	for _, a := range adapters {
		if a.MatchPath != nil && a.MatchPath(rel) {
			return a
		}
	}
	return nil
}

// MaySniff reports whether a file name is one whose content is worth
// sniffing: YAML or JSON.
func MaySniff(rel string) bool {
	switch strings.ToLower(path.Ext(rel)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Sniff returns the adapter that recognises head (the first SniffSize bytes
// of a file), or nil.
func Sniff(head []byte) *Adapter {
	for _, a := range adapters {
		if a.Sniff != nil && a.Sniff(head) {
			return a
		}
	}
	return nil
}
