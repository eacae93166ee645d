package gitlab

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// HardcodedSecret reports credentials written as plain text in the file.
var HardcodedSecret = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-hardcoded-secret",
	Title:    "Credential written in plain text in the GitLab CI file",
	Severity: finding.High,
	Doc: "A variable whose name says it holds a credential (…_TOKEN, …_PASSWORD, …_SECRET, API or private " +
		"keys) is given a literal value in .gitlab-ci.yml or a file it includes, or a URL carries a user name and " +
		"password. Everyone who can read the repository — and every fork — has the credential, it stays in the " +
		"Git history after it is removed, and GitLab cannot mask it in job logs. Values made only of references to " +
		"other variables ($DEPLOY_TOKEN) are not reported: those come from CI/CD settings. Token-like values " +
		"(long, or with a known token prefix such as glpat-, ghp_, hf_, AKIA) and URLs with passwords are high; " +
		"short dictionary values, typically the password of a throw-away test database service, are low.",
	Remediation: "Move the value to Settings > CI/CD > Variables as a masked (and, for release credentials, " +
		"protected) variable, or fetch it at run time with `secrets:` from a vault; rotate the exposed credential.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	seen := map[string]bool{}
	check := func(v Variable, j *Job) {
		if !v.Literal || seen[posKey(v.Pos)] {
			return
		}
		sev, why := hardcodedSeverity(v)
		if why == "" {
			return
		}
		seen[posKey(v.Pos)] = true
		msg := "Variable " + v.Name + " " + why + " (" + strconv.Itoa(len(v.Value)) + " characters; value not shown). " +
			"Anyone who can read the repository or a fork has it, and GitLab cannot mask it in job logs."
		pos := v.ValuePos
		if pos.Line == 0 {
			pos = v.Pos
		}
		var f *finding.Finding
		if j != nil {
			f = p.Report(j.Stage, pos, msg, "variable="+v.Name)
		} else {
			f = p.ReportAt(pos, "variable "+v.Name, msg, "variable="+v.Name)
		}
		setSeverity(f, sev)
	}
	for _, v := range d.Variables {
		check(v, nil)
	}
	for _, j := range d.Jobs {
		for _, v := range j.Variables {
			check(v, j)
		}
	}
})

var (
	urlWithPassword = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@$]+:([^/\s@$]+)@`)
	tokenPrefix     = regexp.MustCompile(`^(glpat-|gldt-|glrt-|glptt-|ghp_|gho_|ghs_|github_pat_|hf_|xox[abprs]-|AKIA|ASIA|sk-|sk_live_|rk_live_|npm_|pypi-|AIza|ya29\.|dop_v1_)`)
)

// hardcodedSeverity classifies a literal value: why is "" when it is not
// a credential in plain text.
func hardcodedSeverity(v Variable) (finding.Severity, string) {
	val := strings.TrimSpace(v.Value)
	if m := urlWithPassword.FindStringSubmatch(val); m != nil {
		return finding.High, "holds a URL with a password written in the file"
	}
	if !IsCredentialName(v.Name) || val == "" {
		return 0, ""
	}
	if rest := strings.TrimSpace(varRef.ReplaceAllString(val, "")); rest != val {
		// A template around references ("Bearer $TOKEN", "$USER:$PASS@"):
		// only a token-like literal part is a hardcoded secret.
		if tokenPrefix.MatchString(rest) || len(rest) >= 16 && hasLetterAndDigit(rest) && !strings.ContainsAny(rest, " \t/:") {
			return finding.High, "holds a token-like literal next to variable references"
		}
		return 0, ""
	}
	lower := strings.ToLower(val)
	switch {
	case strings.HasPrefix(val, "/") || strings.HasPrefix(val, "./") || strings.HasPrefix(val, "~/"):
		return 0, "" // a path to a credential file
	case lower == "true" || lower == "false" || lower == "null" || lower == "none" || lower == "yes" || lower == "no":
		return 0, ""
	}
	if tokenPrefix.MatchString(val) || strings.Contains(val, "-----BEGIN") {
		return finding.High, "holds a token or key written in the file"
	}
	if len(val) >= 16 && !strings.ContainsAny(val, " \t") && hasLetterAndDigit(val) {
		return finding.High, "holds a token-like value written in the file"
	}
	return finding.Low, "holds a short literal value (a test-service password?) written in the file"
}

func hasLetterAndDigit(s string) bool {
	l, d := false, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d = true
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			l = true
		}
	}
	return l && d
}
