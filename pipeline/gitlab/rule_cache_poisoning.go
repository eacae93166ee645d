package gitlab

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// CachePoisoning reports caches written by merge-request jobs and read by
// release or deploy jobs.
var CachePoisoning = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-cache-poisoning",
	Title:    "Cache shared between merge-request jobs and release jobs",
	Severity: finding.Medium,
	Doc: "A job that runs in merge-request pipelines writes a cache under the same key that a release, publish, " +
		"sign or deploy job reads. Code from the merge request can fill the cache with poisoned dependencies, " +
		"virtualenvs, model or dataset files that the privileged job then uses. GitLab keeps separate caches " +
		"for protected and unprotected branches by default (the project setting 'Use separate caches for " +
		"protected branches'), which breaks this path when the release job runs on a protected ref; that is why " +
		"the rule is medium, and high when the reading job sets `cache: unprotect: true`. Keys that include the " +
		"ref or pipeline ($CI_COMMIT_REF_SLUG, $CI_COMMIT_SHA, $CI_PIPELINE_ID, $CI_MERGE_REQUEST_IID) are not " +
		"shared across merge requests and are not reported.",
	Remediation: "Give release and deploy jobs their own cache keys (or no cache: build from a lock file with " +
		"hashes), keep 'Use separate caches for protected branches' enabled, and never set cache:unprotect on " +
		"privileged jobs.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	writers := map[string][]*Job{}
	for _, j := range d.Jobs {
		if j.MR == pipeline.False {
			continue
		}
		for _, c := range j.Caches {
			if c.Writes() && sharedKey(c.Key) {
				writers[c.Key] = append(writers[c.Key], j)
			}
		}
	}
	for _, j := range d.Jobs {
		if !isPrivileged(j) {
			continue
		}
		for _, c := range j.Caches {
			if !c.Reads() || !sharedKey(c.Key) {
				continue
			}
			var names []string
			sure := false
			for _, w := range writers[c.Key] {
				if w != j {
					names = append(names, w.Name)
					sure = sure || w.MR == pipeline.True
				}
			}
			if len(names) == 0 {
				continue
			}
			sev := finding.Medium
			if c.Unprotect {
				sev = finding.High
			}
			if !sure {
				sev = finding.Low
			}
			msg := "Privileged job '" + j.Name + "' reads cache '" + c.Key + "', which merge-request job(s) " + quoteNames(names) +
				" write: code from a merge request can poison what this job uses."
			if !c.Unprotect {
				msg += " GitLab's separate caches for protected branches break this path when the project setting is on and the job runs on a protected ref."
			}
			if !sure {
				msg += " (whether the writers run in merge-request pipelines could not be determined; assumed)"
			}
			f := p.Report(j.Stage, c.Pos, msg, "cache="+c.Key)
			setSeverity(f, sev)
		}
	}
})

// sharedKey reports whether a cache key is the same across merge requests.
func sharedKey(key string) bool {
	for _, v := range []string{"CI_COMMIT_REF", "CI_COMMIT_BRANCH", "CI_COMMIT_SHA", "CI_COMMIT_SHORT_SHA", "CI_PIPELINE_ID",
		"CI_PIPELINE_IID", "CI_MERGE_REQUEST_", "CI_JOB_ID", "CI_COMMIT_TAG", "CI_JOB_NAME"} {
		if strings.Contains(key, v) {
			return false
		}
	}
	return true
}
