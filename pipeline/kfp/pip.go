package kfp

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// PipInstall is one `pip install` command found in a bootstrap script.
type PipInstall struct {
	// Off is the offset of the command's first word in the step's Run.
	Off int
	// Runtime is true for the SDK's own install of the kfp package
	// (`'kfp==2.x' '--no-deps' ...`), false for packages_to_install.
	Runtime bool
	// TrustedHosts are --trusted-host values; IndexURLs the --index-url /
	// -i values and ExtraIndexURLs the --extra-index-url values.
	TrustedHosts   []Arg
	IndexURLs      []Arg
	ExtraIndexURLs []Arg
	// Packages are requirement specifiers; Requirements are -r files.
	Packages     []Arg
	Requirements []Arg
	// Hashes is true when --require-hashes or a --hash option is present.
	Hashes bool
}

// Arg is a word of a command with its offset in the step's Run.
type Arg struct {
	Value string
	Off   int
}

// pipValueOpts are pip install options that take a separate value.
var pipValueOpts = map[string]bool{
	"-t": true, "--target": true, "--prefix": true, "--root": true, "--platform": true,
	"--python-version": true, "--implementation": true, "--abi": true, "-f": true, "--find-links": true,
	"--cache-dir": true, "--log": true, "--src": true, "--upgrade-strategy": true, "--progress-bar": true,
	"--proxy": true, "--cert": true, "--client-cert": true, "--timeout": true, "--retries": true,
	"--exists-action": true, "--global-option": true, "--config-settings": true, "-C": true,
	"--only-binary": true, "--no-binary": true, "--report": true, "--python": true,
}

// ParsePipInstalls finds the pip install commands of a shell script.
func ParsePipInstalls(script string) []PipInstall {
	if !strings.Contains(script, "pip") {
		return nil
	}
	var out []PipInstall
	for _, cmd := range k8s.Commands(script) {
		a := k8s.Args(cmd)
		i := pipStart(a)
		if i < 0 {
			continue
		}
		pi := PipInstall{Off: a[0].Off}
		for j := i; j < len(a); j++ {
			w := a[j].Text
			name, val, hasVal := strings.Cut(w, "=")
			if !strings.HasPrefix(w, "-") || !hasVal {
				name = w
			}
			take := func() (Arg, bool) {
				if hasVal && strings.HasPrefix(w, "--") {
					return Arg{Value: val, Off: a[j].Off}, true
				}
				if j+1 < len(a) {
					j++
					return Arg{Value: a[j].Text, Off: a[j].Off}, true
				}
				return Arg{}, false
			}
			switch {
			case name == "--trusted-host":
				if v, ok := take(); ok {
					pi.TrustedHosts = append(pi.TrustedHosts, v)
				}
			case name == "--index-url" || name == "-i":
				if v, ok := take(); ok {
					pi.IndexURLs = append(pi.IndexURLs, v)
				}
			case name == "--extra-index-url":
				if v, ok := take(); ok {
					pi.ExtraIndexURLs = append(pi.ExtraIndexURLs, v)
				}
			case name == "-r" || name == "--requirement" || name == "-c" || name == "--constraint":
				if v, ok := take(); ok {
					pi.Requirements = append(pi.Requirements, v)
				}
			case name == "--require-hashes" || name == "--hash":
				pi.Hashes = true
			case pipValueOpts[name] && !hasVal:
				take()
			case strings.HasPrefix(w, "-"):
			default:
				pi.Packages = append(pi.Packages, Arg{Value: w, Off: a[j].Off})
				if strings.HasPrefix(strings.ToLower(w), "kfp==") {
					pi.Runtime = true
				}
			}
		}
		out = append(out, pi)
	}
	return out
}

// pipStart returns the index of the first argument after "pip install" (or
// "python -m pip install", "uv pip install"), or -1.
func pipStart(a []k8s.Word) int {
	for i := 0; i+1 < len(a) && i < 4; i++ {
		n := a[i].Text
		if j := strings.LastIndexByte(n, '/'); j >= 0 {
			n = n[j+1:]
		}
		if (n == "pip" || n == "pip3" || strings.HasPrefix(n, "pip3.")) && a[i+1].Text == "install" {
			return i + 2
		}
	}
	return -1
}

var hexRef = regexp.MustCompile(`[0-9a-fA-F]{40,64}`)

// Pinned reports whether a requirement specifier names one exact release:
// `name==1.2.3` (not a wildcard), a direct URL with a #sha256= fragment or
// a VCS URL at a full commit hash.
func Pinned(spec string) bool {
	s := spec
	if i := strings.IndexByte(s, ';'); i >= 0 { // environment marker
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		return strings.Contains(s, "sha256=") || hexRef.MatchString(s[strings.LastIndexByte(s, '@')+1:])
	}
	i := strings.Index(s, "==")
	if i < 0 {
		return strings.Contains(s, "===")
	}
	v := s[i+2:]
	return v != "" && !strings.Contains(v, "*") && !strings.ContainsAny(v, ",<>!~")
}

// IsPackageSpec reports whether a word looks like a requirement rather
// than a file path or a shell expansion.
func IsPackageSpec(w string) bool {
	if w == "" || strings.HasPrefix(w, "$") || strings.HasPrefix(w, ".") || strings.HasPrefix(w, "/") ||
		strings.HasSuffix(w, ".txt") || strings.HasSuffix(w, ".whl") || strings.HasSuffix(w, ".tar.gz") {
		return false
	}
	c := w[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.Contains(w, "://")
}

// eachPipArg calls fn for every pip bootstrap of every task of the pass's
// graph. at returns the position of the bootstrap argument at byte offset
// off of the task's pip step, and false when an argument of that kind
// (key) at that place was already reported: tasks that share an executor
// share its bootstrap, which is reported once.
func eachPipArg(p *pipeline.Pass, fn func(s *pipeline.Stage, pi *PipInstall, at func(key string, off int) (pipeline.Pos, bool))) {
	d, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		t := x.Tasks[s]
		if t == nil {
			continue
		}
		at := func(key string, off int) (pipeline.Pos, bool) {
			if !seen.First(s.Steps[t.PipStep].Pos, key+" "+strconv.Itoa(off)) {
				return pipeline.Pos{}, false
			}
			return d.StepPos(s, t.PipStep, off), true
		}
		for i := range t.Pips {
			fn(s, &t.Pips[i], at)
		}
	}
}
