// Package practice holds the cross-format "hardened workflow" rules: they
// read the commands and actions of every stage's steps (GitHub Actions
// `run:` scripts, GitLab `script:`, Kubeflow and Argo container commands,
// Dockerfile RUN instructions) through the format-independent stage graph,
// so one rule covers every pipeline format.
//
// Scripts are split into commands by a light shell tokenizer
// (pipeline/internal/shell): quoting, continuations, comments, operators,
// here-documents and `sh -c` are understood, so `echo "pip install x"` is
// not an install and a command split over several lines is one. Findings
// point at the exact line and column of the offending word through
// pipeline.Step.PosAt. The rules look only at the text of the pipeline
// file: a requirements file or a script the step runs is not read, and
// messages say so where it matters.
package practice

import (
	"regexp"
	"strings"
	"sync"
	"weak"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// stepCmds is the parsed form of one step's script.
type stepCmds struct {
	cmds   []shell.Cmd
	python bool // the step's shell is Python: Run is Python code, not shell
}

// parsed holds the parsed scripts of one graph.
type parsed struct {
	steps map[*pipeline.Step]*stepCmds
}

// cacheSize is how many graphs' parsed scripts are kept; every rule of a
// graph's analysis runs back to back, so a few entries serve concurrent
// analyses. Entries hold only weak references to their graphs.
const cacheSize = 32

var cache struct {
	sync.Mutex
	keys [cacheSize]weak.Pointer[pipeline.Graph]
	vals [cacheSize]*parsed
	next int
}

// parse returns the parsed scripts of g, parsing every step once per graph
// however many rules ask.
func parse(g *pipeline.Graph) *parsed {
	cache.Lock()
	for i := range cache.keys {
		if cache.vals[i] != nil && cache.keys[i].Value() == g {
			p := cache.vals[i]
			cache.Unlock()
			return p
		}
	}
	cache.Unlock()
	p := &parsed{steps: map[*pipeline.Step]*stepCmds{}}
	for _, s := range g.Stages {
		for i := range s.Steps {
			st := &s.Steps[i]
			if st.Run == "" {
				continue
			}
			sc := &stepCmds{python: isPython(st.Shell)}
			if !sc.python {
				sc.cmds = shell.Parse(st.Run)
			}
			p.steps[st] = sc
		}
	}
	cache.Lock()
	cache.keys[cache.next] = weak.Make(g)
	cache.vals[cache.next] = p
	cache.next = (cache.next + 1) % cacheSize
	cache.Unlock()
	return p
}

func isPython(sh string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(sh)), "python")
}

// cmdsOf returns the shell commands of a step (nil for Python steps and
// steps without a script).
func (p *parsed) cmdsOf(st *pipeline.Step) []shell.Cmd {
	if sc := p.steps[st]; sc != nil {
		return sc.cmds
	}
	return nil
}

// visit calls f for every shell command of every step of g, in order.
func visit(g *pipeline.Graph, f func(s *pipeline.Stage, st *pipeline.Step, c *shell.Cmd)) {
	p := parse(g)
	for _, s := range g.Stages {
		for i := range s.Steps {
			st := &s.Steps[i]
			cmds := p.cmdsOf(st)
			for j := range cmds {
				f(s, st, &cmds[j])
			}
		}
	}
}

// cmdView is a command with its name resolved.
type cmdView struct {
	name string       // base name, lower case
	at   shell.Word   // the name word
	args []shell.Word // words after the name
}

func view(c *shell.Cmd) (cmdView, bool) {
	name, i := c.Name()
	if i < 0 {
		return cmdView{}, false
	}
	return cmdView{name: strings.ToLower(shell.Base(name)), at: c.Words[i], args: c.Words[i+1:]}, true
}

// sub returns the first argument that is not an option, and its index.
func sub(args []shell.Word) (string, int) {
	for i, a := range args {
		if !strings.HasPrefix(a.Val, "-") {
			return a.Val, i
		}
	}
	return "", -1
}

// flag returns the value of an option given as "--name value" or
// "--name=value" (or a short alias), and whether the option is present.
func flag(args []shell.Word, names ...string) (string, shell.Word, bool) {
	for i, a := range args {
		for _, n := range names {
			if a.Val == n {
				if i+1 < len(args) {
					return args[i+1].Val, a, true
				}
				return "", a, true
			}
			if strings.HasPrefix(a.Val, n+"=") && strings.HasPrefix(n, "--") {
				return a.Val[len(n)+1:], a, true
			}
		}
	}
	return "", shell.Word{}, false
}

func hasFlag(args []shell.Word, names ...string) bool {
	_, _, ok := flag(args, names...)
	return ok
}

// isPythonName reports whether a command name is a Python interpreter.
func isPythonName(name string) bool {
	if !strings.HasPrefix(name, "python") {
		return false
	}
	rest := name[len("python"):]
	for i := 0; i < len(rest); i++ {
		if !(rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			return false
		}
	}
	return true
}

// pipCall recognises pip invocations: pip/pip3/pip3.11, python -m pip and
// uv pip. It returns the pip subcommand ("install", "download", ...), its
// arguments, and the word to point at.
func pipCall(v cmdView) (string, []shell.Word, shell.Word, bool) {
	args := v.args
	switch {
	case isPipName(v.name):
	case isPythonName(v.name):
		i := 0
		for i < len(args) && strings.HasPrefix(args[i].Val, "-") && args[i].Val != "-m" {
			i++
		}
		if i+1 >= len(args) || args[i].Val != "-m" || !isPipName(args[i+1].Val) {
			return "", nil, shell.Word{}, false
		}
		args = args[i+2:]
	case v.name == "uv":
		if len(args) == 0 || args[0].Val != "pip" {
			return "", nil, shell.Word{}, false
		}
		args = args[1:]
	default:
		return "", nil, shell.Word{}, false
	}
	s, i := sub(args)
	if i < 0 {
		return "", nil, shell.Word{}, false
	}
	return s, args[i+1:], v.at, true
}

func isPipName(n string) bool {
	if !strings.HasPrefix(n, "pip") {
		return false
	}
	rest := n[3:]
	for i := 0; i < len(rest); i++ {
		if !(rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			return false
		}
	}
	return true
}

// envSet reports whether an environment variable is set to a true-ish
// value in the command's assignments, the step's env or the stage's env.
func envValue(s *pipeline.Stage, st *pipeline.Step, c *shell.Cmd, name string) (string, bool) {
	for _, a := range c.Assigns {
		if v, ok := strings.CutPrefix(a.Val, name+"="); ok {
			return v, true
		}
	}
	for _, e := range st.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	for _, e := range s.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// isComment reports whether offset off of text is inside a `#` comment of
// its line: a '#' at the line start or after a blank, outside quotes.
// Only the last 4 KiB before off are examined, so the cost per call is
// bounded whatever the line length.
func isComment(text string, off int) bool {
	lo := max(0, off-4096)
	ls := lo + strings.LastIndexByte(text[lo:off], '\n') + 1
	line := text[ls:off]
	var q byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case q != 0:
			if c == '\\' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return true
		}
	}
	return false
}

var hex40 = regexp.MustCompile(`^[0-9a-f]{40}$`)

// isCommitSHA reports whether s is a full 40-hex commit id.
func isCommitSHA(s string) bool { return hex40.MatchString(s) }

// releaseStage reports whether a stage signs, registers or deploys.
func releaseStage(s *pipeline.Stage) bool { return s.IsPrivileged() }

// stepAt returns the position of offset off in the step's script.
func stepAt(st *pipeline.Step, off int) pipeline.Pos { return st.PosAt(off) }

// truncate shortens a string for messages and evidence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
