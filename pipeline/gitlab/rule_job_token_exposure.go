package gitlab

import (
	"path"
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// JobTokenExposure reports scripts that print or store the job token.
var JobTokenExposure = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-job-token-exposure",
	Title:    "GitLab job token printed, transformed or stored in artifacts",
	Severity: finding.High,
	Doc: "A script handles CI_JOB_TOKEN (or the predefined credentials that equal it: CI_REGISTRY_PASSWORD, " +
		"CI_DEPLOY_PASSWORD, CI_JOB_JWT) in a way that leaks it: piping it through base64, rev, xxd, sed or tee, " +
		"or writing it into a file that the job uploads as an artifact (high) — GitLab masks the token's exact " +
		"value in job logs, and any transformation defeats the mask, while artifacts are downloadable by everyone " +
		"who can see the pipeline; or echoing it (medium: masked today, one refactoring away from a leak). " +
		"CI_DEBUG_TRACE or CI_DEBUG_SERVICES set to true in the file is high: debug logging writes every " +
		"variable of the job to the log. The job token acts with the permissions of the user who started the " +
		"pipeline on every project that allows it.",
	Remediation: "Pass the token to tools on stdin (`echo \"$CI_JOB_TOKEN\" | docker login -u gitlab-ci-token " +
		"--password-stdin $CI_REGISTRY`) or through a credential helper, never into files under artifact paths " +
		"or transformed output; enable debug logging only from the UI for a single run, never in the file.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	seen := map[string]bool{}
	debug := func(v Variable, j *Job) {
		if (v.Name == "CI_DEBUG_TRACE" || v.Name == "CI_DEBUG_SERVICES") && strings.EqualFold(strings.TrimSpace(v.Value), "true") && !seen[posKey(v.Pos)] {
			seen[posKey(v.Pos)] = true
			msg := v.Name + " is set to true in the file: debug logging writes every variable of the job, credentials included, to the job log."
			if j != nil {
				p.Report(j.Stage, v.Pos, msg, "debug="+v.Name)
			} else {
				p.ReportAt(v.Pos, "variable "+v.Name, msg, "debug="+v.Name)
			}
		}
	}
	for _, v := range d.Variables {
		debug(v, nil)
	}
	for _, j := range d.Jobs {
		for _, v := range j.Variables {
			debug(v, j)
		}
		for i := range j.Stage.Steps {
			st := &j.Stage.Steps[i]
			if !tokenRef.MatchString(st.Run) {
				continue
			}
			for _, leak := range tokenLeaks(st.Run, j.ArtifactPaths) {
				key := posKey(st.Pos) + "|" + leak.cmd
				if seen[key] {
					continue
				}
				seen[key] = true
				f := p.Report(j.Stage, st.PosAt(leak.off), "Job '"+j.Name+"' "+leak.what+": `"+shorten(leak.cmd)+"`.", "leak="+leak.kind)
				setSeverity(f, leak.sev)
			}
		}
	}
})

var tokenRef = regexp.MustCompile(`\$\{?(CI_JOB_TOKEN|CI_REGISTRY_PASSWORD|CI_DEPLOY_PASSWORD|CI_JOB_JWT[A-Z0-9_]*)\}?`)

type leak struct {
	off  int
	cmd  string
	kind string
	what string
	sev  finding.Severity
}

// tokenLeaks finds shell commands in run that print, transform or store a
// job token. It works on simple command lines: `a && b; c | d`.
func tokenLeaks(run string, artifacts []string) []leak {
	var out []leak
	off := 0
	for _, line := range strings.SplitAfter(run, "\n") {
		for _, seg := range splitCommands(line) {
			pipe := splitPipe(seg.text)
			first := strings.TrimSpace(pipe[0])
			loc := tokenRef.FindStringIndex(first)
			if loc == nil {
				continue
			}
			w := strings.Fields(first)
			if len(w) == 0 {
				continue
			}
			cmd := strings.ToLower(w[0])
			if cmd != "echo" && cmd != "printf" && cmd != "print" && cmd != "write-host" && cmd != "write-output" {
				continue
			}
			at := off + seg.off + strings.Index(seg.text, first)
			l := leak{off: at, cmd: strings.TrimSpace(seg.text)}
			if target, ok := redirectTarget(first); ok {
				if underArtifacts(target, artifacts) {
					l.kind, l.sev, l.what = "artifact", finding.High, "writes the job token into '"+target+"', which it uploads as an artifact"
					out = append(out, l)
				}
				continue
			}
			if len(pipe) > 1 {
				rest := strings.ToLower(strings.Join(pipe[1:], "|"))
				if strings.Contains(rest, "login") || strings.Contains(rest, "stdin") || strings.Contains(rest, "credential") {
					continue
				}
				l.kind, l.sev, l.what = "transform", finding.High, "pipes the job token through another command, whose output GitLab does not mask"
				out = append(out, l)
				continue
			}
			l.kind, l.sev, l.what = "echo", finding.Medium, "prints the job token to the log (masked only while printed verbatim)"
			out = append(out, l)
		}
		off += len(line)
	}
	return out
}

type segment struct {
	text string
	off  int
}

// splitCommands splits a line at top-level ;, && and || (not inside
// quotes, $(...) or backticks).
func splitCommands(line string) []segment {
	var out []segment
	start := 0
	scanTopLevel(line, func(i int) int {
		c := line[i]
		if c == ';' {
			out = append(out, segment{line[start:i], start})
			start = i + 1
			return 1
		}
		if (c == '&' || c == '|') && i+1 < len(line) && line[i+1] == c {
			out = append(out, segment{line[start:i], start})
			start = i + 2
			return 2
		}
		return 1
	})
	return append(out, segment{line[start:], start})
}

// splitPipe splits a command at top-level | (not ||).
func splitPipe(cmd string) []string {
	var out []string
	start := 0
	scanTopLevel(cmd, func(i int) int {
		if cmd[i] == '|' {
			if i+1 < len(cmd) && cmd[i+1] == '|' {
				return 2
			}
			out = append(out, cmd[start:i])
			start = i + 1
		}
		return 1
	})
	return append(out, cmd[start:])
}

// scanTopLevel calls at(i) for every byte of s outside quotes, $(...) and
// backticks; at returns how many bytes to advance (at least 1).
func scanTopLevel(s string, at func(i int) int) {
	var quote byte
	depth := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && quote != '\'':
			i += 2
			continue
		case quote != 0:
			if c == quote {
				quote = 0
			} else if quote == '"' && c == '$' && i+1 < len(s) && s[i+1] == '(' {
				depth++
			} else if quote == '"' && c == ')' && depth > 0 {
				depth--
			}
			i++
			continue
		case c == '"' || c == '\'' || c == '`':
			quote = c
			i++
			continue
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			depth++
			i += 2
			continue
		case c == ')' && depth > 0:
			depth--
			i++
			continue
		case depth > 0:
			i++
			continue
		}
		n := at(i)
		if n < 1 {
			n = 1
		}
		i += n
	}
}

// redirectTarget returns the file a command's stdout is redirected to.
func redirectTarget(cmd string) (string, bool) {
	i := strings.LastIndex(cmd, ">")
	if i < 0 {
		return "", false
	}
	t := strings.TrimSpace(cmd[i+1:])
	if strings.HasPrefix(t, "&") {
		return "", false // >&2: still the log
	}
	f := strings.Fields(t)
	if len(f) == 0 {
		return "", false
	}
	return strings.Trim(f[0], `"'`), true
}

func underArtifacts(target string, artifacts []string) bool {
	t := path.Clean(strings.TrimPrefix(target, "./"))
	for _, a := range artifacts {
		a = path.Clean(strings.TrimPrefix(a, "./"))
		if a == "." || t == a || strings.HasPrefix(t, a+"/") {
			return true
		}
		if ok, _ := path.Match(a, t); ok {
			return true
		}
	}
	return false
}

func shorten(s string) string {
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}
