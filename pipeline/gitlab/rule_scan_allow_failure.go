package gitlab

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// ScanAllowFailure reports security-scan jobs whose failure does not stop
// the pipeline.
var ScanAllowFailure = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-scan-allow-failure",
	Title:    "Security scan job may fail without blocking the pipeline",
	Severity: finding.Medium,
	Doc: "A job that scans code, dependencies, images, secrets or models (by its name — scan, sast, " +
		"dependency_scanning, secret_detection — or by the scanner its script runs: mlgate, modelscan, " +
		"picklescan, trivy, grype, snyk, semgrep, bandit, gitleaks, trufflehog, pip-audit, safety, osv-scanner) " +
		"has `allow_failure: true` (or allow_failure: exit_codes). When the scanner finds something and exits " +
		"non-zero, the pipeline carries on and later jobs release what it flagged: the gate does not block. " +
		"GitLab's own security templates set allow_failure: true because their results are meant to be gated " +
		"by merge-request approval policies instead; if you use such policies, this finding can be suppressed.",
	Remediation: "Remove allow_failure from scan jobs that gate a release, or enforce the results with a " +
		"merge-request approval or security policy; make release jobs `needs:` the scan job.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	for _, j := range d.Jobs {
		if !j.AllowFailure {
			continue
		}
		what := scanWhat(j)
		if what == "" {
			continue
		}
		pos := j.AllowFailurePos
		msg := "Security scan job '" + j.Name + "' (" + what + ") has allow_failure: when the scan fails, the " +
			"pipeline continues and later jobs use what it flagged."
		p.Report(j.Stage, pos, msg, "allow_failure scan="+what)
	}
})

var scannerCmd = regexp.MustCompile(`(?i)(^|[\s/;&|(])(mlgate|modelscan|picklescan|fickling|trivy|grype|snyk|semgrep|bandit|gitleaks|trufflehog|pip-audit|safety|osv-scanner|clamscan|checkov|tfsec|kics|hadolint|dependency-check|npm audit|yarn audit|cargo audit|govulncheck)(\s|$)`)

// scanWhat says why a job is a security scan, "" when it is not.
func scanWhat(j *Job) string {
	if j.Stage.HasRole(pipeline.RoleScan) {
		return "a scan job by its name"
	}
	lower := strings.ToLower(j.Name)
	for _, w := range []string{"sast", "dependency_scanning", "dependency-scanning", "container_scanning", "container-scanning",
		"secret_detection", "secret-detection", "dast", "license_scanning", "vulnerability", "audit"} {
		if strings.Contains(lower, w) {
			return "a " + w + " job"
		}
	}
	for _, st := range j.Stage.Steps {
		if st.Name != "script" {
			continue
		}
		if m := scannerCmd.FindStringSubmatch(st.Run); m != nil {
			return "it runs " + strings.ToLower(m[2])
		}
	}
	return ""
}
