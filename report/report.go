// Package report renders mlgate results — text for people, JSON with a
// documented schema, SARIF 2.1.0 for code-scanning platforms — and holds the
// exit-code policy. Writers render what they are given; they never filter or
// decide which findings count.
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/mlgate/mlgate/finding"
)

// SchemaVersion is the version of the JSON report schema
// (docs/json-report.md, docs/schema/report-v1.schema.json).
const SchemaVersion = "1"

// Tool identifies the program that made a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Input is one file the analyzers looked at, and whether it could be analyzed.
type Input struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// Status is "analyzed" or "error".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Details is analyzer-specific inventory, e.g. the pickles in a model
	// artifact and the globals each one uses.
	Details any `json:"details,omitempty"`
}

// Input statuses.
const (
	StatusAnalyzed = "analyzed"
	StatusError    = "error"
)

// Report is the result of one mlgate run, after configuration filters.
type Report struct {
	Tool     Tool
	Inputs   []Input
	Findings []finding.Finding
	// Suppressed counts findings dropped by inline suppressions; Baselined
	// those dropped because the baseline already had them.
	Suppressed int
	Baselined  int
}

// Failed reports whether some input could not be analyzed.
func (r *Report) Failed() bool {
	for _, in := range r.Inputs {
		if in.Status == StatusError {
			return true
		}
	}
	return false
}

// Exit codes.
const (
	ExitOK       = 0 // nothing at or above the threshold
	ExitFindings = 1 // findings at or above the threshold
	ExitError    = 2 // usage error, or an input that could not be analyzed
)

// ExitCode applies the policy: 2 when an input could not be analyzed, else 1
// when a finding is at or above failOn, else 0.
func ExitCode(r *Report, failOn finding.Severity) int {
	if r.Failed() {
		return ExitError
	}
	for _, f := range r.Findings {
		if f.Severity >= failOn {
			return ExitFindings
		}
	}
	return ExitOK
}

// Format is an output format.
type Format string

// The output formats.
const (
	FormatText  Format = "text"
	FormatJSON  Format = "json"
	FormatSARIF Format = "sarif"
)

// ParseFormat parses text|json|sarif.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatText, FormatJSON, FormatSARIF:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want text, json or sarif)", s)
}

// Options tune the writers.
type Options struct {
	// Color enables ANSI colours in text output. The caller decides (TTY,
	// NO_COLOR); writers never look at the terminal themselves.
	Color bool
	// Source returns the lines of a file, for showing the offending line in
	// text output; nil means no source lines.
	Source func(file string) []string
}

// Write renders r in the given format.
func Write(w io.Writer, r *Report, f Format, opts Options) error {
	switch f {
	case FormatText:
		return WriteText(w, r, opts)
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatSARIF:
		return WriteSARIF(w, r)
	}
	return fmt.Errorf("unknown format %q", f)
}
