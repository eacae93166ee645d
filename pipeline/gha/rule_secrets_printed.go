package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// SecretsPrinted reports secrets written to the log where masking may fail.
var SecretsPrinted = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-secrets-printed",
	Title:    "Secrets printed to the job log",
	Severity: finding.Medium,
	Doc: "GitHub masks a secret's exact value in logs, but not transformations of it. `toJSON(secrets)` " +
		"(high) puts every secret, including multi-line ones whose lines are not masked individually, into " +
		"one value; `echo ${{ secrets.X }}` (or printf, print, Write-Host, console.log) without redirecting " +
		"the output prints it (workflow commands such as `::add-mask::` are not), and any encoding on the way (base64, a substring, a JSON escape) defeats " +
		"masking; `toJSON(github)` in a script dumps the whole event payload and the token (low). Public " +
		"repositories' logs are public.",
	Remediation: "Never print secrets. Pass each secret to the one step that needs it through `env:` and read it " +
		"from the environment; do not serialise the secrets or github contexts.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	for _, j := range w.Jobs {
		for _, e := range j.Exprs {
			n := normalize(e.Inner)
			if strings.Contains(n, "tojson(secrets)") {
				report(p, j, e.Pos, finding.High, "`toJSON(secrets)` serialises every secret of the repository into one value ("+
					e.Where+"); multi-line and transformed secrets escape log masking.", "tojson-secrets "+e.Where)
				continue
			}
			if e.Where == "run" && strings.Contains(n, "tojson(github)") {
				report(p, j, e.Pos, finding.Low, "`toJSON(github)` in a script dumps the whole github context, including the "+
					"event payload and the token, into the log.", "tojson-github")
			}
		}
		for _, st := range j.Steps {
			if st.Run == "" || !strings.Contains(st.Run, "secrets.") {
				continue
			}
			for _, m := range printedSecret.FindAllStringSubmatchIndex(st.Run, 20) {
				line := st.Run[m[0]:m[1]]
				if strings.ContainsAny(line, ">|") {
					continue // redirected into a file or piped into a command
				}
				if strings.Contains(line, "::add-mask::") || strings.Contains(line, "::set-output") || strings.Contains(line, "::save-state") {
					continue // workflow commands: masked or not shown
				}
				off := m[2]
				report(p, j, st.PosAt(off), finding.Medium, "Step "+stepLabel(st)+" prints a secret to the log: "+quote(strings.TrimSpace(line))+".",
					"printed "+strings.TrimSpace(st.Run[m[2]:m[3]]))
			}
		}
	}
})

// printedSecret matches a print command whose line interpolates a secret;
// group 1 is the expression.
var printedSecret = regexp.MustCompile(`(?im)^[ \t]*(?:echo|printf|print|puts|write-host|write-output|console\.log)\b[^\n]*?(\$\{\{\s*secrets\.[A-Za-z0-9_]+\s*\}\})[^\n]*$`)
