package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// NoDependencyScan reports pipelines that install dependencies and never
// scan them for known vulnerabilities.
var NoDependencyScan = pipeline.Register(finding.Rule{
	ID:       "pipeline/no-dependency-scan",
	Title:    "Dependencies installed without a vulnerability scan",
	Severity: finding.Low,
	Doc: "The pipeline installs packages (pip, uv, conda, npm, poetry, pipenv) but no step scans them for known " +
		"vulnerabilities: no pip-audit, safety, osv-scanner, trivy, grype, snyk, `npm audit`, `mlgate deps` or a " +
		"dependency-review/scanner action. The seed's hardened workflow scans dependencies in the install " +
		"stage and fails on critical advisories before any data or model is touched. The finding is reported " +
		"once per pipeline file, at the first install. A scan in another workflow file of the repository, or " +
		"Dependabot alerts, cannot be seen from this file: suppress the finding with a reason if that is where " +
		"the scan runs. Dockerfiles are not checked by this rule (images are scanned after the build).",
	Remediation: "Add a step after the install that fails on vulnerable dependencies, e.g. `pip-audit -r " +
		"requirements.txt --require-hashes`, `osv-scanner --lockfile uv.lock` or `mlgate deps`.",
}, func(p *pipeline.Pass) {
	g := p.Graph
	if g.Format == "dockerfile" {
		return
	}
	var first *pipeline.Stage
	var firstStep *pipeline.Step
	var firstAt shell.Word
	scanned := false
	for _, s := range g.Stages {
		for i := range s.Steps {
			if isScannerAction(s.Steps[i].Uses) {
				scanned = true
			}
		}
	}
	if scanned {
		return
	}
	visit(g, func(s *pipeline.Stage, st *pipeline.Step, c *shell.Cmd) {
		if scanned {
			return
		}
		v, ok := view(c)
		if !ok {
			return
		}
		if isScanCommand(v) {
			scanned = true
			return
		}
		if first == nil && isInstall(v) {
			first, firstStep, firstAt = s, st, v.at
		}
	})
	if scanned || first == nil {
		return
	}
	p.ReportAt(stepAt(firstStep, firstAt.Start), "pipeline",
		"The pipeline installs dependencies (first in stage '"+first.Name+"') but no step scans them for known "+
			"vulnerabilities (pip-audit, safety, osv-scanner, trivy, grype, snyk, npm audit, mlgate deps).",
		"install-without-dependency-scan")
})

// isInstall reports whether a command installs third-party packages.
func isInstall(v cmdView) bool {
	if subc, _, _, ok := pipCall(v); ok {
		return subc == "install" || subc == "sync"
	}
	subc, _ := sub(v.args)
	switch v.name {
	case "uv":
		return subc == "sync" || subc == "add"
	case "conda", "mamba", "micromamba":
		return subc == "install" || subc == "create" || subc == "env" && hasWord(v.args, "create", "update")
	case "npm":
		return subc == "install" || subc == "i" || subc == "ci"
	case "poetry", "pipenv":
		return subc == "install" || subc == "sync"
	case "yarn":
		return subc == "" || subc == "install"
	}
	return false
}

func hasWord(args []shell.Word, ws ...string) bool {
	for _, a := range args {
		for _, w := range ws {
			if a.Val == w {
				return true
			}
		}
	}
	return false
}

// isScanCommand reports whether a command scans dependencies.
func isScanCommand(v cmdView) bool {
	subc, _ := sub(v.args)
	switch v.name {
	case "pip-audit", "safety", "osv-scanner", "trivy", "grype", "snyk", "pip-licenses-audit", "jake", "ossaudit":
		return true
	case "npm", "yarn", "pnpm":
		return subc == "audit"
	case "mlgate":
		return subc == "deps"
	case "uv":
		return subc == "pip" && hasWord(v.args, "audit")
	}
	if isPythonName(v.name) {
		if m, _, ok := flag(v.args, "-m"); ok {
			return m == "pip_audit" || m == "safety"
		}
	}
	return false
}

// isScannerAction reports whether an action reference is a dependency
// vulnerability scanner.
func isScannerAction(uses string) bool {
	u := strings.ToLower(uses)
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	for _, s := range []string{
		"pip-audit", "dependency-review-action", "trivy-action", "anchore/scan-action", "snyk/actions",
		"osv-scanner", "safety", "grype",
	} {
		if strings.Contains(u, s) {
			return true
		}
	}
	return false
}
