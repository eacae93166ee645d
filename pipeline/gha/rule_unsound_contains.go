package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// UnsoundContains reports contains() on a string where a list was meant.
var UnsoundContains = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-unsound-contains",
	Title:    "contains() on a string literal used as an allow-list",
	Severity: finding.Medium,
	Doc: "`contains('refs/heads/main refs/heads/release', github.ref)` is a substring test, not a list " +
		"membership test: a branch named `mai`, `refs/heads/m` or `ease` passes it, so a condition meant to " +
		"restrict a job to some branches, events or actors lets others through. Reported when the first " +
		"argument is a string literal and the second a github or env context value that can hold free text " +
		"(branch and tag names, actor names, labels); contexts with a fixed set of values (event_name, " +
		"author_association, event.action, ref_type) are not reported, since no value of theirs is a " +
		"misleading substring.",
	Remediation: "Use a real list: `contains(fromJSON('[\"refs/heads/main\", \"refs/heads/release\"]'), github.ref)`, " +
		"or compare with `==`.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	for _, j := range w.Jobs {
		for _, e := range j.Exprs {
			if !strings.Contains(strings.ToLower(e.Inner), "contains(") {
				continue
			}
			for _, m := range unsoundContains.FindAllStringSubmatch(e.Inner, 5) {
				if enumContext(m[2]) {
					continue
				}
				report(p, j, e.Pos, finding.Medium, "`"+m[0]+"` tests for a substring of a string literal, not membership in a list; "+
					"values such as a prefix of one entry pass it.", "contains '"+m[1]+"' "+m[2])
			}
		}
	}
})

// unsoundContains matches contains('literal', context.path).
var unsoundContains = regexp.MustCompile(`(?i)\bcontains\(\s*'([^']*)'\s*,\s*((?:github|env)\.[A-Za-z0-9_.\-*]+)\s*\)`)

// enumContext reports whether a context only takes a fixed set of values.
func enumContext(ctx string) bool {
	c := strings.ToLower(ctx)
	return strings.HasSuffix(c, "author_association") || c == "github.event_name" || c == "github.event.action" ||
		c == "github.ref_type" || c == "github.event.pull_request.state" || c == "runner.os" || c == "runner.arch"
}
