package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// ForkModelCache reports fork-reachable jobs on self-hosted or GPU
// runners that write to host model, dataset or checkpoint caches.
var ForkModelCache = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-fork-model-cache",
	Title:    "Fork-reachable job writes a host model or dataset cache",
	Severity: finding.High,
	Doc: "A job that runs pull request code on a self-hosted or GPU runner mounts a host directory that holds " +
		"models, datasets or checkpoints read-write into its container (`volumes:` or `-v` in `options:` with " +
		"paths such as ~/.cache/huggingface, /data/hf-cache, /models, /checkpoints, TORCH_HOME), or — without a " +
		"container — points HF_HOME, HF_HUB_CACHE, TRANSFORMERS_CACHE, HF_DATASETS_CACHE, TORCH_HOME or " +
		"XDG_CACHE_HOME at a host path outside the job's workspace. The pull request can replace cached weights " +
		"with a pickle that runs code when loaded, or a poisoned dataset, and every later job on the machine — " +
		"including trusted training, evaluation and release jobs — loads it. Critical when another job of the " +
		"workflow that holds secrets or publishes uses the same path.",
	Remediation: "Do not share host caches with jobs that run pull request code: mount them read-only (`:ro`), give " +
		"untrusted jobs a per-job empty cache, or run them on ephemeral runners. Verify model files by digest " +
		"or signature before loading them in trusted jobs.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil || w.Action {
		return
	}
	type use struct {
		j    *Job
		path string
		pos  pipeline.Pos
		rw   bool
	}
	var uses []use
	for _, j := range w.Jobs {
		a := j.info
		if a == nil {
			continue
		}
		if j.Container != nil {
			for _, m := range j.Container.Volumes {
				if m.Source != "" && !strings.HasPrefix(m.Source, "${{") && modelPath.MatchString(m.Source+" "+m.Target) {
					uses = append(uses, use{j, m.Source, m.Pos, !m.ReadOnly})
				}
			}
		}
		if j.Container == nil && a.Runner.SelfHosted == pipeline.True {
			for _, e := range append(append([]pipeline.EnvVar(nil), w.Env...), j.Env...) {
				if cacheEnv[strings.ToUpper(e.Name)] && hostPath(e.Value) {
					uses = append(uses, use{j, e.Value, e.Pos, true})
				}
			}
			for _, st := range j.Steps {
				for _, e := range st.Env {
					if cacheEnv[strings.ToUpper(e.Name)] && hostPath(e.Value) {
						uses = append(uses, use{j, e.Value, e.Pos, true})
					}
				}
			}
		}
	}
	for _, u := range uses {
		a := u.j.info
		if !u.rw || len(a.ForkEvents) == 0 || !a.RunsPRCode.MaybeTrue() {
			continue
		}
		if a.Runner.SelfHosted != pipeline.True && a.Runner.GPU != pipeline.True {
			continue
		}
		sev := finding.High
		shared := ""
		for _, o := range uses {
			if o.j == u.j || o.path != u.path {
				continue
			}
			if s := o.j.info.Stage; s != nil && (len(s.Secrets) > 0 || s.IsPrivileged()) && !o.j.info.RunsPRCode.MaybeTrue() {
				sev = finding.Critical
				shared = " Job '" + o.j.ID + "', which holds secrets or publishes, uses the same path."
				break
			}
		}
		report(p, u.j, u.pos, sev, "Job '"+u.j.ID+"' runs pull request code ("+joinEvents(a.ForkEvents)+") on a self-hosted or GPU runner "+
			"with the host cache "+quote(u.path)+" writable; the pull request can plant models or data that later jobs load."+shared,
			"model-cache "+u.path)
	}
})

// modelPath matches host paths that hold models, datasets or checkpoints.
var modelPath = regexp.MustCompile(`(?i)(huggingface|\bhf[-_]|/hf\b|hf_home|\.cache|torch|transformers|\bmodels?\b|checkpoints?|ckpts?|datasets?|weights|/data\b|triton|vllm|ollama)`)

var cacheEnv = setOf("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_DATASETS_CACHE",
	"TORCH_HOME", "XDG_CACHE_HOME", "SENTENCE_TRANSFORMERS_HOME", "TORCH_EXTENSIONS_DIR", "VLLM_CACHE_ROOT", "TRITON_CACHE_DIR")

// hostPath reports whether an env value is a host path outside the job's
// own workspace and temp directory.
func hostPath(v string) bool {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "github.workspace") || strings.Contains(v, "runner.temp") || strings.Contains(v, "GITHUB_WORKSPACE") ||
		strings.Contains(v, "RUNNER_TEMP") {
		return false
	}
	return strings.HasPrefix(v, "/") || strings.HasPrefix(v, "~") || strings.HasPrefix(v, "$HOME") || strings.HasPrefix(v, "${HOME}")
}
