package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// CachePoisoning reports release jobs restoring caches that untrusted runs
// can write.
var CachePoisoning = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-cache-poisoning",
	Title:    "Release job restores a cache that untrusted runs can write",
	Severity: finding.High,
	Doc: "A job that releases or publishes (a release, registry_package or tag-push trigger, a publish step " +
		"such as pypa/gh-action-pypi-publish, twine/npm/cargo publish, docker push, or a name such as " +
		"release/publish/deploy) restores a cache (actions/cache, or setup-python/setup-node/... with " +
		"`cache:`), and the same workflow lets untrusted code write caches. Cache entries are not signed: " +
		"whoever writes the entry first decides what the release build loads (dependencies, compiled objects, " +
		"model files). High when a job of the workflow runs pull request code in the base branch's context " +
		"(pull_request_target, issue_comment, workflow_run), whose cache writes the default branch and tags " +
		"read; low when the release job itself also runs for pull requests under the same key (GitHub scopes " +
		"pull_request caches to the pull request's merge ref, so those runs cannot poison the release, but the " +
		"key is shared with every default-branch workflow). One finding per job. Release workflows that use caches without any " +
		"untrusted trigger in the same file are not reported; mlgate does not see the other workflows of the " +
		"repository.",
	Remediation: "Do not restore caches in release and publish jobs: build from a clean state with pinned, " +
		"hash-checked dependencies. If a cache is unavoidable, give the release job its own key prefix that " +
		"no other job writes (actions/cache/restore with a release-only key).",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil || w.Action {
		return
	}
	var poisoners []*Job
	var prJobs []*Job
	for _, j := range w.Jobs {
		a := j.info
		if a == nil || len(a.ForkEvents) == 0 || !a.RunsPRCode.MaybeTrue() {
			continue
		}
		writes := false
		for _, st := range j.Steps {
			if _, ok := cacheKey(st); ok && actionName(st.Uses) != "actions/cache/restore" {
				writes = true
			}
		}
		if !writes {
			continue
		}
		if a.PrivilegedPRCode.MaybeTrue() {
			poisoners = append(poisoners, j)
		} else {
			prJobs = append(prJobs, j)
		}
	}
	if len(poisoners) == 0 && len(prJobs) == 0 {
		return
	}
	for _, j := range w.Jobs {
		why := releaseJob(w, j)
		if why == "" {
			continue
		}
		for _, st := range j.Steps {
			key, ok := cacheKey(st)
			if !ok || actionName(st.Uses) == "actions/cache/save" {
				continue
			}
			switch {
			case len(poisoners) > 0:
				report(p, j, st.Pos, finding.High, "Job '"+j.ID+"' "+why+" and restores the cache "+quote(key)+
					"; job '"+poisoners[0].ID+"' runs pull request code in the base branch's context and writes caches it can poison.",
					"release-cache "+key+" writer="+poisoners[0].ID)
			case containsJob(prJobs, j):
				report(p, j, st.Pos, finding.Low, "Job '"+j.ID+"' "+why+" and restores the cache "+quote(key)+
					", and it also runs for pull requests under the same key (GitHub scopes pull request caches to their "+
					"merge ref, so this alone is not exploitable; any other workflow that writes the key on the default "+
					"branch is).", "release-cache "+key+" writer=self")
			default:
				continue
			}
			break // one finding per job
		}
	}
})

func containsJob(js []*Job, j *Job) bool {
	for _, x := range js {
		if x == j {
			return true
		}
	}
	return false
}

var publishCommand = regexp.MustCompile(`(?i)\b(twine\s+upload|npm\s+publish|yarn\s+(npm\s+)?publish|pnpm\s+publish|cargo\s+publish|gem\s+push|poetry\s+publish|flit\s+publish|hatch\s+publish|uv\s+publish|docker\s+push|gh\s+release\s+(create|upload)|huggingface-cli\s+upload|hf\s+upload|mvn\s+deploy|gradle\w*\s+publish)\b`)

// releaseJob says why j is a release job, or "".
func releaseJob(w *Workflow, j *Job) string {
	a := j.info
	if a != nil {
		for _, ev := range a.Events {
			if releaseEvents[ev] {
				return "runs on " + ev
			}
			if ev == "push" {
				if t := w.Trigger("push"); t != nil && len(t.Tags) > 0 && len(t.Branches) == 0 {
					return "runs on tag pushes"
				}
			}
		}
	}
	for _, st := range j.Steps {
		n := actionName(st.Uses)
		if n == "pypa/gh-action-pypi-publish" || n == "docker/build-push-action" && st.With["push"].Value == "true" ||
			n == "softprops/action-gh-release" || n == "ncipollo/release-action" {
			return "publishes (" + st.Uses + ")"
		}
		if st.Run != "" && (strings.Contains(st.Run, "publish") || strings.Contains(st.Run, "upload") || strings.Contains(st.Run, "push") ||
			strings.Contains(st.Run, "release") || strings.Contains(st.Run, "deploy")) {
			if m := publishCommand.FindString(st.Run); m != "" {
				return "publishes (" + strings.Join(strings.Fields(m), " ") + ")"
			}
		}
	}
	if a != nil && a.Stage != nil && (a.Stage.HasRole(pipeline.RoleDeploy) || a.Stage.HasRole(pipeline.RoleRegister)) {
		for _, r := range a.Stage.Roles {
			if r == pipeline.RoleRegister || r == pipeline.RoleDeploy {
				return "is a " + string(r) + " job by its name"
			}
		}
	}
	return ""
}
