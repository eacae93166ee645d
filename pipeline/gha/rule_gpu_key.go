package gha

import (
	"regexp"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// GPUKeyToPRCode reports cloud GPU and model hub keys given to pull request
// code under privileged triggers.
var GPUKeyToPRCode = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-gpu-key-to-pr-code",
	Title:    "Cloud GPU or model hub key handed to pull request code",
	Severity: finding.Critical,
	Doc: "ML projects often run GPU tests of pull requests on rented GPUs from a pull_request_target (or " +
		"issue_comment, workflow_run) workflow, because plain pull_request runs get no secrets. When such a job " +
		"checks out the pull request and gives its steps a cloud GPU or model hub key (MODAL_TOKEN_ID/SECRET, " +
		"RUNPOD_API_KEY, LAMBDA_API_KEY, REPLICATE_API_TOKEN, VAST_API_KEY, HF_TOKEN, HUGGING_FACE_HUB_TOKEN, " +
		"TOGETHER_API_KEY, PAPERSPACE_API_KEY, COREWEAVE..., SKYPILOT...), the pull request's code can read the " +
		"key: it can rent GPUs on the project's account, or push a backdoored model to the project's hub " +
		"organisation.",
	Remediation: "Run untrusted GPU tests without keys: have a maintainer approve (a label checked in `if:` plus a " +
		"protected environment with required reviewers), use short-lived, scoped tokens minted per run, and " +
		"never give hub write tokens to jobs that run pull request code.",
	Options: map[string]string{"key_patterns": "regular expressions for secret names that are cloud GPU or model hub keys, replacing the defaults"},
}, func(p *pipeline.Pass) {
	pats := p.MustStringList("key_patterns")
	w := workflowOf(p)
	if w == nil {
		return
	}
	re := gpuKeyName
	if len(pats) > 0 {
		var err error
		re, err = regexp.Compile("(?i)(" + strings.Join(pats, "|") + ")")
		if err != nil {
			re = gpuKeyName
		}
	}
	for _, j := range w.Jobs {
		a := j.info
		if a == nil || len(a.PrivilegedForkEvents) == 0 || a.Checkout < 0 || !a.RunsAfterCheckout {
			continue
		}
		if st := j.stepAt(a.Checkout); st != nil && stepGuarded(st, a.PrivilegedForkEvents) {
			continue
		}
		found := map[string]pipeline.Pos{}
		for _, r := range j.Secrets {
			if !re.MatchString(r.Name) || !r.Available(a.PrivilegedForkEvents) {
				continue
			}
			if r.Step >= 0 && r.Step <= a.Checkout {
				continue // read before the pull request's code arrives
			}
			if st := j.stepAt(r.Step); st != nil && stepGuarded(st, a.PrivilegedForkEvents) {
				continue
			}
			if _, ok := found[r.Name]; !ok {
				found[r.Name] = r.Pos
			}
		}
		if len(found) == 0 {
			continue
		}
		names := make([]string, 0, len(found))
		for n := range found {
			names = append(names, n)
		}
		sort.Strings(names)
		report(p, j, found[names[0]], finding.Critical, "Job '"+j.ID+"' runs pull request code under "+joinEvents(a.PrivilegedForkEvents)+
			" and gives it the cloud GPU or model hub keys "+strings.Join(names, ", ")+".", "gpu-keys="+strings.Join(names, ","))
	}
})

var gpuKeyName = regexp.MustCompile(`(?i)(MODAL|RUNPOD|LAMBDA_?(LABS_?)?API|REPLICATE|VAST_?AI|VAST_API|HF_TOKEN|HF_API|HUGGING_?FACE|HUB_TOKEN|TOGETHER|PAPERSPACE|COREWEAVE|SKYPILOT|SKY_|BASETEN|FIREWORKS|ANYSCALE|OCTOAI|BANANA|CEREBRIUM|BEAM_|FAL_KEY|GROQ|OPENAI|ANTHROPIC)`)
