package gitlab

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// PartialPipeline reports includes mlgate could not read, so the pipeline
// was analysed partially.
var PartialPipeline = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-partial-pipeline",
	Title:    "Part of the GitLab pipeline could not be read offline",
	Severity: finding.Info,
	Doc: "The pipeline includes configuration that mlgate cannot read without network access or a directory " +
		"listing: `include: remote`, `project`, `template` or `component`, local includes whose path uses " +
		"variables or wildcards, or a local child pipeline that could not be parsed. Jobs, `extends` targets and " +
		"`!reference` targets defined there are unknown, so properties that depend on them (runner tags, rules, " +
		"images, secrets) may be missing or unknown in the other findings. This is information, not a " +
		"weakness; pin what you include (see pipeline/gitlab-include-unpinned).",
	Remediation: "Nothing to fix in the pipeline; to audit the included files, vendor them into the repository " +
		"or run mlgate on the projects that define them.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	for _, in := range d.Includes {
		if in.Resolved || in.Skipped || in.Reason == "" {
			continue
		}
		p.ReportAt(in.pos(), "include "+in.Kind+" "+in.Target, "include:"+in.Kind+" '"+in.Target+"' was not analysed: "+in.Reason+".",
			"unresolved="+in.Kind+":"+in.Target)
	}
	for _, n := range d.Notes {
		if n.Pos.Line == 0 {
			continue
		}
		p.ReportAt(n.Pos, "configuration", n.Msg+".", "note="+n.Msg)
	}
})
