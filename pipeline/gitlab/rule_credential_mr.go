package gitlab

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// CredentialInMRJob reports credentials that merge-request jobs read.
var CredentialInMRJob = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-credential-in-mr-job",
	Title:    "Merge-request job reads credentials",
	Severity: finding.Medium,
	Doc: "A GitLab job that runs in merge-request pipelines reads credentials: CI/CD variables whose names " +
		"say they are tokens, passwords or keys (referenced as $NAME in its scripts or variables), `secrets:` " +
		"from a vault, or `id_tokens:` that cloud and vault roles exchange for credentials. The merge request's " +
		"author controls the job's code and can send them anywhere. GitLab withholds *protected* variables from " +
		"pipelines of unprotected branches and merge requests, so a variable reference is medium and may be a " +
		"false positive when the variable is protected (the file cannot tell); `secrets:` and `id_tokens:` are " +
		"high, because GitLab issues them to any job unless the vault or cloud role checks the token's " +
		"ref_protected claim. Predefined job credentials (CI_JOB_TOKEN, CI_REGISTRY_PASSWORD) are not reported: " +
		"every job has them.",
	Remediation: "Mark release credentials as protected variables and keep the jobs that use them out of " +
		"merge-request pipelines; bind vault and cloud roles to the ID token's ref_protected and ref claims; give " +
		"merge-request jobs only read-only, low-value credentials.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	// Names to skip: variables with a literal value (the hardcoded-secret
	// rule's business) and aliases of predefined job credentials
	// (IN_REGISTRY_TOKEN: $CI_REGISTRY_PASSWORD).
	skip := func(v Variable) bool {
		return v.Literal && !strings.Contains(v.Value, "$") || onlyPredefinedRefs(v.Value)
	}
	globalSkip := map[string]bool{}
	for _, v := range d.Variables {
		if skip(v) {
			globalSkip[v.Name] = true
		}
	}
	for _, j := range d.Jobs {
		if j.MR == pipeline.False || j.Stage.Kind == "trigger" {
			continue
		}
		literal := globalSkip
		if len(j.Variables) > 0 || len(j.Inherited) != len(d.Variables) {
			literal = map[string]bool{}
			for _, vs := range [][]Variable{j.Inherited, j.Variables} {
				for _, v := range vs {
					if skip(v) {
						literal[v.Name] = true
					}
				}
			}
		}
		var vars, issued []string
		pos := pipeline.Pos{}
		for _, sec := range j.Stage.Secrets {
			switch {
			case contains(j.SecretsKeyword, sec.Name) || contains(j.IDTokens, sec.Name):
				issued = append(issued, sec.Name)
			case strings.HasPrefix(sec.Name, "CI_") || literal[sec.Name]:
				continue
			default:
				vars = append(vars, sec.Name)
			}
			if pos.Line == 0 {
				pos = sec.Pos
			}
		}
		if len(vars) == 0 && len(issued) == 0 {
			continue
		}
		s := j.Stage
		sev := finding.Medium
		var msg string
		if len(issued) > 0 {
			sev = finding.High
			msg = "Job '" + s.Name + "' receives vault secrets or ID tokens (" + quoteNames(issued) + ") and " + mrWhy(j) +
				"; GitLab issues them whatever the branch, unless the vault or cloud role checks ref_protected."
			if len(vars) > 0 {
				msg += " It also reads the credential variables " + quoteNames(vars) + "."
			}
		} else {
			msg = "Job '" + s.Name + "' reads the credential variables " + quoteNames(vars) + " and " + mrWhy(j) +
				". If they are protected variables GitLab withholds them from merge-request pipelines and this is a " +
				"false positive; otherwise the merge request's code can read them."
		}
		if j.MR == pipeline.Unknown && sev > finding.Low {
			sev--
		}
		f := p.Report(s, pos, msg+forkNote, "credentials="+evidence(append(issued, vars...)))
		setSeverity(f, sev)
	}
})

// onlyPredefinedRefs reports whether a value is made only of references to
// predefined CI_ variables.
func onlyPredefinedRefs(val string) bool {
	refs := varRef.FindAllStringSubmatch(val, 8)
	if len(refs) == 0 || strings.TrimSpace(varRef.ReplaceAllString(val, "")) != "" {
		return false
	}
	for _, m := range refs {
		if !strings.HasPrefix(m[1], "CI_") {
			return false
		}
	}
	return true
}
