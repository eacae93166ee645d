package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// RegistryCredentials reports long-lived registry tokens where trusted
// publishing would do.
var RegistryCredentials = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-registry-credentials",
	Title:    "Long-lived registry token instead of trusted publishing",
	Severity: finding.Medium,
	Doc: "A publish step authenticates to a package registry with a stored token: " +
		"pypa/gh-action-pypi-publish with a `password:` input, `twine upload`, `poetry publish`, `uv publish` " +
		"or `hatch publish` with a TWINE_PASSWORD/PYPI/POETRY token secret, `npm publish` with NPM_TOKEN or " +
		"NODE_AUTH_TOKEN, `cargo publish` with CARGO_REGISTRY_TOKEN, `gem push` with a RubyGems API key. PyPI, " +
		"npm, crates.io and RubyGems accept short-lived OIDC tokens from GitHub Actions (trusted publishing): " +
		"nothing to steal from the repository's secrets, and each upload is tied to the workflow that made it. " +
		"A stolen long-lived token lets an attacker publish a backdoored release under the project's name.",
	Remediation: "Configure trusted publishing on the registry, grant the publish job `permissions: id-token: write`, " +
		"drop the token input and delete the stored secret.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	for _, j := range w.Jobs {
		for _, st := range j.Steps {
			if actionName(st.Uses) == "pypa/gh-action-pypi-publish" {
				if in, ok := st.With["password"]; ok && in.Value != "" {
					report(p, j, in.Pos, finding.Medium, "Step "+stepLabel(st)+" uploads to PyPI with a stored token (`password:`) "+
						"instead of trusted publishing.", "pypi-publish password")
				}
				continue
			}
			if st.Run == "" {
				continue
			}
			if !strings.Contains(st.Run, "publish") && !strings.Contains(st.Run, "upload") && !strings.Contains(st.Run, "push") {
				continue
			}
			loc := publishWithToken.FindStringSubmatchIndex(st.Run)
			if loc == nil {
				continue
			}
			cmd := strings.Join(strings.Fields(st.Run[loc[0]:loc[1]]), " ")
			tok := tokenFor(j, st)
			if tok == "" {
				continue
			}
			report(p, j, st.PosAt(loc[0]), finding.Medium, "Step "+stepLabel(st)+" runs "+quote(cmd)+" with the stored token "+tok+
				" instead of trusted publishing.", "publish "+cmd+" token="+tok)
		}
	}
})

var publishWithToken = regexp.MustCompile(`(?i)\b(twine\s+upload|poetry\s+publish|uv\s+publish|hatch\s+publish|flit\s+publish|npm\s+publish|yarn\s+(npm\s+)?publish|pnpm\s+publish|cargo\s+publish|gem\s+push)\b`)

// registryTokenName matches secret names of registry tokens.
var registryTokenName = regexp.MustCompile(`(?i)(PYPI|TWINE|POETRY|NPM|NODE_AUTH|CARGO|CRATES|RUBYGEMS|GEM_HOST|UV_PUBLISH|HATCH_INDEX|FLIT)`)

// tokenFor returns the registry token secret the publish command reads:
// a secret with a registry-like name in the step's or job's env or the
// script itself.
func tokenFor(j *Job, st *Step) string {
	best := ""
	for _, r := range j.Secrets {
		if r.Step != st.Index && r.Step != -1 {
			continue
		}
		if r.Name == "GITHUB_TOKEN" || r.Name == "*" {
			continue
		}
		if registryTokenName.MatchString(r.Name) || registryTokenName.MatchString(r.Where) {
			up := strings.ToUpper(r.Name + " " + r.Where)
			if strings.Contains(up, "TOKEN") || strings.Contains(up, "PASSWORD") || strings.Contains(up, "KEY") {
				return r.Name
			}
			if best == "" {
				best = r.Name
			}
		}
	}
	return best
}
