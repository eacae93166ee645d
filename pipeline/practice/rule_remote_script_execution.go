package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// RemoteScriptExecution reports downloads piped straight into an
// interpreter.
var RemoteScriptExecution = pipeline.Register(finding.Rule{
	ID:       "pipeline/remote-script-execution",
	Title:    "Remote script piped into a shell or interpreter",
	Severity: finding.Medium,
	Doc: "A step downloads a script and runs it without checking it: `curl ... | sh`, `wget -O- ... | bash`, " +
		"`bash <(curl ...)`, `sh -c \"$(curl ...)\"`, `... | python`. Whatever the server (or anyone who " +
		"controls its DNS, its CDN or the project behind it) returns at that moment runs in the stage, with " +
		"its secrets and network, and nothing records what it was. Installer scripts change without notice; a " +
		"pipeline that pins its dependencies by hash but pipes an installer into a shell is only as safe as " +
		"that URL.",
	Remediation: "Download the script (or better the release binary) to a file, verify it against a " +
		"checksum or signature committed in the repository, then run it; or install the tool from a pinned, " +
		"hash-checked package or a digest-pinned image.",
}, func(p *pipeline.Pass) {
	pp := parse(p.Graph)
	for _, s := range p.Graph.Stages {
		for i := range s.Steps {
			st := &s.Steps[i]
			if off, what, ok := remoteExec(pp.cmdsOf(st)); ok {
				p.Report(s, stepAt(st, off), "Step runs a downloaded script without verifying it ("+what+").", "pipe="+what)
			}
		}
	}
})

var interpreters = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ash": true, "ksh": true, "fish": true,
	"perl": true, "ruby": true, "node": true, "php": true, "pwsh": true, "powershell": true, "source": true, ".": true,
	"eval": true,
}

func isInterpreter(name string) bool { return interpreters[name] || isPythonName(name) }

func isFetcher(name string) bool {
	return name == "curl" || name == "wget" || name == "iwr" || name == "fetch"
}

// remoteExec finds the first download-and-run in a step.
func remoteExec(cmds []shell.Cmd) (int, string, bool) {
	for i := range cmds {
		c := &cmds[i]
		v, ok := view(c)
		if !ok {
			continue
		}
		if isFetcher(v.name) && (c.Op == "|" || c.Op == "|&") {
			// the next command of the same pipeline: skip nested ones
			for j := i + 1; j < len(cmds); j++ {
				if cmds[j].Depth > c.Depth {
					continue
				}
				if cmds[j].Depth < c.Depth {
					break
				}
				w, ok := view(&cmds[j])
				if ok && isInterpreter(w.name) {
					return v.at.Start, v.name + " | " + w.name, true
				}
				break
			}
		}
		if isInterpreter(v.name) {
			for _, a := range v.args {
				for _, pre := range []string{"$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget"} {
					if strings.Contains(a.Val, pre) {
						return v.at.Start, v.name + " " + pre[:2] + strings.TrimLeft(pre[1:], "(`") + " ...)", true
					}
				}
			}
		}
	}
	return 0, "", false
}
