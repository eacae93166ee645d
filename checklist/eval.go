package checklist

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// Status is an item's outcome.
type Status string

// The outcomes.
const (
	Pass         Status = "pass"
	Fail         Status = "fail"
	Undetermined Status = "undetermined"
)

// Evidence is one thing that decided an item: a finding, or a stage.
type Evidence struct {
	Rule    string `json:"rule,omitempty"`
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Stage   string `json:"stage,omitempty"`
	Message string `json:"message"`
}

// ItemResult is one evaluated item.
type ItemResult struct {
	Item
	Status Status `json:"status"`
	// Reason says why, in one sentence.
	Reason   string     `json:"reason"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// Prove says, for an undetermined item, what would settle it.
	Prove string `json:"prove,omitempty"`
}

// Result is an evaluated checklist.
type Result struct {
	Items []ItemResult `json:"items"`
	// Score is the posture score, 0-100: the weight of passed items over
	// the weight of all items, critical items weighing 2 and others 1.
	// Undetermined items count as not passed.
	Score        int `json:"score"`
	Passed       int `json:"passed"`
	Failed       int `json:"failed"`
	Undetermined int `json:"undetermined"`
	// CriticalFailures are the IDs of failed critical items.
	CriticalFailures []string `json:"critical_failures"`
	// Pipelines and Stages count what the evidence came from.
	Pipelines int `json:"pipelines"`
	Stages    int `json:"stages"`
}

// maxEvidence bounds the evidence listed per item.
const maxEvidence = 20

// Evaluate checks items against the findings and pipeline graphs of an
// analysis (audit.Result's Report.Findings and Graphs; findings should be
// the ones left after configuration and suppressions).
func Evaluate(items []Item, findings []finding.Finding, graphs []*pipeline.Graph) *Result {
	c := &ctx{graphs: graphs, findings: findings}
	for _, g := range graphs {
		c.stages += len(g.Stages)
		for _, s := range g.Stages {
			if len(s.Steps) > 0 {
				c.withSteps++
			}
		}
	}
	res := &Result{Pipelines: len(graphs), Stages: c.stages, CriticalFailures: []string{}}
	total, passed := 0, 0
	for _, it := range items {
		r := c.evaluate(it)
		w := 1
		if it.Critical {
			w = 2
		}
		total += w
		switch r.Status {
		case Pass:
			res.Passed++
			passed += w
		case Fail:
			res.Failed++
			if it.Critical {
				res.CriticalFailures = append(res.CriticalFailures, it.ID)
			}
		default:
			res.Undetermined++
		}
		res.Items = append(res.Items, r)
	}
	if total > 0 {
		res.Score = (100*passed + total/2) / total
	}
	return res
}

type ctx struct {
	graphs    []*pipeline.Graph
	findings  []finding.Finding
	stages    int
	withSteps int // stages whose commands are known
}

func (c *ctx) evaluate(it Item) ItemResult {
	r := ItemResult{Item: it}
	rules := append(append([]string(nil), builtinRules[it.ID]...), it.Rules...)
	if ev := c.findingsOf(rules); len(ev) > 0 {
		r.Status, r.Evidence = Fail, ev
		r.Reason = fmt.Sprintf("%d finding(s) contradict this check", len(ev))
		if len(ev) == maxEvidence {
			r.Reason = fmt.Sprintf("at least %d findings contradict this check", maxEvidence)
		}
		return r
	}
	e, ok := evaluators[it.ID]
	if !ok {
		r.Status = Undetermined
		if len(it.Rules) > 0 {
			// The user named the rules that decide this item: none fired.
			if c.stages == 0 {
				r.Reason = "no pipeline definition was analyzed"
				r.Prove = "run the checklist on a checkout with pipeline files"
				return r
			}
			r.Status, r.Reason = Pass, "no finding of the listed rules"
			return r
		}
		r.Reason = "mlgate has no evidence for this check"
		r.Prove = "list the rules that decide it under `rules:` in the checklist, or check it by hand"
		return r
	}
	if c.stages == 0 {
		r.Status = Undetermined
		r.Reason = "no pipeline definition was analyzed"
		r.Prove = "run the checklist on a checkout with pipeline files (GitHub Actions, GitLab CI, Kubeflow, Argo or mlgate stage specs)"
		return r
	}
	e(c, &r)
	return r
}

// findingsOf returns evidence from findings of the given rule IDs (an ID
// ending in "/" or "-" matches as a prefix).
func (c *ctx) findingsOf(rules []string) []Evidence {
	if len(rules) == 0 {
		return nil
	}
	var out []Evidence
	for _, f := range c.findings {
		for _, r := range rules {
			if f.RuleID == r || (strings.HasSuffix(r, "/") || strings.HasSuffix(r, "-")) && strings.HasPrefix(f.RuleID, r) {
				out = append(out, Evidence{Rule: f.RuleID, File: f.Location.File, Line: f.Location.Line, Message: f.Message})
				break
			}
		}
		if len(out) == maxEvidence {
			break
		}
	}
	return out
}

// stageRef is a stage with its pipeline, for evidence.
type stageRef struct {
	g *pipeline.Graph
	s *pipeline.Stage
}

func (c *ctx) each(fn func(g *pipeline.Graph, s *pipeline.Stage)) {
	for _, g := range c.graphs {
		for _, s := range g.Stages {
			fn(g, s)
		}
	}
}

func (c *ctx) where(pred func(g *pipeline.Graph, s *pipeline.Stage) bool) []stageRef {
	var out []stageRef
	c.each(func(g *pipeline.Graph, s *pipeline.Stage) {
		if pred(g, s) {
			out = append(out, stageRef{g, s})
		}
	})
	return out
}

func stageEvidence(refs []stageRef, msg func(s *pipeline.Stage) string) []Evidence {
	var out []Evidence
	for _, r := range refs {
		if len(out) == maxEvidence {
			break
		}
		file := r.g.File
		if r.s.Pos.File != "" {
			file = r.s.Pos.File
		}
		out = append(out, Evidence{File: file, Line: r.s.Pos.Line, Stage: r.s.Name, Message: msg(r.s)})
	}
	return out
}

func names(refs []stageRef) string {
	var ns []string
	for i, r := range refs {
		if i == 5 {
			ns = append(ns, fmt.Sprintf("and %d more", len(refs)-5))
			break
		}
		ns = append(ns, r.s.Name)
	}
	return strings.Join(ns, ", ")
}

// untrustedInput reports whether a stage runs untrusted code or reads an
// untrusted artifact that no gate (scan, verify) checked before it.
func untrustedInput(g *pipeline.Graph, s *pipeline.Stage) pipeline.Tri {
	if s.RunsUntrustedCode == pipeline.True {
		return pipeline.True
	}
	// Tainted inputs that no gate stage inspected first (an explicitly
	// untrusted input is tainted too).
	if len(g.UncheckedTaintedInputs(s)) > 0 {
		return pipeline.True
	}
	return s.RunsUntrustedCode
}

// stepMatches reports whether any step of s runs text or uses an action
// matching re.
func stepMatches(s *pipeline.Stage, re *regexp.Regexp) bool {
	for i := range s.Steps {
		if re.MatchString(s.Steps[i].Run) || s.Steps[i].Uses != "" && re.MatchString(s.Steps[i].Uses) {
			return true
		}
	}
	return false
}

func (c *ctx) anyStep(re *regexp.Regexp) []stageRef {
	return c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool { return stepMatches(s, re) })
}

var (
	checksumRE  = regexp.MustCompile(`\b(sha256sum|sha512sum|shasum|b2sum|b3sum)\b|\bmlgate\s+(digest|sign|verify)\b|\bcosign\s+(sign|verify)|openssl\s+dgst`)
	verifyRE    = regexp.MustCompile(`\bmlgate\s+verify\b|\bcosign\s+verify|model_signing\s+verify|\bsigstore\s+verify|gh\s+attestation\s+verify`)
	installRE   = regexp.MustCompile(`\b(pip3?|uv\s+pip|conda|mamba|micromamba)\s+install\b|\bpython3?\s+-m\s+pip\s+install\b|\bpoetry\s+install\b|\buv\s+sync\b|\bnpm\s+(ci|install)\b`)
	vulnScanRE  = regexp.MustCompile(`\b(pip-audit|osv-scanner|grype|snyk|govulncheck|dependency-check)\b|\btrivy\s+(fs|image|repo|rootfs|sbom)\b|\bsafety\s+(check|scan)\b|\bnpm\s+audit\b|pypa/gh-action-pip-audit|aquasecurity/trivy-action|anchore/scan-action|google/osv-scanner|snyk/actions`)
	mlgateRunRE = regexp.MustCompile(`\bmlgate\s+run\b`)
	historyRE   = regexp.MustCompile(`\bmlgate\s+run\b[^\n]*--history\b`)
)

// builtinRules are the rules whose findings make a built-in item fail.
// Prefixes end in "/" or "-".
var builtinRules = map[string][]string{
	"dedicated-runners": {"pipeline/shared-runner-secret-exposure", "pipeline/gha-untrusted-trigger-self-hosted",
		"pipeline/gitlab-mr-self-hosted-runner", "pipeline/gha-fork-model-cache"},
	"untrusted-stages-isolated": {"pipeline/untrusted-code-no-isolation", "pipeline/argo-privileged-container",
		"pipeline/argo-host-namespace", "pipeline/gitlab-dind-privileged"},
	"untrusted-stages-no-network": {"pipeline/network-access-untrusted", "pipeline/exfiltration-path",
		"pipeline/training-network-access"},
	"gpu-memory-cleared": {"pipeline/shared-gpu-access"},
	"secrets-least-privilege": {"pipeline/secrets-in-untrusted-stage", "pipeline/shared-runner-secret-exposure",
		"pipeline/gha-secrets-fork-reachable", "pipeline/gha-gpu-key-to-pr-code", "pipeline/gha-secrets-inherit",
		"pipeline/gitlab-credential-in-mr-job", "pipeline/training-release-secrets", "pipeline/kfp-secret-env-unpinned-code",
		"pipeline/argo-secret-env-external-fetch"},
	"signing-dedicated-stage": {"pipeline/signing-stage-exposed", "pipeline/signing-in-training-stage"},
	"token-scope": {"pipeline/gha-excessive-permissions", "pipeline/argo-service-account-token",
		"pipeline/gitlab-job-token-exposure"},
	"models-signed":                 {"pipeline/unsigned-model-release"},
	"signatures-verified-at-deploy": {},
	"dependencies-hash-pinned": {"pipeline/unpinned-dependency-install", "pipeline/unsafe-package-index",
		"pipeline/kfp-unpinned-package", "pipeline/kfp-insecure-package-index", "pipeline/kfp-extra-index-url",
		"pipeline/remote-script-execution"},
	"vulnerability-scan": {"pipeline/no-dependency-scan"},
}

// evaluators decide built-in items from the graphs when no finding did.
var evaluators = map[string]func(c *ctx, r *ItemResult){
	"dedicated-runners": func(c *ctx, r *ItemResult) {
		shared := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool { return s.Runner == pipeline.RunnerShared })
		unknown := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool { return s.Runner == pipeline.RunnerUnknown })
		switch {
		case len(shared) > 0:
			r.Status, r.Reason = Fail, "stages run on shared runners: "+names(shared)
			r.Evidence = stageEvidence(shared, func(*pipeline.Stage) string { return "runs on a shared runner" })
		case len(unknown) > 0:
			r.Status, r.Reason = Undetermined, "the runner of some stages is not known from the files: "+names(unknown)
			r.Prove = "run on ephemeral hosted runners, or declare `runner: dedicated|ephemeral` (stage spec); self-hosted runner pools are configured outside the pipeline files"
		default:
			r.Status, r.Reason = Pass, "every stage runs on a dedicated or ephemeral runner"
		}
	},
	"untrusted-stages-isolated": func(c *ctx, r *ItemResult) {
		bad := c.where(func(g *pipeline.Graph, s *pipeline.Stage) bool {
			return untrustedInput(g, s) == pipeline.True && s.Isolation == pipeline.IsolationNone
		})
		unsure := c.where(func(g *pipeline.Graph, s *pipeline.Stage) bool {
			u := untrustedInput(g, s)
			return u == pipeline.True && s.Isolation == pipeline.IsolationUnknown || u == pipeline.Unknown && s.Isolation <= pipeline.IsolationNone
		})
		switch {
		case len(bad) > 0:
			r.Status, r.Reason = Fail, "stages process untrusted input without isolation: "+names(bad)
			r.Evidence = stageEvidence(bad, func(*pipeline.Stage) string { return "processes untrusted input with isolation none" })
		case len(unsure) > 0:
			r.Status, r.Reason = Undetermined, "whether these stages process untrusted input, or how they are isolated, is not known: "+names(unsure)
			r.Prove = "run untrusted work in a container or VM the pipeline file declares (job container, Kubernetes pod), or declare isolation in the stage spec"
		default:
			r.Status, r.Reason = Pass, "every stage that processes untrusted input is isolated (container, VM or hardware)"
		}
	},
	"untrusted-stages-no-network": func(c *ctx, r *ItemResult) {
		bad := c.where(func(g *pipeline.Graph, s *pipeline.Stage) bool {
			return untrustedInput(g, s) == pipeline.True && s.Network.Access == pipeline.True
		})
		unsure := c.where(func(g *pipeline.Graph, s *pipeline.Stage) bool {
			return untrustedInput(g, s) != pipeline.False && s.Network.Access == pipeline.Unknown
		})
		switch {
		case len(bad) > 0:
			r.Status, r.Reason = Fail, "stages that process untrusted input have network access: "+names(bad)
			r.Evidence = stageEvidence(bad, func(*pipeline.Stage) string { return "network access while processing untrusted input" })
		case len(unsure) > 0:
			r.Status, r.Reason = Undetermined, "network access of these stages is not known from the files: "+names(unsure)
			r.Prove = "run them with the network off (`--network none`, `mlgate run`, a deny-all NetworkPolicy) in a way the pipeline file shows"
		default:
			r.Status, r.Reason = Pass, "no stage that processes untrusted input has network access"
		}
	},
	"gpu-memory-cleared": func(c *ctx, r *ItemResult) {
		gpu := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool { return s.GPU == pipeline.True })
		reused := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool {
			return s.GPU == pipeline.True && s.Runner != pipeline.RunnerEphemeral
		})
		switch {
		case len(gpu) == 0:
			r.Status, r.Reason = Pass, "no stage is known to use a GPU"
		case len(reused) == 0:
			r.Status, r.Reason = Pass, "every GPU stage runs on an ephemeral runner (a fresh machine per job)"
		default:
			r.Status, r.Reason = Undetermined, "GPU stages run on runners that may be reused: "+names(reused)
			r.Prove = "clearing GPU memory between jobs is a runner setting (ephemeral GPU VMs, MIG reconfiguration or a GPU reset in the runner's job hooks); it cannot be seen in the pipeline files"
		}
	},
	"secrets-least-privilege": func(c *ctx, r *ItemResult) {
		bad := c.where(func(g *pipeline.Graph, s *pipeline.Stage) bool {
			if len(s.Secrets) == 0 {
				return false
			}
			if untrustedInput(g, s) == pipeline.True {
				return true
			}
			if s.HasRole("train") {
				for _, sec := range s.Secrets {
					if pipeline.IsSigningKeyName(sec.Name) {
						return true
					}
				}
			}
			return false
		})
		unsure := c.where(func(g *pipeline.Graph, s *pipeline.Stage) bool {
			return len(s.Secrets) > 0 && untrustedInput(g, s) == pipeline.Unknown
		})
		switch {
		case len(bad) > 0:
			r.Status, r.Reason = Fail, "secrets are available to stages that process untrusted input or train: "+names(bad)
			r.Evidence = stageEvidence(bad, func(s *pipeline.Stage) string {
				return "holds " + strings.Join(s.SecretNames(), ", ")
			})
		case len(unsure) > 0:
			r.Status, r.Reason = Undetermined, "stages hold secrets but whether they process untrusted input is not known: "+names(unsure)
			r.Prove = "declare which stages run untrusted code (stage spec) or move the secrets to a stage that only handles trusted artifacts"
		default:
			r.Status, r.Reason = Pass, "no stage that processes untrusted input holds secrets"
		}
	},
	"signing-dedicated-stage": func(c *ctx, r *ItemResult) {
		signers := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool { return s.HasRole(pipeline.RoleSign) })
		bad := c.where(func(g *pipeline.Graph, s *pipeline.Stage) bool {
			return s.HasRole(pipeline.RoleSign) && (untrustedInput(g, s) == pipeline.True || s.HasRole("train"))
		})
		switch {
		case len(bad) > 0:
			r.Status, r.Reason = Fail, "signing happens in stages that also train or process untrusted input: "+names(bad)
			r.Evidence = stageEvidence(bad, func(*pipeline.Stage) string { return "signs and trains or processes untrusted input" })
		case len(signers) == 0:
			r.Status, r.Reason = Undetermined, "no signing stage was found"
			r.Prove = "add a dedicated signing stage (e.g. `mlgate sign`) that only receives scanned artifacts"
		default:
			r.Status, r.Reason = Pass, "signing runs in dedicated stages: "+names(signers)
		}
	},
	"token-scope": func(c *ctx, r *ItemResult) {
		gha := 0
		for _, g := range c.graphs {
			if g.Format == "github-actions" {
				gha++
			}
		}
		if gha > 0 {
			r.Status, r.Reason = Pass, fmt.Sprintf("no excessive token permission was found in %d GitHub Actions workflow(s)", gha)
			return
		}
		r.Status, r.Reason = Undetermined, "token scopes of these pipelines are set in the CI system, not in the files"
		r.Prove = "GitHub Actions `permissions:` blocks are checked by mlgate; for GitLab, Kubernetes and others, review the job token and service-account scopes in their settings"
	},
	"models-signed": func(c *ctx, r *ItemResult) {
		release := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool {
			return s.HasRole(pipeline.RoleRegister) || s.HasRole(pipeline.RoleDeploy)
		})
		signers := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool { return s.HasRole(pipeline.RoleSign) })
		switch {
		case len(release) == 0:
			r.Status, r.Reason = Undetermined, "no stage registers, publishes or deploys a model"
			r.Prove = "the check applies where models are stored; analyze the pipeline that publishes them"
		case len(signers) == 0:
			r.Status, r.Reason = Fail, "models are released by "+names(release)+" but no stage signs them"
			r.Evidence = stageEvidence(release, func(*pipeline.Stage) string { return "releases without a signing stage in the pipeline" })
		default:
			r.Status, r.Reason = Pass, "released models come from signing stages"
		}
	},
	"checksums-each-stage": func(c *ctx, r *ItemResult) {
		if c.withSteps == 0 {
			r.Status, r.Reason = Undetermined, "the commands of the stages are not known (stage specs do not list them)"
			r.Prove = "compute and check digests in each stage (`mlgate digest`, `sha256sum -c`)"
			return
		}
		missing := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool {
			return len(s.Outputs) > 0 && len(s.Steps) > 0 && !stepMatches(s, checksumRE)
		})
		if len(missing) > 0 {
			r.Status, r.Reason = Fail, "stages hand on artifacts without computing checksums: "+names(missing)
			r.Evidence = stageEvidence(missing, func(*pipeline.Stage) string { return "produces artifacts, computes no digest" })
			return
		}
		r.Status, r.Reason = Pass, "every stage that produces artifacts computes their digests"
	},
	"signatures-verified-at-deploy": func(c *ctx, r *ItemResult) {
		deploy := c.where(func(_ *pipeline.Graph, s *pipeline.Stage) bool { return s.HasRole(pipeline.RoleDeploy) })
		if len(deploy) == 0 {
			r.Status, r.Reason = Undetermined, "no deployment stage was found"
			r.Prove = "analyze the pipeline that deploys models; its deploy stage should run `mlgate verify` or `cosign verify` first"
			return
		}
		var bad []stageRef
		for _, d := range deploy {
			ok := stepMatches(d.s, verifyRE)
			for _, a := range d.g.Ancestors(d.s) {
				if a.HasRole(pipeline.RoleVerify) {
					ok = true
				}
			}
			if !ok {
				bad = append(bad, d)
			}
		}
		if len(bad) > 0 {
			r.Status, r.Reason = Fail, "deployment stages do not verify signatures: "+names(bad)
			r.Evidence = stageEvidence(bad, func(*pipeline.Stage) string { return "deploys without a verification step or upstream verify stage" })
			return
		}
		r.Status, r.Reason = Pass, "every deployment verifies signatures first"
	},
	"dependencies-hash-pinned": func(c *ctx, r *ItemResult) {
		installs := c.anyStep(installRE)
		if c.withSteps == 0 {
			r.Status, r.Reason = Undetermined, "the commands of the stages are not known"
			r.Prove = "install dependencies with hashes (`pip install --require-hashes -r requirements.txt`, `uv sync --locked`, `npm ci`) in a step the pipeline file shows"
			return
		}
		if len(installs) == 0 {
			r.Status, r.Reason = Pass, "no stage installs dependencies"
			return
		}
		r.Status, r.Reason = Pass, "dependency installs were found and none was reported as unpinned"
	},
	"dependencies-resolved-first": func(c *ctx, r *ItemResult) {
		if c.withSteps == 0 {
			r.Status, r.Reason = Undetermined, "the commands of the stages are not known"
			r.Prove = "install dependencies in their own stage and pass the environment on as an artifact"
			return
		}
		bad := c.where(func(g *pipeline.Graph, s *pipeline.Stage) bool {
			return stepMatches(s, installRE) && untrustedInput(g, s) == pipeline.True
		})
		if len(bad) > 0 {
			r.Status, r.Reason = Fail, "stages install dependencies while processing untrusted input: "+names(bad)
			r.Evidence = stageEvidence(bad, func(*pipeline.Stage) string { return "installs dependencies and processes untrusted input" })
			return
		}
		r.Status, r.Reason = Pass, "no stage installs dependencies while processing untrusted input"
	},
	"vulnerability-scan": func(c *ctx, r *ItemResult) {
		if c.withSteps == 0 {
			r.Status, r.Reason = Undetermined, "the commands of the stages are not known"
			r.Prove = "run a dependency vulnerability scanner (pip-audit, osv-scanner, trivy, grype) in the pipeline"
			return
		}
		if scans := c.anyStep(vulnScanRE); len(scans) > 0 {
			r.Status, r.Reason = Pass, "a vulnerability scanner runs in: "+names(scans)
			return
		}
		if len(c.anyStep(installRE)) == 0 {
			r.Status, r.Reason = Undetermined, "no stage installs or scans dependencies"
			r.Prove = "scan the dependencies where they are installed (pip-audit, osv-scanner, trivy, grype)"
			return
		}
		r.Status, r.Reason = Fail, "dependencies are installed but no step runs a vulnerability scanner"
	},
	"logs-monitored": func(c *ctx, r *ItemResult) {
		r.Status, r.Reason = Undetermined, "log collection and monitoring are configured outside the pipeline files"
		r.Prove = "ship CI job logs to a monitored store (log forwarding settings, audit-log streaming) and keep the configuration where it can be reviewed"
	},
	"network-alerts": func(c *ctx, r *ItemResult) {
		if mon := c.anyStep(mlgateRunRE); len(mon) > 0 {
			r.Status, r.Reason = Pass, "stages run under `mlgate run`, which records and reports every connection: "+names(mon)
			return
		}
		r.Status, r.Reason = Undetermined, "no runtime monitor is visible in the pipeline files"
		r.Prove = "wrap untrusted stages in `mlgate run` (it reports every outbound connection) or show an egress-alerting setup"
	},
	"build-time-alerts": func(c *ctx, r *ItemResult) {
		if mon := c.anyStep(historyRE); len(mon) > 0 {
			r.Status, r.Reason = Pass, "stages run under `mlgate run --history`, which reports runs far longer than their history: "+names(mon)
			return
		}
		r.Status, r.Reason = Undetermined, "no build-time anomaly detection is visible in the pipeline files"
		r.Prove = "run stages under `mlgate run --history FILE`, or show the CI system's duration alerting"
	},
}

// sortedIDs is for tests and docs: the built-in item IDs with evaluators.
func sortedIDs() []string {
	var ids []string
	for id := range evaluators {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
