package dockerfile

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// SecretInArgEnv reports credentials passed through ARG or ENV.
var SecretInArgEnv = pipeline.Register(finding.Rule{
	ID:       "pipeline/dockerfile-secret-in-arg-env",
	Title:    "Secret in a Dockerfile ARG or ENV",
	Severity: finding.High,
	Doc: "An ARG or ENV instruction carries a credential: its name says it is one (a TOKEN, PASSWORD, SECRET or " +
		"CREDENTIALS word, or KEY together with API, ACCESS, PRIVATE, SECRET, AUTH or SIGNING — `HF_TOKEN`, " +
		"`AWS_SECRET_ACCESS_KEY`) and it has a literal value, or its value looks like a key whatever the name " +
		"(a Hugging Face, GitHub, GitLab, OpenAI, Slack or AWS key format, a PEM private key). ENV values are " +
		"stored in the image config and ARG values in its build history, so everyone who can pull the image " +
		"can read them. A credential ARG without a default, or an ENV that copies one from a variable, is " +
		"reported at medium severity: the value comes from `--build-arg` and still ends up in the image " +
		"metadata. Names that refer to a file (`*_FILE`, `*_PATH`) and public keys are not reported; `RUN " +
		"--mount=type=secret` is the right way and is never reported.",
	Remediation: "Pass build-time credentials with BuildKit secrets (`RUN --mount=type=secret,id=hf_token " +
		"HF_TOKEN=$(cat /run/secrets/hf_token) ...`, `docker build --secret id=hf_token,env=HF_TOKEN`), give " +
		"run-time credentials to the container at start (orchestrator secrets), and rotate any value that was " +
		"committed.",
}, func(p *pipeline.Pass) {
	f := fileOf(p.Graph)
	if f == nil {
		return
	}
	for _, bs := range f.Stages {
		s := stageNamed(p.Graph, bs.Name)
		if s == nil {
			continue
		}
		for _, in := range bs.Instructions {
			checkArgEnv(p, s, in)
		}
	}
	// ARGs before the first FROM belong to no stage: report them on the
	// first stage.
	if len(f.Stages) > 0 {
		first := stageNamed(p.Graph, f.Stages[0].Name)
		for _, in := range f.Instructions {
			if in.Cmd == "FROM" {
				break
			}
			if first != nil {
				checkArgEnv(p, first, in)
			}
		}
	}
})

func checkArgEnv(p *pipeline.Pass, s *pipeline.Stage, in *Instruction) {
	var pairs []kv
	var defaults []bool
	switch in.Cmd {
	case "ARG":
		for _, a := range argDecls(in.Args) {
			pairs = append(pairs, kv{a.name, a.value})
			defaults = append(defaults, a.hasDefault)
		}
	case "ENV":
		for _, x := range envPairs(in.Args) {
			pairs = append(pairs, x)
			defaults = append(defaults, true)
		}
	default:
		return
	}
	for i, x := range pairs {
		if kind := keyLike(x.value); kind != "" {
			p.Report(s, in.Pos, in.Cmd+" "+x.name+" holds what looks like "+kind+": it is stored in the image "+
				"for anyone who can pull it.", strings.ToLower(in.Cmd)+"="+x.name+" value-like-key")
			continue
		}
		if !secretName(x.name) {
			continue
		}
		v := strings.TrimSpace(x.value)
		switch {
		case defaults[i] && v != "" && !strings.HasPrefix(v, "$"):
			p.Report(s, in.Pos, in.Cmd+" "+x.name+" sets a credential to a literal value: it is stored in the image "+
				"for anyone who can pull it.", strings.ToLower(in.Cmd)+"="+x.name+" literal")
		case in.Cmd == "ARG" && !defaults[i], in.Cmd == "ENV" && strings.HasPrefix(v, "$"):
			f := p.Report(s, in.Pos, in.Cmd+" "+x.name+" passes a credential through the build: its value ends up in "+
				"the image's history or configuration; use a BuildKit secret mount instead.", strings.ToLower(in.Cmd)+"="+x.name)
			f.Severity = finding.Medium
		}
	}
}

// secretName reports whether a variable name says it holds a credential.
func secretName(name string) bool {
	ws := words(name)
	if len(ws) == 0 {
		return false
	}
	last := ws[len(ws)-1]
	if last == "FILE" || last == "PATH" || last == "DIR" || last == "URL" || last == "ID" || last == "NAME" ||
		last == "ENABLED" || last == "TYPE" || last == "LENGTH" {
		return false
	}
	var cred, key, qual, public bool
	for _, w := range ws {
		switch w {
		case "TOKEN", "PASSWORD", "PASSWD", "PASS", "SECRET", "CREDENTIALS", "CREDS", "APIKEY", "PAT":
			cred = true
		case "KEY":
			key = true
		case "API", "ACCESS", "PRIVATE", "AUTH", "SIGNING":
			qual = true
		case "PUBLIC", "PUB", "GPG", "GNUPG":
			public = true
		}
	}
	if public {
		return false
	}
	return cred || key && qual
}

var keyPatterns = []struct {
	re   *regexp.Regexp
	kind string
}{
	{regexp.MustCompile(`^hf_[A-Za-z0-9]{30,}$`), "a Hugging Face token"},
	{regexp.MustCompile(`^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}$|^github_pat_[A-Za-z0-9_]{40,}$`), "a GitHub token"},
	{regexp.MustCompile(`^glpat-[A-Za-z0-9_-]{20,}$`), "a GitLab token"},
	{regexp.MustCompile(`^sk-(proj-)?[A-Za-z0-9_-]{20,}$`), "an OpenAI-style API key"},
	{regexp.MustCompile(`^xox[abposr]-[A-Za-z0-9-]{10,}$`), "a Slack token"},
	{regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`), "an AWS access key id"},
	{regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`), "a private key"},
}

// keyLike says what kind of credential a value looks like, or "".
func keyLike(v string) string {
	v = strings.TrimSpace(v)
	if len(v) < 16 || len(v) > 8192 {
		return ""
	}
	for _, k := range keyPatterns {
		if k.re.MatchString(v) {
			return k.kind
		}
	}
	return ""
}
