package gha

import (
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
)

// Event classes.
var (
	// forkEvents can be started by people without write access, with
	// content they control.
	forkEvents = setOf("pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment",
		"issue_comment", "issues", "discussion", "discussion_comment", "workflow_run")
	// privilegedEvents run in the base repository's context with its
	// secrets and a token that may write, even when an outsider starts
	// them. workflow_run counts: the triggering workflow usually runs on
	// pull requests (mlgate sees one file at a time).
	privilegedEvents = setOf("pull_request_target", "workflow_run", "issue_comment", "issues", "discussion", "discussion_comment")
	// prCodeEvents check out the pull request's merge commit by default
	// and get neither secrets nor a write token when it comes from a fork.
	prCodeEvents = setOf("pull_request", "pull_request_review", "pull_request_review_comment")
	// releaseEvents are how a release or publish workflow usually starts.
	releaseEvents = setOf("release", "registry_package", "deployment")
)

func setOf(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// HostedLabel reports whether a runs-on label names a GitHub-hosted
// runner image (ubuntu-*, windows-*, macos-* with a version or "latest").
func HostedLabel(l string) bool {
	l = strings.ToLower(l)
	for _, os := range []string{"ubuntu-", "windows-", "macos-"} {
		if rest, ok := strings.CutPrefix(l, os); ok {
			return strings.HasPrefix(rest, "latest") || len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9'
		}
	}
	return false
}

// GPULabels are the default label patterns that mean a GPU runner: a
// pattern without '*' must equal the label or one of its words (split on
// - _ . and space); with '*' it is a glob over the whole label.
var GPULabels = []string{"gpu", "gpus", "cuda", "nvidia", "a100", "h100", "h200", "b200", "l4", "l40", "l40s", "t4",
	"v100", "a10", "a10g", "a6000", "rtx", "linux.g5*", "linux.g6*", "linux.g4dn*", "linux.p4*", "linux.p5*",
	"g5.*", "g6.*", "g4dn.*", "p3.*", "p4d.*", "gpu-*", "*-gpu*"}

// GPULabel reports whether label matches one of the patterns.
func GPULabel(label string, patterns []string) bool {
	l := strings.ToLower(label)
	words := strings.FieldsFunc(l, func(r rune) bool { return r == '-' || r == '_' || r == '.' || r == ' ' || r == '/' })
	for _, p := range patterns {
		p = strings.ToLower(p)
		if strings.Contains(p, "*") {
			if ok, _ := path.Match(p, l); ok {
				return true
			}
			continue
		}
		if l == p {
			return true
		}
		for _, w := range words {
			if w == p {
				return true
			}
		}
	}
	return false
}

// RunnerClass summarises a job's candidate runners.
type RunnerClass struct {
	// SelfHosted is True when some candidate is self-hosted (the
	// `self-hosted` label, a runner group, or a label that is not a
	// GitHub-hosted image), Unknown when runs-on could not be resolved.
	SelfHosted pipeline.Tri
	// GPU is True when some candidate's label matches a GPU pattern.
	GPU pipeline.Tri
	// Labels are the candidate labels that decided it.
	Labels []string
}

// ClassifyRunners classifies j's candidate runners with the given GPU
// patterns (GPULabels when nil).
func ClassifyRunners(j *Job, gpuPatterns []string) RunnerClass {
	if gpuPatterns == nil {
		gpuPatterns = GPULabels
	}
	rc := RunnerClass{SelfHosted: pipeline.False, GPU: pipeline.False}
	if j.Uses != "" {
		rc.SelfHosted, rc.GPU = pipeline.Unknown, pipeline.Unknown // a reusable workflow decides
		return rc
	}
	var selfL, gpuL []string
	for _, r := range j.Runners {
		hosted := r.Group == "" && len(r.Labels) > 0
		for _, l := range r.Labels {
			if strings.EqualFold(l, "self-hosted") || !HostedLabel(l) {
				hosted = false
				selfL = append(selfL, l)
			}
			if GPULabel(l, gpuPatterns) {
				gpuL = append(gpuL, l)
			}
		}
		if r.Group != "" {
			selfL = append(selfL, "group:"+r.Group)
			if GPULabel(r.Group, gpuPatterns) {
				gpuL = append(gpuL, "group:"+r.Group)
			}
		}
		if !hosted {
			rc.SelfHosted = pipeline.True
		}
	}
	if j.Container != nil && j.Container.GPUs {
		rc.GPU = pipeline.True
		gpuL = append(gpuL, "container --gpus")
	}
	if len(gpuL) > 0 {
		rc.GPU = pipeline.True
	}
	if j.RunsOnUnresolved {
		if rc.SelfHosted == pipeline.False {
			rc.SelfHosted = pipeline.Unknown
		}
		if rc.GPU == pipeline.False {
			rc.GPU = pipeline.Unknown
		}
	}
	rc.Labels = dedupe(append(selfL, gpuL...))
	return rc
}

// Analysis is what the adapter inferred about a job; rules read it from
// Job.Info.
type Analysis struct {
	// Events are the triggers that can run the job (the job's `if:`
	// applied).
	Events []string
	// ForkEvents are those of Events that outsiders can start;
	// PrivilegedForkEvents those that also give secrets and a write token.
	ForkEvents, PrivilegedForkEvents []string
	// Checkout is the first step that checks out pull request code under
	// a privileged event (-1 when none); CheckoutUnknown is true when a
	// checkout's ref is an expression mlgate cannot evaluate.
	Checkout        int
	CheckoutUnknown bool
	// ChecksOut is true when the job checks out the repository at all.
	ChecksOut bool
	// RunsAfterCheckout is true when a step after Checkout runs code.
	RunsAfterCheckout bool
	// RunsPRCode is the job's RunsUntrustedCode: pull request code runs
	// under some event.
	RunsPRCode pipeline.Tri
	// PrivilegedPRCode is whether pull request code runs under one of
	// PrivilegedForkEvents (with secrets and a token that may write).
	PrivilegedPRCode pipeline.Tri
	Runner           RunnerClass
	// Stage is the stage made from the job.
	Stage *pipeline.Stage
}

// Info returns what the adapter inferred about j.
func (j *Job) Info() *Analysis { return j.info }

// HasTrigger reports whether the workflow has event ev.
func (w *Workflow) HasTrigger(ev string) bool {
	for _, t := range w.Triggers {
		if t.Event == ev {
			return true
		}
	}
	return false
}

// Trigger returns the trigger for ev, or nil.
func (w *Workflow) Trigger(ev string) *Trigger {
	for i := range w.Triggers {
		if w.Triggers[i].Event == ev {
			return &w.Triggers[i]
		}
	}
	return nil
}

// prRefPattern matches expressions and text that name a pull request's
// head: what a checkout of untrusted code looks like.
var prRefPattern = regexp.MustCompile(`(?i)(github\.event\.pull_request\.head\.(sha|ref|repo)|github\.head_ref|refs/pull/|github\.event\.workflow_run\.head_(sha|branch|commit|repository)|github\.event\.pull_request\.merge_commit_sha|github\.event\.issue\.pull_request|github\.event\.number|github\.event\.pull_request\.number|github\.event\.issue\.number|pull/\$\{\{)`)

// scriptCheckout matches shell commands that fetch or check out a pull
// request.
var scriptCheckout = regexp.MustCompile(`(?i)(\bgh\s+pr\s+checkout\b|\bhub\s+pr\s+checkout\b|\bgit\s+fetch\b[^\n]*\bpull/|\bgit\s+(checkout|switch|reset)\b[^\n]*(head\.(sha|ref)|head_ref|head_sha|pull/|FETCH_HEAD))`)

// actionName returns a step's action without the ref, lower-cased
// ("actions/checkout").
func actionName(uses string) string {
	u := strings.ToLower(uses)
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	return u
}

func isCheckout(st *Step) bool { return actionName(st.Uses) == "actions/checkout" }

// checkoutKind says what a step checks out: 0 nothing, 1 the trigger's
// default (base) commit, 2 pull request code, 3 something mlgate cannot
// evaluate.
func checkoutKind(st *Step) int {
	if isCheckout(st) {
		ref, repo := st.With["ref"].Value, st.With["repository"].Value
		for _, v := range []string{ref, repo} {
			if v != "" && prRefPattern.MatchString(v) {
				return 2
			}
		}
		for _, v := range []string{ref, repo} {
			if strings.Contains(v, "${{") && !safeRef(v) {
				return 3
			}
		}
		return 1
	}
	if st.Run == "" || !mayCheckout(st.Run) {
		return 0
	}
	if scriptCheckout.MatchString(st.Run) {
		return 2
	}
	if (strings.Contains(st.Run, "git clone") || strings.Contains(st.Run, "git checkout")) && prRefPattern.MatchString(st.Run) {
		return 2
	}
	return 0
}

// mayCheckout is a cheap test that a script could fetch or check out a
// pull request, before the regular expressions run.
func mayCheckout(run string) bool {
	if strings.Contains(run, "pull/") || strings.Contains(run, "pr checkout") {
		return true
	}
	return strings.Contains(run, "git ") && (strings.Contains(run, "head") || strings.Contains(run, "HEAD") ||
		strings.Contains(run, "pull") || strings.Contains(run, "sha"))
}

// scriptContinues reports whether a script that checks out a pull
// request runs further commands after the checkout command.
func scriptContinues(run string) bool {
	loc := scriptCheckout.FindStringIndex(run)
	if loc == nil {
		return false
	}
	rest := run[loc[1]:]
	line, after, _ := strings.Cut(rest, "\n")
	if strings.Contains(line, "&&") || strings.Contains(line, ";") || strings.Contains(line, "||") {
		return true
	}
	return strings.TrimSpace(after) != ""
}

// safeRef reports whether a ref expression names only trusted commits.
func safeRef(v string) bool {
	for _, e := range findExprs(v) {
		n := normalize(e.Inner)
		switch n {
		case "github.sha", "github.ref", "github.ref_name", "github.base_ref", "github.event.pull_request.base.sha",
			"github.event.pull_request.base.ref", "github.repository", "github.event.repository.default_branch",
			"github.event.release.tag_name", "github.event.inputs.ref", "inputs.ref", "github.event.repository.full_name":
			continue
		}
		if strings.HasPrefix(n, "inputs.") || strings.HasPrefix(n, "github.event.inputs.") || strings.HasPrefix(n, "matrix.") ||
			strings.HasPrefix(n, "env.") || strings.HasPrefix(n, "vars.") {
			continue // chosen by maintainers (dispatch inputs, matrix, variables)
		}
		return false
	}
	return true
}

// inert actions run no code of the checked-out repository.
func inertAction(uses string) bool {
	a := actionName(uses)
	switch a {
	case "actions/upload-artifact", "actions/download-artifact", "actions/cache", "actions/cache/restore",
		"actions/cache/save", "actions/checkout", "actions/labeler", "actions/stale",
		"peter-evans/create-or-update-comment", "marocchino/sticky-pull-request-comment", "actions/github-script":
		return a != "actions/github-script"
	}
	return strings.HasPrefix(a, "actions/setup-")
}

// stepRunsCode reports whether a step may execute checked-out code.
func stepRunsCode(st *Step) bool {
	if st.Run != "" {
		return true
	}
	if st.Uses == "" {
		return false
	}
	return !inertAction(st.Uses)
}

// infer fills g's stages from w.
func infer(w *Workflow, g *pipeline.Graph) {
	uploads := map[string][]int{} // artifact name -> jobs uploading it
	for i, j := range w.Jobs {
		for _, st := range j.Steps {
			if actionName(st.Uses) == "actions/upload-artifact" {
				uploads[artifactName(st)] = append(uploads[artifactName(st)], i)
			}
		}
	}
	index := map[string]int{}
	for i, j := range w.Jobs {
		index[j.ID] = i
	}
	for _, j := range w.Jobs {
		j.info = analyse(w, j)
		s := stage(w, j)
		j.info.Stage = s
		g.Stages = append(g.Stages, s)
	}
	// Artifact inputs: only from jobs this one needs (directly or not),
	// which is when download-artifact can see them.
	for i, j := range w.Jobs {
		anc := ancestors(w, index, i)
		s := g.Stages[i]
		for _, st := range j.Steps {
			if actionName(st.Uses) != "actions/download-artifact" || st.With["run-id"].Value != "" || st.With["github-token"].Value != "" {
				continue
			}
			name := st.With["name"].Value
			pattern := st.With["pattern"].Value
			var names []string
			if name != "" {
				names = []string{name}
			} else {
				for n := range uploads {
					if pattern == "" || globMatch(pattern, n) {
						names = append(names, n)
					}
				}
				sort.Strings(names)
			}
			for _, n := range names {
				from, tainting := false, false
				for _, u := range uploads[n] {
					if anc[u] {
						from = true
						if sharesUntrustedRun(w.Jobs[u].info, j.info) {
							tainting = true
						}
					}
				}
				switch {
				case tainting || from && !anyUntrusted(w, uploads[n], anc):
					s.Inputs = append(s.Inputs, pipeline.Input{Artifact: "artifact:" + n, Pos: st.UsesPos})
				case from:
					// The producers run untrusted code only for events
					// this job never runs for: in the runs where this job
					// downloads the artifact, it was built from trusted
					// code. A separate name keeps that taint away.
					s.Inputs = append(s.Inputs, pipeline.Input{Artifact: "artifact:" + n + " (trusted runs)", Pos: st.UsesPos})
				}
			}
		}
	}
}

// untrustedEvents returns the events in which a job runs pull request
// code; nil (with all=true) when that cannot be told apart by event.
func untrustedEvents(a *Analysis) (evs map[string]bool, all bool) {
	if a == nil || a.RunsPRCode == pipeline.False {
		return nil, false
	}
	evs = map[string]bool{}
	if a.PrivilegedPRCode.MaybeTrue() {
		for _, ev := range a.PrivilegedForkEvents {
			evs[ev] = true
		}
		if a.PrivilegedPRCode == pipeline.Unknown && len(a.PrivilegedForkEvents) == 0 {
			return nil, true
		}
	}
	for _, ev := range a.Events {
		if prCodeEvents[ev] {
			evs[ev] = true
		}
	}
	if len(evs) == 0 {
		return nil, true
	}
	return evs, false
}

// sharesUntrustedRun reports whether the consumer can run in a run where
// the producer runs pull request code (the artifact then carries it).
func sharesUntrustedRun(producer, consumer *Analysis) bool {
	evs, all := untrustedEvents(producer)
	if all {
		return true
	}
	if len(evs) == 0 {
		return false
	}
	for _, ev := range consumer.Events {
		if evs[ev] {
			return true
		}
	}
	return false
}

func anyUntrusted(w *Workflow, producers []int, anc map[int]bool) bool {
	for _, u := range producers {
		if anc[u] && w.Jobs[u].info != nil && w.Jobs[u].info.RunsPRCode != pipeline.False {
			return true
		}
	}
	return false
}

func globMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// artifactName is an upload's or download's `name` input; upload-artifact
// defaults to "artifact".
func artifactName(st *Step) string {
	if n := st.With["name"].Value; n != "" {
		return n
	}
	return "artifact"
}

// ancestors returns the jobs job i needs, transitively.
func ancestors(w *Workflow, index map[string]int, i int) map[int]bool {
	seen := map[int]bool{}
	stack := []int{i}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, n := range w.Jobs[x].Needs {
			k, ok := index[n]
			if ok && !seen[k] {
				seen[k] = true
				stack = append(stack, k)
			}
		}
	}
	return seen
}

// analyse computes j's Analysis.
func analyse(w *Workflow, j *Job) *Analysis {
	a := &Analysis{Checkout: -1}
	guard, evGuard := guardOf(j.If), eventGuardOf(j.If)
	for _, t := range w.Triggers {
		if guard.Excludes(t.Event) && (forkEvents[t.Event] || t.Event == "workflow_call") || evGuard.Excludes(t.Event) {
			continue
		}
		a.Events = append(a.Events, t.Event)
		if forkEvents[t.Event] {
			a.ForkEvents = append(a.ForkEvents, t.Event)
			if privilegedEvents[t.Event] {
				a.PrivilegedForkEvents = append(a.PrivilegedForkEvents, t.Event)
			}
		}
	}
	if w.Action {
		a.RunsPRCode = pipeline.False
		// An action does not choose its runner or hardware; its callers do.
		a.Runner = RunnerClass{SelfHosted: pipeline.Unknown, GPU: pipeline.False}
		return a
	}
	a.Runner = ClassifyRunners(j, nil)
	prCode := false
	called := false
	for _, ev := range a.Events {
		if prCodeEvents[ev] {
			prCode = true
		}
		if ev == "workflow_call" {
			called = true
		}
	}
	for _, st := range j.Steps {
		k := checkoutKind(st)
		if k != 0 {
			a.ChecksOut = true
		}
		if strings.HasPrefix(st.Uses, "./") {
			a.ChecksOut = a.ChecksOut || st.Index > 0
		}
		switch {
		case k == 2 && a.Checkout < 0:
			a.Checkout = st.Index
			if scriptContinues(st.Run) {
				a.RunsAfterCheckout = true
			}
		case k == 3:
			if a.Checkout < 0 {
				a.CheckoutUnknown = true
			}
		}
		if a.Checkout >= 0 && st.Index > a.Checkout && stepRunsCode(st) {
			a.RunsAfterCheckout = true
		}
		if a.CheckoutUnknown && a.Checkout < 0 && stepRunsCode(st) && k == 0 {
			a.RunsAfterCheckout = true
		}
	}
	localCode := strings.HasPrefix(j.Uses, "./")
	for _, st := range j.Steps {
		if strings.HasPrefix(st.Uses, "./") {
			localCode = true
		}
	}
	a.PrivilegedPRCode = pipeline.False
	switch {
	case len(a.PrivilegedForkEvents) > 0 && a.Checkout >= 0 && a.RunsAfterCheckout:
		a.PrivilegedPRCode = pipeline.True
	case len(a.PrivilegedForkEvents) > 0 && a.CheckoutUnknown && a.RunsAfterCheckout:
		a.PrivilegedPRCode = pipeline.Unknown
	case called && (a.ChecksOut || localCode) && len(a.Events) == 1:
		a.PrivilegedPRCode = pipeline.Unknown // depends on the caller's event
	}
	a.RunsPRCode = a.PrivilegedPRCode
	switch {
	case prCode && (a.ChecksOut || localCode):
		a.RunsPRCode = pipeline.True
	case prCode && j.Uses != "" && a.RunsPRCode == pipeline.False:
		a.RunsPRCode = pipeline.Unknown
	}
	return a
}

// untrustedSecretEvents are the events in which the job can run
// untrusted code and still read secrets.
func untrustedSecretEvents(a *Analysis) []string {
	if a.PrivilegedPRCode == pipeline.False {
		return nil
	}
	out := append([]string(nil), a.PrivilegedForkEvents...)
	if a.PrivilegedPRCode == pipeline.Unknown {
		for _, ev := range a.Events {
			if ev == "workflow_call" {
				out = append(out, ev)
			}
		}
	}
	return out
}

// Available reports whether a secret read is available in some run of
// one of the events evs.
func (r SecretRef) Available(evs []string) bool {
	for _, ev := range evs {
		if !r.Guard.Excludes(ev) {
			return true
		}
	}
	return false
}

// stage builds the stage of a job.
func stage(w *Workflow, j *Job) *pipeline.Stage {
	a := j.info
	s := &pipeline.Stage{Name: j.ID, Pos: j.Pos, Kind: "job", Fields: map[string]pipeline.Pos{}}
	if w.Action {
		s.Kind = "action"
	}
	s.RunsUntrustedCode = a.RunsPRCode
	switch {
	case len(a.ForkEvents) > 0:
		s.ForkReachable = pipeline.True
	case w.Action:
		s.ForkReachable = pipeline.Unknown
	default:
		s.ForkReachable = pipeline.False
		for _, ev := range a.Events {
			if ev == "workflow_call" {
				s.ForkReachable = pipeline.Unknown
			}
		}
	}
	if a.Checkout >= 0 {
		s.Fields["runs_untrusted_code"] = j.Steps[a.Checkout].Pos
	} else if len(a.ForkEvents) > 0 {
		if t := w.Trigger(a.ForkEvents[0]); t != nil {
			s.Fields["runs_untrusted_code"] = t.Pos
		}
	}
	// Runner and isolation.
	s.SelfHosted = a.Runner.SelfHosted
	s.GPU = a.Runner.GPU
	for _, r := range j.Runners {
		s.RunnerLabels = append(s.RunnerLabels, r.Labels...)
		if r.Group != "" {
			s.RunnerLabels = append(s.RunnerLabels, "group:"+r.Group)
		}
	}
	s.RunnerLabels = dedupe(s.RunnerLabels)
	switch {
	case w.Action:
		s.Isolation, s.Runner = pipeline.IsolationUnknown, pipeline.RunnerUnknown
	case s.SelfHosted == pipeline.False:
		s.Isolation, s.Runner = pipeline.IsolationVM, pipeline.RunnerEphemeral
	case s.SelfHosted == pipeline.True && j.Container != nil:
		s.Isolation = pipeline.IsolationContainer
	case s.SelfHosted == pipeline.True:
		s.Isolation = pipeline.IsolationNone
	}
	if j.RunsOnPos.Line > 0 {
		s.Fields["runs-on"] = j.RunsOnPos
		s.Fields["runner"] = j.RunsOnPos
		s.Fields["isolation_level"] = j.RunsOnPos
		s.Fields["has_gpu_access"] = j.RunsOnPos
		s.Fields["has_network_access"] = j.RunsOnPos
	}
	s.Network.Access = pipeline.True
	if j.Container != nil {
		s.Fields["container"] = j.Container.Pos
		if s.SelfHosted == pipeline.True {
			s.Fields["isolation_level"] = j.Container.Pos
		}
		s.Images = append(s.Images, pipeline.Image{Ref: j.Container.Image, Pos: j.Container.Pos, Kind: "job"})
		if j.Container.OptionsPos.Line > 0 {
			s.Fields["has_network_access"] = j.Container.OptionsPos
			if j.Container.GPUs {
				s.Fields["has_gpu_access"] = j.Container.OptionsPos
			}
		}
		if j.Container.NoNetwork {
			s.Network.Access = pipeline.False
		}
		for _, m := range j.Container.Volumes {
			s.Volumes = append(s.Volumes, mountVolume(m))
		}
		if w.Action && (strings.HasPrefix(j.Container.Image, "Dockerfile") || !strings.HasPrefix(j.Container.Image, "docker://")) {
			s.Images[len(s.Images)-1].Kind = "build"
		}
	}
	for _, c := range j.Services {
		s.Images = append(s.Images, pipeline.Image{Ref: c.Image, Pos: c.Pos, Kind: "service"})
	}
	// Environment.
	s.Env = append(append(s.Env, w.Env...), j.Env...)
	// Steps, images of docker:// actions, caches.
	for _, st := range j.Steps {
		ps := st.Step
		for _, r := range j.Secrets {
			if r.Step == st.Index && r.Name != "*" && r.Name != "GITHUB_TOKEN" {
				ps.Secrets = append(ps.Secrets, pipeline.Secret{Name: r.Name, Pos: r.Pos})
			}
		}
		s.Steps = append(s.Steps, ps)
		if strings.HasPrefix(st.Uses, "docker://") {
			s.Images = append(s.Images, pipeline.Image{Ref: strings.TrimPrefix(st.Uses, "docker://"), Pos: st.UsesPos, Kind: "step"})
		}
		if key, ok := cacheKey(st); ok {
			s.Volumes = append(s.Volumes, pipeline.Volume{Name: "cache:" + key, Kind: "cache", ReadOnly: pipeline.False, Pos: st.Pos})
			// A cache written by a run of untrusted code in the base
			// branch's context poisons later trusted runs; pull_request
			// runs write caches scoped to their merge ref, which other
			// refs do not read.
			restores := actionName(st.Uses) != "actions/cache/save"
			saves := actionName(st.Uses) != "actions/cache/restore"
			if a.PrivilegedPRCode.MaybeTrue() && len(a.PrivilegedForkEvents) > 0 && saves {
				s.Outputs = append(s.Outputs, pipeline.Output{Artifact: "cache:" + key, Pos: st.Pos})
			} else if a.RunsPRCode == pipeline.False && restores {
				s.Inputs = append(s.Inputs, pipeline.Input{Artifact: "cache:" + key, Pos: st.Pos})
			}
		}
		if actionName(st.Uses) == "actions/upload-artifact" {
			s.Outputs = append(s.Outputs, pipeline.Output{Artifact: "artifact:" + artifactName(st), Pos: st.UsesPos})
		}
	}
	// Secrets.
	evs := untrustedSecretEvents(a)
	seen := map[string]bool{}
	for _, r := range j.Secrets {
		if r.Name == "GITHUB_TOKEN" || seen[r.Name] {
			continue
		}
		if a.RunsPRCode != pipeline.False && !r.Available(evs) {
			continue // withheld from the runs that execute untrusted code
		}
		if r.Name == "*" {
			if r.Serialized {
				seen["*"] = true
				s.Secrets = append(s.Secrets, pipeline.Secret{Name: "(all secrets)", Pos: r.Pos})
			}
			continue
		}
		seen[r.Name] = true
		s.Secrets = append(s.Secrets, pipeline.Secret{Name: r.Name, Pos: r.Pos})
	}
	if j.SecretsInherit && !seen["*"] && (a.RunsPRCode == pipeline.False || len(evs) > 0) {
		s.Secrets = append(s.Secrets, pipeline.Secret{Name: "(all secrets, inherited)", Pos: j.SecretsPos})
	}
	if perm := effectivePermissions(w, j); len(perm.Writes()) > 0 && (a.RunsPRCode == pipeline.False || len(evs) > 0) {
		s.Secrets = append(s.Secrets, pipeline.Secret{Name: "GITHUB_TOKEN", Pos: perm.Pos})
	}
	if len(s.Secrets) > 0 {
		s.Fields["secrets_available"] = s.Secrets[0].Pos
	}
	s.Fields["name"] = j.Pos
	pipeline.InferRoles(s)
	return s
}

// effectivePermissions is the job's permissions block, else the
// workflow's; nil when neither sets one (the repository default applies).
func effectivePermissions(w *Workflow, j *Job) *Permissions {
	if j.Permissions != nil {
		return j.Permissions
	}
	return w.Permissions
}

func mountVolume(m Mount) pipeline.Volume {
	v := pipeline.Volume{Path: m.Target, ReadOnly: pipeline.TriOf(m.ReadOnly), Pos: m.Pos}
	switch {
	case m.Source == "":
		v.Kind, v.Name = "emptyDir", "anonymous:"+m.Target
	case strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "~") || strings.HasPrefix(m.Source, "$") || strings.HasPrefix(m.Source, "."):
		v.Kind, v.Name = "hostPath", "hostPath:"+m.Source
	default:
		v.Kind, v.Name = "volume", "volume:"+m.Source
	}
	return v
}

// cacheKey returns the cache a step restores or saves: actions/cache's key,
// or "<action>-<cache input>" for setup-* actions with `cache:` set.
func cacheKey(st *Step) (string, bool) {
	a := actionName(st.Uses)
	switch {
	case a == "actions/cache" || a == "actions/cache/restore" || a == "actions/cache/save":
		k := st.With["key"].Value
		if k == "" {
			k = st.With["path"].Value
		}
		return k, true
	case strings.HasPrefix(a, "actions/setup-") || a == "astral-sh/setup-uv" || a == "mamba-org/setup-micromamba" ||
		a == "conda-incubator/setup-miniconda" || a == "pnpm/action-setup":
		if c, ok := st.With["cache"]; ok && c.Value != "" && c.Value != "false" {
			return path.Base(a) + "-" + c.Value, true
		}
		if c, ok := st.With["enable-cache"]; ok && c.Value == "true" {
			return path.Base(a), true
		}
		if c, ok := st.With["cache-downloads"]; ok && c.Value == "true" {
			return path.Base(a), true
		}
	}
	return "", false
}
