package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// TrustRemoteCode reports steps that let model repositories run their own
// Python code.
var TrustRemoteCode = pipeline.Register(finding.Rule{
	ID:       "pipeline/trust-remote-code",
	Title:    "Model loaded with trust_remote_code enabled",
	Severity: finding.High,
	Doc: "A step's script passes `trust_remote_code=True` (Python code in `python -c`, a here-document or a " +
		"Python step; `\"trust_remote_code\": true` in JSON arguments; `trust_remote_code=true` in " +
		"lm-eval-style model arguments) or the CLI flag `--trust-remote-code`/`--trust_remote_code` (vLLM, " +
		"TGI, lm-eval, HF example scripts). Transformers then downloads and executes Python files from the " +
		"model repository: whoever can change that repository, or the revision it resolves to, runs code in " +
		"the stage with its secrets and network. `trust_remote_code=False` and values that are not literals " +
		"(a variable) are not reported; scripts the step runs from files are not read.",
	Remediation: "Use a model architecture that Transformers ships natively, or vendor and review the " +
		"remote code and load it from the reviewed copy; if remote code is unavoidable, pin the model to a " +
		"full commit hash (`revision=`) and run the stage without secrets or network.",
}, func(p *pipeline.Pass) {
	for _, s := range p.Graph.Stages {
		for i := range s.Steps {
			st := &s.Steps[i]
			for _, off := range trustRemoteCodeAt(st.Run) {
				p.Report(s, stepAt(st, off), "Step enables trust_remote_code: the model repository's own Python code "+
					"runs in stage '"+s.Name+"'.", "trust_remote_code")
				break // one finding per step
			}
		}
	}
})

// trustRemoteCodeAt returns the offsets of enabling trust_remote_code
// mentions in text, outside comments.
func trustRemoteCodeAt(text string) []int {
	var out []int
	for i, n := 0, 0; i < len(text) && n < maxMatches; n++ {
		k := strings.Index(text[i:], "remote")
		if k < 0 {
			break
		}
		at := i + k
		i = at + len("remote")
		if at < 6 || !strings.EqualFold(text[at-6:at-1], "trust") || !sep(text[at-1]) {
			continue
		}
		if i+5 > len(text) || !sep(text[i]) || !strings.EqualFold(text[i+1:i+5], "code") {
			continue
		}
		start := at - 6
		rest := text[i+5:]
		if len(rest) > 0 && (isWordByte(rest[0])) {
			continue // trust_remote_code_xyz
		}
		if isComment(text, start) {
			continue
		}
		flagForm := start >= 2 && text[start-2:start] == "--"
		// Skip a closing quote of a JSON key, then spaces.
		r := strings.TrimLeft(rest, `"'`)
		r = strings.TrimLeft(r, " \t")
		var val string
		switch {
		case strings.HasPrefix(r, "="), strings.HasPrefix(r, ":"):
			val = strings.TrimLeft(r[1:], " \t")
		case flagForm:
			// --trust-remote-code alone, or followed by a value word.
			val = r
			if v, ok := boolLiteral(firstToken(val)); ok && !v {
				continue
			}
			out = append(out, start-2)
			continue
		default:
			continue
		}
		if v, ok := boolLiteral(firstToken(val)); ok && v {
			if flagForm {
				start -= 2
			}
			out = append(out, start)
		}
	}
	return out
}

func sep(c byte) bool { return c == '_' || c == '-' }

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// firstToken returns the leading run of word characters and quotes.
func firstToken(s string) string {
	end := 0
	for end < len(s) && (isWordByte(s[end]) || s[end] == '"' || s[end] == '\'') {
		end++
	}
	return s[:end]
}
