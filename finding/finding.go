// Package finding is the one vocabulary every mlgate analyzer speaks: a
// Finding is what a rule reports, a Rule is the registered description of
// what can be reported, and a Severity orders both.
//
// Analyzers never print and never exit: they return []Finding, which the
// config package filters and the report package renders.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Severity grades a finding. The zero value is Info; higher is worse.
type Severity int

// The five severities, from least to most severe.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// Severities lists every severity from most to least severe, the order reports use.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// String returns the lower-case name of s ("critical", "high", ...).
func (s Severity) String() string {
	if s < Info || s > Critical {
		return "severity(" + strconv.Itoa(int(s)) + ")"
	}
	return severityNames[s]
}

// Valid reports whether s is one of the five defined severities.
func (s Severity) Valid() bool { return s >= Info && s <= Critical }

// ParseSeverity parses a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for i, s := range severityNames {
		if s == n {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want one of critical, high, medium, low, info)", name)
}

// MarshalText encodes s by name, so JSON and YAML carry "high", not 3.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Location says where a finding is. File, Line and Column point into a
// source file when there is one (Line and Column are 1-based; 0 means
// unknown). Logical names the place inside the analyzed model, such as
// "stage model_training" or "model.pt!archive/data.pkl@offset 1234"; it is
// part of the fingerprint, line numbers are not.
type Location struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Logical string `json:"logical,omitempty"`
}

// String renders the location as file:line:col (logical).
func (l Location) String() string {
	var b strings.Builder
	b.WriteString(l.File)
	if l.Line > 0 {
		b.WriteString(":" + strconv.Itoa(l.Line))
		if l.Column > 0 {
			b.WriteString(":" + strconv.Itoa(l.Column))
		}
	}
	if l.Logical != "" {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString("(" + l.Logical + ")")
	}
	return b.String()
}

// Finding is one reported problem.
type Finding struct {
	RuleID      string   `json:"rule_id"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Message     string   `json:"message"`
	Location    Location `json:"location"`
	Evidence    string   `json:"evidence,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	Fingerprint string   `json:"fingerprint"`
}

// ComputeFingerprint derives the stable fingerprint of f from its rule ID,
// file, logical location and evidence. Line and column are deliberately left
// out, so unrelated edits that move lines do not change it.
func (f Finding) ComputeFingerprint() string {
	parts := [4]string{f.RuleID, f.Location.File, f.Location.Logical, f.Evidence}
	n := 0
	for _, part := range parts {
		n += len(part) + 22
	}
	// Length-prefix each part ("<len>:<part>\x00") so ("ab","c") and
	// ("a","bc") differ.
	buf := make([]byte, 0, n)
	for _, part := range parts {
		buf = strconv.AppendInt(buf, int64(len(part)), 10)
		buf = append(buf, ':')
		buf = append(buf, part...)
		buf = append(buf, 0)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16])
}

// AssignFingerprints gives every finding a fingerprint that is stable
// across runs: its rule ID, its file as key(file) returns it (e.g. relative
// to the repository root, so it does not depend on how the path was typed),
// its logical location and its evidence. Findings that would share a
// fingerprint are numbered in source order and the number is mixed into all
// but the first, so fingerprints are unique within a run and survive
// unrelated line moves. fs is sorted as Sort does.
func AssignFingerprints(fs []Finding, key func(file string) string) {
	Sort(fs)
	seen := make(map[string]int, len(fs))
	for i := range fs {
		f := fs[i]
		f.Location.File = key(f.Location.File)
		base := f.ComputeFingerprint()
		n := seen[base]
		seen[base] = n + 1
		if n == 0 {
			fs[i].Fingerprint = base
			continue
		}
		f.Evidence += fmt.Sprintf("\x00occurrence %d", n+1)
		fs[i].Fingerprint = f.ComputeFingerprint()
	}
}

// Sort orders findings by file, line, column, then severity (worst first),
// then rule ID and fingerprint, so output is deterministic.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Location.File != b.Location.File {
			return a.Location.File < b.Location.File
		}
		if a.Location.Line != b.Location.Line {
			return a.Location.Line < b.Location.Line
		}
		if a.Location.Column != b.Location.Column {
			return a.Location.Column < b.Location.Column
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		if a.Location.Logical != b.Location.Logical {
			return a.Location.Logical < b.Location.Logical
		}
		return a.Fingerprint < b.Fingerprint
	})
}

// Counts tallies findings per severity.
func Counts(fs []Finding) map[Severity]int {
	c := make(map[Severity]int, len(severityNames))
	for _, s := range Severities {
		c[s] = 0
	}
	for _, f := range fs {
		c[f.Severity]++
	}
	return c
}
