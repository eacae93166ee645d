// Package pipeline holds mlgate's format-independent model of an ML
// pipeline — stages joined by the artifacts they produce and consume — and
// the rules that audit it.
//
// Adapters (pipeline/spec today; GitHub Actions, GitLab CI, Kubeflow and
// Argo later) parse one format each into a *Graph. Rules only ever see the
// Graph, so one rule covers every format. Properties an adapter cannot infer
// are Unknown, never silently false; rules treat Unknown conservatively and
// say so in their messages.
package pipeline

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Tri is a three-valued boolean: a property may be known true, known false,
// or not inferable from the source.
type Tri int8

// The three values of a Tri. The zero value is Unknown.
const (
	Unknown Tri = iota
	False
	True
)

// TriOf converts a known bool.
func TriOf(b bool) Tri {
	if b {
		return True
	}
	return False
}

// MaybeTrue reports whether the value is True or Unknown: what a
// conservative rule must assume.
func (t Tri) MaybeTrue() bool { return t != False }

func (t Tri) String() string {
	switch t {
	case True:
		return "true"
	case False:
		return "false"
	}
	return "unknown"
}

// Isolation is how strongly a stage is isolated from its host.
type Isolation int8

// Isolation levels, weakest first. IsolationUnknown is the zero value.
const (
	IsolationUnknown Isolation = iota
	IsolationNone
	IsolationContainer
	IsolationVM
	IsolationHardware
)

var isolationNames = map[Isolation]string{
	IsolationUnknown:   "unknown",
	IsolationNone:      "none",
	IsolationContainer: "container",
	IsolationVM:        "vm",
	IsolationHardware:  "hardware",
}

func (i Isolation) String() string { return isolationNames[i] }

// ParseIsolation parses none|container|vm|hardware.
func ParseIsolation(s string) (Isolation, bool) {
	for k, v := range isolationNames {
		if v == s && k != IsolationUnknown {
			return k, true
		}
	}
	return IsolationUnknown, false
}

// Runner is the kind of machine a stage runs on.
type Runner int8

// Runner kinds. RunnerUnknown is the zero value.
const (
	RunnerUnknown Runner = iota
	RunnerShared
	RunnerDedicated
	RunnerEphemeral
)

var runnerNames = map[Runner]string{
	RunnerUnknown:   "unknown",
	RunnerShared:    "shared",
	RunnerDedicated: "dedicated",
	RunnerEphemeral: "ephemeral",
}

func (r Runner) String() string { return runnerNames[r] }

// ParseRunner parses shared|dedicated|ephemeral.
func ParseRunner(s string) (Runner, bool) {
	for k, v := range runnerNames {
		if v == s && k != RunnerUnknown {
			return k, true
		}
	}
	return RunnerUnknown, false
}

// Trust is the trust placed in an input artifact.
type Trust int8

// Trust values. TrustUnspecified means the source said nothing.
const (
	TrustUnspecified Trust = iota
	TrustTrusted
	TrustUntrusted
)

// Role is what a stage does for the pipeline's security, as far as the graph
// rules care: gates (scan, verify), signing, release (register, deploy),
// and the ML work that handles untrusted data (train, validate).
type Role string

// The roles graph rules know about. Only sign, register and deploy make a
// stage privileged (see Stage.IsPrivileged); train and validate describe
// the work, for rules about what such stages may hold or reach.
const (
	RoleScan     Role = "scan"
	RoleVerify   Role = "verify"
	RoleSign     Role = "sign"
	RoleRegister Role = "register"
	RoleDeploy   Role = "deploy"
	RoleTrain    Role = "train"
	RoleValidate Role = "validate"
)

// Roles lists the security roles, the ones a stage spec may declare.
var Roles = []Role{RoleScan, RoleVerify, RoleSign, RoleRegister, RoleDeploy}

// WorkRoles lists the roles that describe ML work; they are only inferred
// (from names and steps), never declared.
var WorkRoles = []Role{RoleTrain, RoleValidate}

// allRoles is Roles then WorkRoles: the order in which Stage.Roles lists
// inferred roles.
var allRoles = append(append([]Role(nil), Roles...), WorkRoles...)

// Pos is a 1-based line and column in the source file; zero means unknown.
// File is set only when the position is in another file than the graph's
// (a GitLab include, a Dockerfile the pipeline builds).
type Pos struct {
	Line, Column int
	File         string
}

// Network describes a stage's network access. Access is True with a
// non-empty Allow list when egress is restricted to those hosts.
type Network struct {
	Access Tri
	Allow  []string
}

// Input is an artifact a stage consumes.
type Input struct {
	Artifact string
	Trust    Trust
	Pos      Pos
}

// Output is an artifact a stage produces.
type Output struct {
	Artifact string
	Pos      Pos
}

// Secret is a credential available to a stage.
type Secret struct {
	Name string
	Pos  Pos
}

// Stage is one step of a pipeline.
type Stage struct {
	Name              string
	Pos               Pos
	Inputs            []Input
	Outputs           []Output
	RunsUntrustedCode Tri
	Network           Network
	GPU               Tri
	Secrets           []Secret
	Isolation         Isolation
	Runner            Runner
	// Roles are the stage's security roles; RolesInferred is true when they
	// were guessed from the stage's name and secrets rather than declared.
	Roles         []Role
	RolesInferred bool
	// Fields records where each property was written in the source, keyed by
	// the source's own key name, so findings can point at the exact line.
	Fields map[string]Pos

	// The fields below are filled by the CI-format adapters; the stage spec
	// leaves them empty.

	// Kind is the source's word for the stage ("job", "template", "task").
	Kind string
	// Steps are the commands and actions the stage runs, in order.
	Steps []Step
	// Images are the container images the stage and its services run.
	Images []Image
	// Volumes are shared or persistent storage mounted into the stage.
	Volumes []Volume
	// Env are environment variables set for the whole stage.
	Env []EnvVar
	// ForkReachable is True when people without write access can make the
	// stage run with code or input they control (fork pull requests,
	// merge requests from forks, issue comments).
	ForkReachable Tri
	// SelfHosted is True when the stage runs on a machine the project
	// operates (self-hosted runners, own Kubernetes nodes) rather than a
	// fresh hosted VM; RunnerLabels are the labels or tags that chose it.
	SelfHosted   Tri
	RunnerLabels []string

	idx int // position in Graph.Stages, set by Build
}

// HasRole reports whether the stage has role r.
func (s *Stage) HasRole(r Role) bool {
	for _, x := range s.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// IsGate reports whether the stage checks artifacts (scan or verify) without
// itself running untrusted code; only such a stage can vouch for what it
// inspected.
func (s *Stage) IsGate() bool {
	return (s.HasRole(RoleScan) || s.HasRole(RoleVerify)) && s.RunsUntrustedCode == False && !s.IsPrivileged()
}

// IsPrivileged reports whether the stage vouches for or releases what it
// receives: it signs, registers or deploys. Such a stage is never a gate,
// not even for itself ("sign_and_verify" must not check its own input).
func (s *Stage) IsPrivileged() bool {
	return s.HasRole(RoleSign) || s.HasRole(RoleRegister) || s.HasRole(RoleDeploy)
}

// FieldPos returns where key was written, falling back to the stage itself.
func (s *Stage) FieldPos(keys ...string) Pos {
	for _, k := range keys {
		if p, ok := s.Fields[k]; ok && p.Line > 0 {
			return p
		}
	}
	return s.Pos
}

// SecretNames returns the stage's secret names in source order.
func (s *Stage) SecretNames() []string {
	out := make([]string, len(s.Secrets))
	for i, x := range s.Secrets {
		out[i] = x.Name
	}
	return out
}

// Graph is a pipeline: stages connected by artifacts. Call Build after
// filling Stages and before running rules.
type Graph struct {
	// File is the source the graph came from, as given by the user.
	File string
	// Format names the adapter that produced it, e.g. "mlgate-pipeline".
	Format string
	Stages []*Stage
	// Doc is the adapter's own parsed document, for rules that only apply
	// to one format (they check Format first). Nil for the stage spec.
	Doc any
	// Comments are the source's comment lines as its parser saw them,
	// trimmed, each starting with '#'. Suppressions are honoured only when
	// they are real comments, not text inside a string or block scalar.
	Comments []string

	producers map[string][]int        // artifact -> producing stage indices
	consumers map[string][]int        // artifact -> consuming stage indices
	gates     map[string][]int        // artifact -> gate stages consuming it
	order     []int                   // topological order of stage indices
	rank      []int                   // stage index -> position in order
	parents   [][]int                 // stage -> distinct producer stages of its inputs
	children  [][]int                 // stage -> distinct consumer stages of its outputs
	tainted   map[string]*taint       // artifact -> why it is untrusted
	checked   map[string]map[int]bool // artifact -> stages downstream of a gate on it (lazy)
	signed    map[string]bool         // artifact -> derived from a signing stage's output
	built     bool
}

// CycleError reports stages whose artifacts depend on each other in a loop.
type CycleError struct {
	Stages []string
}

func (e *CycleError) Error() string {
	return "stages form a dependency cycle through their inputs and outputs: " + strings.Join(e.Stages, ", ")
}

// Build derives the edges (who produces and consumes each artifact), a
// topological order and artifact taint. It fails on a dependency cycle.
// It runs in time linear in stages plus inputs plus outputs.
func (g *Graph) Build() error {
	n := len(g.Stages)
	g.producers = make(map[string][]int)
	g.consumers = make(map[string][]int)
	g.gates = make(map[string][]int)
	for i, s := range g.Stages {
		s.idx = i
		applySandboxes(s)
		for _, o := range s.Outputs {
			g.producers[o.Artifact] = appendOnce(g.producers[o.Artifact], i)
		}
		gate := s.IsGate()
		for _, in := range s.Inputs {
			g.consumers[in.Artifact] = appendOnce(g.consumers[in.Artifact], i)
			if gate {
				g.gates[in.Artifact] = appendOnce(g.gates[in.Artifact], i)
			}
		}
	}
	g.parents = make([][]int, n)
	g.children = make([][]int, n)
	indeg := make([]int, n)
	for i, s := range g.Stages {
		seen := map[int]bool{}
		for _, in := range s.Inputs {
			for _, p := range g.producers[in.Artifact] {
				// A stage that consumes and produces the same artifact updates
				// it in place (resume from a checkpoint, fine-tune in place):
				// its input comes from the other producers, not from itself.
				if p == i || seen[p] {
					continue
				}
				seen[p] = true
				g.parents[i] = append(g.parents[i], p)
				g.children[p] = append(g.children[p], i)
				indeg[i]++
			}
		}
	}
	// Kahn's algorithm, taking ready stages in source order for stable output.
	g.order = make([]int, 0, n)
	queue := make([]int, 0, n)
	for i := 0; i < n; i++ {
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		g.order = append(g.order, i)
		for _, c := range g.children[i] {
			indeg[c]--
			if indeg[c] == 0 {
				queue = append(queue, c)
			}
		}
	}
	g.rank = make([]int, n)
	for pos, i := range g.order {
		g.rank[i] = pos
	}
	if len(g.order) != n {
		var names []string
		for i := 0; i < n; i++ {
			if indeg[i] > 0 {
				names = append(names, g.Stages[i].Name)
			}
		}
		return &CycleError{Stages: names}
	}
	g.computeTaint() // also initialises the gate-coverage cache
	g.computeSigned()
	g.built = true
	return nil
}

func appendOnce(xs []int, v int) []int {
	if len(xs) > 0 && xs[len(xs)-1] == v {
		return xs
	}
	return append(xs, v)
}

// Producers returns the stages that produce artifact a.
func (g *Graph) Producers(a string) []*Stage { return g.stagesAt(g.producers[a]) }

// Consumers returns the stages that consume artifact a.
func (g *Graph) Consumers(a string) []*Stage { return g.stagesAt(g.consumers[a]) }

// Order returns the stages in a topological order (producers before
// consumers, otherwise source order).
func (g *Graph) Order() []*Stage { return g.stagesAt(g.order) }

func (g *Graph) stagesAt(idx []int) []*Stage {
	out := make([]*Stage, len(idx))
	for i, x := range idx {
		out[i] = g.Stages[x]
	}
	return out
}

// taint records why an artifact is untrusted. Chains are stored as links
// to the tainted artifact the passing stage consumed, never copied, so a
// long chain of stages costs memory linear in its length.
type taint struct {
	origin string // where the taint began, e.g. `untrusted input "x"`
	via    string // stage that passed the taint on; "" at the origin
	from   string // artifact that stage consumed
	hops   int    // number of stages between origin and this artifact
}

// maxViaShown is how many passing stages Taint names.
const maxViaShown = 5

// Taint reports whether artifact a is untrusted — declared untrusted, made
// by a stage that runs (or may run) untrusted code, or derived from such an
// artifact without passing a gate — and describes where the taint began and
// the last few stages that passed it on.
func (g *Graph) Taint(a string) (string, bool) {
	t, ok := g.tainted[a]
	if !ok {
		return "", false
	}
	if t.hops == 0 {
		return t.origin, true
	}
	var via []string
	for x := t; x != nil && x.via != "" && len(via) < maxViaShown; x = g.tainted[x.from] {
		via = append(via, x.via)
	}
	for i, j := 0, len(via)-1; i < j; i, j = i+1, j-1 {
		via[i], via[j] = via[j], via[i]
	}
	chain := strings.Join(via, " -> ")
	if t.hops > len(via) {
		chain = fmt.Sprintf("%d more stages -> %s", t.hops-len(via), chain)
	}
	return t.origin + " via " + chain, true
}

// computeTaint propagates untrust along the topological order. An artifact
// is tainted when any input declares it untrusted (even one a stage of the
// pipeline produces: the declaration wins), when its producer runs untrusted
// code (or may: Unknown counts), or when its producer consumed a tainted
// artifact that no gate among the producer's ancestors checked. Outputs of
// gates are clean.
func (g *Graph) computeTaint() {
	g.tainted = make(map[string]*taint)
	g.checked = make(map[string]map[int]bool)
	for _, s := range g.Stages {
		for _, in := range s.Inputs {
			if in.Trust == TrustUntrusted {
				g.tainted[in.Artifact] = &taint{origin: fmt.Sprintf("untrusted input %q", in.Artifact)}
			}
		}
	}
	for _, i := range g.order {
		s := g.Stages[i]
		if s.IsGate() {
			continue
		}
		var t *taint
		if s.RunsUntrustedCode.MaybeTrue() {
			how := "runs untrusted code"
			if s.RunsUntrustedCode == Unknown {
				how = "may run untrusted code (not declared)"
			}
			t = &taint{origin: fmt.Sprintf("stage %q, which %s", s.Name, how)}
		} else {
			for _, in := range g.UncheckedTaintedInputs(s) {
				src := g.tainted[in.Artifact]
				t = &taint{origin: src.origin, via: s.Name, from: in.Artifact, hops: src.hops + 1}
				break
			}
		}
		if t == nil {
			continue
		}
		for _, o := range s.Outputs {
			if _, done := g.tainted[o.Artifact]; !done {
				g.tainted[o.Artifact] = t
			}
		}
	}
}

// UncheckedTaintedInputs returns the inputs of s that are tainted and were
// not inspected by a gate stage that runs before s (a gate that consumes the
// same artifact and is an ancestor of s).
func (g *Graph) UncheckedTaintedInputs(s *Stage) []Input {
	var out []Input
	for _, in := range s.Inputs {
		if _, ok := g.tainted[in.Artifact]; !ok {
			continue
		}
		if cov := g.gateCoverage(in.Artifact); cov != nil && cov[s.idx] {
			continue
		}
		out = append(out, in)
	}
	return out
}

// gateCoverage returns, for artifact a, the set of stages that are strict
// descendants of a gate consuming a (nil when no gate consumes it). It is
// computed once per artifact, by one traversal from all of a's gates
// together, and only for tainted artifacts that have a gate; its size is
// that of the region downstream of those gates, not of the whole graph.
func (g *Graph) gateCoverage(a string) map[int]bool {
	gates := g.gates[a]
	if len(gates) == 0 {
		return nil
	}
	if cov, ok := g.checked[a]; ok {
		return cov
	}
	cov := map[int]bool{}
	var stack []int
	for _, gi := range gates {
		stack = append(stack, g.children[gi]...)
	}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if cov[x] {
			continue
		}
		cov[x] = true
		stack = append(stack, g.children[x]...)
	}
	g.checked[a] = cov
	return cov
}

// ancestors returns every stage s transitively depends on.
func (g *Graph) ancestors(s *Stage) map[int]bool {
	seen := map[int]bool{}
	stack := append([]int{}, g.parents[s.idx]...)
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[x] {
			continue
		}
		seen[x] = true
		stack = append(stack, g.parents[x]...)
	}
	return seen
}

// Ancestors returns the stages s transitively depends on, in topological
// order. It costs time proportional to the size of s's upstream sub-graph,
// not to the whole pipeline.
func (g *Graph) Ancestors(s *Stage) []*Stage {
	anc := g.ancestors(s)
	idx := make([]int, 0, len(anc))
	for i := range anc {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return g.rank[idx[a]] < g.rank[idx[b]] })
	return g.stagesAt(idx)
}

// InferRoles fills s.Roles from the stage's name, secret names and steps
// when the source declared none: words such as sign/signing, scan, verify,
// register/publish/push, deploy/serve, train/training in the name (data
// validation needs a data word too: validate-data), a secret that holds a
// private signing key (see IsSigningKeyName), or what the steps run (see
// StepRoles). Adapters must fill Steps before calling it.
func InferRoles(s *Stage) {
	if len(s.Roles) > 0 {
		return
	}
	set := map[Role]bool{}
	ws := words(s.Name)
	// "validate-training-data" and "train-model-driver" do not train.
	noTrain := nameSaysDataValidation(ws) || hasAny(ws, stageNotTrainingWords)
	for _, w := range ws {
		if r, ok := roleWords[w]; ok && !(noTrain && r == RoleTrain) {
			set[r] = true
		}
	}
	if nameSaysDataValidation(ws) {
		set[RoleValidate] = true
	}
	for i := range s.Steps {
		for _, r := range StepRoles(&s.Steps[i]) {
			set[r] = true
		}
	}
	for _, sec := range s.Secrets {
		if IsSigningKeyName(sec.Name) {
			set[RoleSign] = true
		}
	}
	for _, r := range allRoles {
		if set[r] {
			s.Roles = append(s.Roles, r)
		}
	}
	s.RolesInferred = len(s.Roles) > 0
}

var roleWords = map[string]Role{
	"scan": RoleScan, "scanning": RoleScan, "scanner": RoleScan,
	"verify": RoleVerify, "verification": RoleVerify, "verifier": RoleVerify,
	"sign": RoleSign, "signing": RoleSign, "signer": RoleSign, "cosign": RoleSign, "attest": RoleSign,
	"register": RoleRegister, "registration": RoleRegister, "registry": RoleRegister,
	"publish": RoleRegister, "push": RoleRegister, "release": RoleRegister, "upload": RoleRegister,
	"deploy": RoleDeploy, "deployment": RoleDeploy, "serve": RoleDeploy, "serving": RoleDeploy,
	"canary": RoleDeploy, "rollout": RoleDeploy, "promote": RoleDeploy,
	"train": RoleTrain, "training": RoleTrain, "finetune": RoleTrain, "finetuning": RoleTrain,
	"pretrain": RoleTrain, "pretraining": RoleTrain,
}

// words splits a stage name into lower-case words on separators and
// camelCase boundaries (a lower-case letter or digit followed by an upper-
// case letter). Non-ASCII letters separate words, as before. It runs for
// every stage and step name, so it scans bytes rather than using a regexp.
func words(name string) []string {
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			return wordsUnicode(name) // rare: keep Unicode case mapping exact
		}
	}
	var out []string
	start := -1
	var b []byte
	flush := func() {
		if start >= 0 {
			out = append(out, string(b))
			b = b[:0]
			start = -1
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if start >= 0 && i > 0 && (name[i-1] >= 'a' && name[i-1] <= 'z' || name[i-1] >= '0' && name[i-1] <= '9') {
				flush()
			}
			if start < 0 {
				start = i
			}
			b = append(b, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			if start < 0 {
				start = i
			}
			b = append(b, c)
		default:
			flush()
		}
	}
	flush()
	return out
}

var camelBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// wordsUnicode is words for names with non-ASCII characters: lower-casing
// may turn them into ASCII letters (the Kelvin sign into k).
func wordsUnicode(name string) []string {
	name = camelBoundary.ReplaceAllString(name, "$1 $2")
	return strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// IsSigningKeyName reports whether a secret's name says it holds a private
// artifact-signing key: a SIGNING or COSIGN word together with KEY, PRIVATE,
// PASSWORD or PEM (SIGNING_KEY, COSIGN_PRIVATE_KEY, COSIGN_PASSWORD), and no
// word that marks a public or verification key or a webhook secret
// (COSIGN_PUBLIC_KEY, SLACK_SIGNING_SECRET).
func IsSigningKeyName(name string) bool {
	ws := strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	var signing, key bool
	for _, w := range ws {
		switch w {
		case "SIGNING", "COSIGN", "SIGN":
			signing = true
		case "KEY", "PRIVATE", "PASSWORD", "PASSPHRASE", "PEM":
			key = true
		case "PUBLIC", "PUB", "VERIFY", "VERIFICATION", "WEBHOOK", "SLACK", "STRIPE", "TWILIO", "MAILGUN":
			return false
		}
	}
	return signing && key
}

// modelWords are the words that make an artifact name look like a model.
var modelWords = map[string]bool{
	"model": true, "models": true, "weights": true, "checkpoint": true, "checkpoints": true,
	"ckpt": true, "adapter": true, "adapters": true, "lora": true, "gguf": true,
	"safetensors": true, "onnx": true, "pt": true, "pth": true, "bin": true,
}

// IsModelArtifact reports whether an artifact's name says it is a model
// (model, weights, checkpoint, ckpt, adapter, lora, gguf, safetensors, onnx,
// pt, pth, bin as a word of the name).
func IsModelArtifact(name string) bool {
	for _, w := range words(name) {
		if modelWords[w] {
			return true
		}
	}
	return false
}

// computeSigned marks artifacts that carry a signature's provenance: made by
// a signing stage, or made by a stage that runs no untrusted code from at
// least one such artifact (verify, package, convert a signed model). An
// artifact with several producers is signed only if every producer makes it
// so. One pass in topological order: linear in the graph.
func (g *Graph) computeSigned() {
	g.signed = make(map[string]bool)
	unsigned := map[string]bool{}
	for _, i := range g.order {
		s := g.Stages[i]
		ok := s.HasRole(RoleSign)
		if !ok && s.RunsUntrustedCode == False {
			for _, in := range s.Inputs {
				if g.signed[in.Artifact] && !g.isOwnOutput(s, in.Artifact) {
					ok = true
					break
				}
			}
		}
		for _, o := range s.Outputs {
			if ok && !unsigned[o.Artifact] {
				g.signed[o.Artifact] = true
			} else {
				unsigned[o.Artifact] = true
				delete(g.signed, o.Artifact)
			}
		}
	}
}

func (g *Graph) isOwnOutput(s *Stage, a string) bool {
	for _, o := range s.Outputs {
		if o.Artifact == a {
			return true
		}
	}
	return false
}

// Signed reports whether artifact a carries a signing stage's provenance
// (see computeSigned).
func (g *Graph) Signed(a string) bool { return g.signed[a] }
