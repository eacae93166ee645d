package finding

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Rule describes one kind of finding. Rules are values registered once, at
// package initialisation, by the analyzer that implements them; the registry
// is what `mlgate rules`, the SARIF rule metadata and the configuration
// checks read.
type Rule struct {
	// ID is stable kebab-case with a domain prefix, e.g.
	// "pipeline/untrusted-code-no-isolation".
	ID string
	// Title is a short human name.
	Title string
	// Severity is the default severity of the rule's findings.
	Severity Severity
	// Doc is a paragraph explaining what the rule detects and why it matters.
	Doc string
	// Remediation says how to fix what the rule reports.
	Remediation string
	// DefaultDisabled rules run only when enabled in .mlgate.yaml.
	DefaultDisabled bool
	// Options documents the per-rule options the rule reads from
	// .mlgate.yaml (name -> description). Unknown option names are errors.
	Options map[string]string
}

// New makes a finding of this rule with the rule's default severity, title
// and remediation, and computes its fingerprint.
func (r *Rule) New(loc Location, message, evidence string) Finding {
	f := Finding{
		RuleID:      r.ID,
		Severity:    r.Severity,
		Title:       r.Title,
		Message:     message,
		Location:    loc,
		Evidence:    evidence,
		Remediation: r.Remediation,
	}
	f.Fingerprint = f.ComputeFingerprint()
	return f
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*/[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// ValidID reports whether id has the registry's shape: domain/kebab-case-name.
func ValidID(id string) bool { return idPattern.MatchString(id) }

var (
	regMu sync.RWMutex
	reg   = map[string]*Rule{}
)

// Register adds r to the global registry. It panics on an invalid or
// duplicate ID or a missing doc: those are programming errors caught by any
// test that imports the package.
func Register(r *Rule) *Rule {
	if !ValidID(r.ID) {
		panic(fmt.Sprintf("finding: invalid rule ID %q", r.ID))
	}
	if r.Title == "" || r.Doc == "" || r.Remediation == "" || !r.Severity.Valid() {
		panic(fmt.Sprintf("finding: rule %s needs a title, doc, remediation and valid severity", r.ID))
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := reg[r.ID]; dup {
		panic(fmt.Sprintf("finding: rule %s registered twice", r.ID))
	}
	reg[r.ID] = r
	return r
}

// Lookup returns the registered rule with the given ID.
func Lookup(id string) (*Rule, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	r, ok := reg[id]
	return r, ok
}

// Rules returns every registered rule, sorted by ID.
func Rules() []*Rule {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]*Rule, 0, len(reg))
	for _, r := range reg {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// CommentSuppressible reports whether the rule's findings point into text
// files that can carry a `# mlgate: ignore[...]` comment: pipeline
// definitions and configuration. Model artifacts and `mlgate run` reports
// cannot.
func (r *Rule) CommentSuppressible() bool {
	return strings.HasPrefix(r.ID, "pipeline/") || strings.HasPrefix(r.ID, "config/")
}
