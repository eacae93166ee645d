package gitlab

import (
	"fmt"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// docOf returns the GitLab document of the pass's graph, or nil for other
// formats: every GitLab rule starts with it.
func docOf(p *pipeline.Pass) *Doc {
	if p.Graph.Format != Format {
		return nil
	}
	d, _ := p.Graph.Doc.(*Doc)
	if d == nil || len(d.Jobs) != len(p.Graph.Stages) {
		return nil
	}
	return d
}

// setSeverity changes a finding's severity when the rule's default does
// not fit this instance.
func setSeverity(f *finding.Finding, s finding.Severity) {
	if f != nil {
		f.Severity = s
	}
}

// posKey identifies a source position across jobs that share it through
// extends or default:.
func posKey(p pipeline.Pos) string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column) }

// quoteNames joins names for messages, at most 10.
func quoteNames(xs []string) string {
	if len(xs) > 10 {
		return "'" + strings.Join(xs[:10], "', '") + fmt.Sprintf("' and %d more", len(xs)-10)
	}
	return "'" + strings.Join(xs, "', '") + "'"
}

// isPrivileged reports whether a job signs, registers, deploys or
// releases: the jobs whose inputs must be trustworthy.
func isPrivileged(j *Job) bool {
	return j.Stage.IsPrivileged() || j.Environment != ""
}

// mrWhy describes a job's merge-request reachability for messages.
func mrWhy(j *Job) string {
	switch j.MR {
	case pipeline.True:
		return "it runs in merge-request pipelines (" + j.MRReason + ")"
	case pipeline.Unknown:
		return "it may run in merge-request pipelines (" + j.MRReason + "; assumed)"
	}
	return "it does not run in merge-request pipelines"
}

// forkNote explains how fork merge requests reach the parent project.
const forkNote = " Merge requests from forks run in the parent project's pipeline, with its runners and " +
	"variables, when a maintainer runs the pipeline for them (a routine click), and merge requests " +
	"from project members always do."

// evidence joins names for a fingerprint, bounded.
func evidence(xs []string) string {
	s := strings.Join(xs, ",")
	if len(s) > 512 {
		s = s[:512]
	}
	return s
}
