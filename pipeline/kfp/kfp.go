// Package kfp reads Kubeflow Pipelines v2 compiled pipelines (the IR YAML or
// JSON the KFP SDK compiles to and Vertex AI Pipelines runs), with the
// optional Kubernetes platform-spec document, into the stage graph. Each
// task instance is a stage; nested DAG components (conditions, loops, exit
// handlers, sub-pipelines) are expanded inline. What is inferred and from
// which keys is documented in docs/adapters/kubeflow.md.
package kfp

import (
	"bytes"
	"fmt"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// Format is the name graphs from this adapter carry.
const Format = k8s.FormatKFP

// Limits on hostile input.
const (
	// MaxStages bounds the task instances one pipeline expands into.
	MaxStages = 50_000
	// maxDepth bounds DAG nesting (and so recursive components).
	maxDepth = 64
	// maxErrors caps the errors one file reports.
	maxErrors = 50
)

func init() {
	pipeline.RegisterAdapter(&pipeline.Adapter{
		Format: Format,
		Title:  "Kubeflow Pipelines v2 compiled pipeline (IR)",
		Sniff:  Sniff,
		Parse:  Parse,
	})
}

// Sniff recognises a compiled KFP v2 pipeline from its first bytes: the
// compiler's "# PIPELINE DEFINITION" header with an IR key, top-level
// components whose entries carry executorLabel, or at least two of
// pipelineInfo, deploymentSpec and root together with components or
// schemaVersion 2.x. JSON (also a Vertex PipelineJob's pipelineSpec) is
// recognised by the same keys quoted.
func Sniff(head []byte) bool {
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(h) > 0 && (h[0] == '{' || h[0] == '[') {
		has := func(k string) bool { return bytes.Contains(h, []byte(`"`+k+`"`)) }
		n := 0
		for _, k := range []string{"pipelineInfo", "deploymentSpec", "root"} {
			if has(k) {
				n++
			}
		}
		return (has("components") && has("executorLabel") && (n > 0 || has("executors"))) ||
			(n >= 2 && (has("components") || has("schemaVersion")))
	}
	top := map[string]bool{}
	for _, line := range bytes.Split(h, []byte("\n")) {
		if len(line) == 0 || line[0] == ' ' || line[0] == '#' || line[0] == '\t' {
			continue
		}
		if i := bytes.IndexByte(line, ':'); i > 0 {
			top[string(bytes.TrimSpace(line[:i]))] = true
		}
	}
	header := bytes.HasPrefix(h, []byte("# PIPELINE DEFINITION"))
	ir := 0
	for _, k := range []string{"pipelineInfo", "deploymentSpec", "root"} {
		if top[k] {
			ir++
		}
	}
	if header && (ir > 0 || top["components"]) {
		return true
	}
	if top["components"] && bytes.Contains(h, []byte("\n    executorLabel: ")) && (ir > 0 || len(top) == 1) {
		return true
	}
	if ir >= 2 && (top["components"] || bytes.Contains(h, []byte("\nschemaVersion: 2."))) {
		return true
	}
	return false
}

// Task is what the adapter learned about one stage beyond the stage graph;
// Doc.Extra maps stages to it.
type Task struct {
	// Path is the task's path through nested DAGs ("condition-1/train").
	Path string
	// Executor is the executor label the task's component runs.
	Executor string
	// Bootstrap holds the pip installs of the generated bootstrap, with
	// the index of the step they are in.
	Pips    []PipInstall
	PipStep int
	// Importer is set for importer tasks.
	Importer *Importer
	// PVCs are the persistent volume claims mounted (platform pvcMount).
	PVCs []pipeline.Volume
}

// Importer is an importer task's artifact source.
type Importer struct {
	URI string
	// Runtime is true when the URI is a pipeline parameter whose value is
	// chosen at run time (URI is then its default, if any).
	Runtime  bool
	Reimport bool
	Pos      pipeline.Pos
}

// Extra is Doc.Extra for KFP graphs.
type Extra struct {
	Tasks map[*pipeline.Stage]*Task
}

// ExtraOf returns the KFP data of a graph, or nil for other formats.
func ExtraOf(g *pipeline.Graph) (*k8s.Doc, *Extra) {
	return k8s.DocExtra[Extra](g, Format)
}

// Parse parses a compiled pipeline file: one IR document optionally followed
// by a platform-spec document (platforms: kubernetes: ...). Several IR
// documents in one file yield one graph each; a platform document applies
// to the IR document before it.
func Parse(src *pipeline.Source) ([]*pipeline.Graph, error) {
	docs, err := yamlsrc.Decode(src.File, src.Src)
	if err != nil {
		return nil, err
	}
	text := k8s.NewText(src.Src)
	var ps []*parser
	var errs pipeline.SourceErrors
	for _, doc := range docs {
		b := yamlsrc.NewBudget(doc)
		root := b.Resolve(doc.Content[0])
		if root == nil || root.Kind != yaml.MappingNode {
			errs = append(errs, &pipeline.SourceError{File: src.File, Line: doc.Line, Column: doc.Column, Msg: "a KFP pipeline document must be a mapping"})
			continue
		}
		if spec := b.Resolve(yamlsrc.Get(root, "pipelineSpec")); spec != nil && spec.Kind == yaml.MappingNode {
			root = spec // Vertex PipelineJob JSON
		}
		if plat := b.Resolve(yamlsrc.Get(root, "platforms")); plat != nil && yamlsrc.Get(root, "root") == nil {
			if len(ps) == 0 {
				errs = append(errs, &pipeline.SourceError{File: src.File, Line: root.Line, Column: root.Column, Msg: "platform spec document without a pipeline before it"})
				continue
			}
			ps[len(ps)-1].platformDoc(plat, b)
			continue
		}
		if yamlsrc.Get(root, "root") == nil || (yamlsrc.Get(root, "deploymentSpec") == nil && yamlsrc.Get(root, "components") == nil) {
			errs = append(errs, &pipeline.SourceError{File: src.File, Line: root.Line, Column: root.Column, Msg: "not a compiled KFP pipeline: needs `root` and `deploymentSpec` or `components`"})
			continue
		}
		p := &parser{file: src.File, b: b, text: text, doc: doc, top: root}
		p.index()
		ps = append(ps, p)
	}
	var graphs []*pipeline.Graph
	for _, p := range ps {
		g := p.build()
		errs = append(errs, p.errs...)
		graphs = append(graphs, g)
	}
	if len(errs) > 0 {
		if len(errs) > maxErrors {
			errs = errs[:maxErrors]
		}
		return nil, errs
	}
	if len(graphs) == 0 {
		return nil, pipeline.SourceErrors{{File: src.File, Msg: "no KFP pipeline document in the file"}}
	}
	return graphs, nil
}

type parser struct {
	file       string
	b          *yamlsrc.Budget
	text       *k8s.Text
	doc        *yaml.Node
	top        *yaml.Node
	components map[string]*yaml.Node
	executors  map[string]*yaml.Node
	platform   map[string]*yaml.Node
	platBudget *yamlsrc.Budget
	comments   []string
	g          *pipeline.Graph
	kd         *k8s.Doc
	x          *Extra
	errs       pipeline.SourceErrors
	overflow   bool
	protos     map[string]*proto
	curNodes   map[int]*yaml.Node
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	pos := yamlsrc.Pos(n)
	p.errs = append(p.errs, &pipeline.SourceError{File: p.file, Line: pos.Line, Column: pos.Column, Msg: fmt.Sprintf(format, args...)})
}

// get resolves m (an alias), then key in it, resolving the value.
func (p *parser) get(m *yaml.Node, key string) *yaml.Node {
	return p.b.Lookup(m, key)
}

// str returns a scalar's value, or "".
func (p *parser) str(m *yaml.Node, key string) string {
	return p.b.Str(m, key)
}

// pairs returns the key/value pairs of a mapping, values resolved.
func (p *parser) pairs(m *yaml.Node) [][2]*yaml.Node {
	return p.b.Pairs(m)
}

// items returns a sequence's items, resolved.
func (p *parser) items(n *yaml.Node) []*yaml.Node {
	return p.b.Items(n)
}

func (p *parser) index() {
	p.components = map[string]*yaml.Node{}
	p.executors = map[string]*yaml.Node{}
	p.platform = map[string]*yaml.Node{}
	for _, kv := range p.pairs(p.get(p.top, "components")) {
		p.components[kv[0].Value] = kv[1]
	}
	for _, kv := range p.pairs(p.get(p.get(p.top, "deploymentSpec"), "executors")) {
		p.executors[kv[0].Value] = kv[1]
	}
}

// platformDoc records the per-executor Kubernetes platform config.
func (p *parser) platformDoc(plat *yaml.Node, b *yamlsrc.Budget) {
	p.platBudget = b
	save := p.b
	p.b = b
	defer func() { p.b = save }()
	execs := p.get(p.get(p.get(plat, "kubernetes"), "deploymentSpec"), "executors")
	for _, kv := range p.pairs(execs) {
		p.platform[kv[0].Value] = kv[1]
	}
	p.comments = append(p.comments, yamlsrc.Comments(plat)...)
}

// artRef is a resolved artifact: its graph name and whether it is external.
type scope struct {
	path   string                 // "" at the root, "cond-1/" inside
	dag    *yaml.Node             // the dag mapping
	arts   map[string][]string    // component input artifact -> graph artifacts
	params map[string]paramSource // component input parameter -> source
	depth  int
}

// paramSource is what a parameter resolves to: a constant, or a task output
// (an artifact name), or unknown.
type paramSource struct {
	value    string
	artifact string
	runtime  bool // a pipeline parameter chosen at run time
	pos      pipeline.Pos
}

func (p *parser) build() *pipeline.Graph {
	p.g = &pipeline.Graph{File: p.file, Format: Format}
	p.x = &Extra{Tasks: map[*pipeline.Stage]*Task{}}
	p.protos = map[string]*proto{}
	p.kd = &k8s.Doc{Pods: map[*pipeline.Stage]*k8s.Pod{}, Text: p.text, StepNodes: map[k8s.StepKey]*yaml.Node{}, Extra: p.x}
	p.g.Doc = p.kd
	p.g.Comments = append(yamlsrc.Comments(p.doc), p.comments...)
	rootNode := p.get(p.top, "root")
	dag := p.get(rootNode, "dag")
	if dag == nil {
		p.errorf(rootNode, "root has no `dag`: a compiled pipeline's root is a DAG of tasks")
		return p.g
	}
	params := map[string]paramSource{}
	for _, kv := range p.pairs(p.get(p.get(rootNode, "inputDefinitions"), "parameters")) {
		ps := paramSource{runtime: true, pos: yamlsrc.Pos(kv[0])}
		if d := p.get(kv[1], "defaultValue"); d != nil && d.Kind == yaml.ScalarNode {
			ps.value, ps.pos = d.Value, yamlsrc.Pos(d)
		}
		params[kv[0].Value] = ps
	}
	arts := map[string][]string{}
	for _, kv := range p.pairs(p.get(p.get(rootNode, "inputDefinitions"), "artifacts")) {
		arts[kv[0].Value] = []string{"pipeline-input:" + kv[0].Value}
	}
	p.expand(scope{dag: dag, arts: arts, params: params})
	if p.b.Exceeded || (p.platBudget != nil && p.platBudget.Exceeded) {
		p.errorf(p.top, "the pipeline expands (through YAML aliases or nested DAG components) beyond the parser's work limit")
	}
	if p.overflow {
		p.errorf(p.top, "pipeline expands to more than %d task instances", MaxStages)
	}
	if len(p.g.Stages) == 0 && len(p.errs) == 0 {
		p.errorf(dag, "the pipeline's root DAG has no tasks")
	}
	p.chainVolumes()
	return p.g
}

// taskOrder returns a dag's task names in a dependency-respecting order
// (dependentTasks and producerTask references), source order otherwise.
func (p *parser) taskOrder(tasks *yaml.Node) ([]string, map[string]*yaml.Node) {
	byName := map[string]*yaml.Node{}
	var names []string
	keyPos := map[string]*yaml.Node{}
	for _, kv := range p.pairs(tasks) {
		if _, dup := byName[kv[0].Value]; dup {
			continue
		}
		byName[kv[0].Value] = kv[1]
		keyPos[kv[0].Value] = kv[0]
		names = append(names, kv[0].Value)
	}
	deps := map[string][]string{}
	for _, n := range names {
		t := byName[n]
		for _, d := range p.items(p.get(t, "dependentTasks")) {
			if d.Kind == yaml.ScalarNode {
				deps[n] = append(deps[n], d.Value)
			}
		}
		in := p.get(t, "inputs")
		for _, kind := range []string{"artifacts", "parameters"} {
			for _, kv := range p.pairs(p.get(in, kind)) {
				for _, key := range []string{"taskOutputArtifact", "taskOutputParameter"} {
					if pt := p.str(p.get(kv[1], key), "producerTask"); pt != "" {
						deps[n] = append(deps[n], pt)
					}
				}
			}
		}
	}
	// Depth-first topological sort; cycles fall back to source order.
	state := map[string]int{}
	order := make([]string, 0, len(names))
	var visit func(n string, depth int)
	visit = func(n string, depth int) {
		if state[n] != 0 || byName[n] == nil || depth > 10_000 {
			return
		}
		state[n] = 1
		for _, d := range deps[n] {
			visit(d, depth+1)
		}
		state[n] = 2
		order = append(order, n)
	}
	for _, n := range names {
		visit(n, 0)
	}
	for n := range byName {
		byName[n+"\x00key"] = keyPos[n]
	}
	return order, byName
}

// expand turns a DAG's tasks into stages, recursing into DAG components.
func (p *parser) expand(sc scope) {
	if sc.depth > maxDepth {
		p.errorf(sc.dag, "DAG components nest deeper than %d levels (a component that contains itself?)", maxDepth)
		return
	}
	order, byName := p.taskOrder(p.get(sc.dag, "tasks"))
	for _, name := range order {
		if p.overflow || p.b.Exceeded {
			return
		}
		t := byName[name]
		key := byName[name+"\x00key"]
		compName := p.str(p.get(t, "componentRef"), "name")
		comp := p.components[compName]
		if comp == nil {
			p.errorf(key, "task %q refers to component %q, which is not defined under `components`", name, compName)
			continue
		}
		arts := map[string][]string{}
		var inputs []pipeline.Input
		for _, kv := range p.pairs(p.get(p.get(t, "inputs"), "artifacts")) {
			refs := p.artifactInput(sc, byName, kv[1], 0)
			arts[kv[0].Value] = refs
			for _, r := range refs {
				inputs = append(inputs, pipeline.Input{Artifact: r, Pos: yamlsrc.Pos(kv[0])})
			}
		}
		params := map[string]paramSource{}
		for _, kv := range p.pairs(p.get(p.get(t, "inputs"), "parameters")) {
			ps := p.paramInput(sc, kv[1])
			params[kv[0].Value] = ps
			if ps.artifact != "" {
				inputs = append(inputs, pipeline.Input{Artifact: ps.artifact, Pos: yamlsrc.Pos(kv[0])})
			}
		}
		if sub := p.get(comp, "dag"); sub != nil {
			p.expand(scope{path: sc.path + name + "/", dag: sub, arts: arts, params: params, depth: sc.depth + 1})
			continue
		}
		p.stage(sc, name, key, t, comp, compName, inputs, params)
	}
}

// artifactInput resolves a task's input artifact spec to graph artifacts.
func (p *parser) artifactInput(sc scope, byName map[string]*yaml.Node, spec *yaml.Node, depth int) []string {
	if o := p.get(spec, "taskOutputArtifact"); o != nil {
		return p.outputOf(sc.path, byName, p.str(o, "producerTask"), p.str(o, "outputArtifactKey"), 0)
	}
	if c := p.str(spec, "componentInputArtifact"); c != "" {
		return sc.arts[c]
	}
	return nil
}

// outputOf resolves output artifact key of task producer in a dag at path:
// a container task's own output, or, for a DAG task, the outputs its
// artifactSelectors name inside it.
func (p *parser) outputOf(path string, byName map[string]*yaml.Node, producer, key string, depth int) []string {
	t := byName[producer]
	if t == nil || producer == "" || depth > maxDepth || p.b.Exceeded {
		return nil
	}
	comp := p.components[p.str(p.get(t, "componentRef"), "name")]
	sub := p.get(comp, "dag")
	if sub == nil {
		return []string{path + producer + "." + key}
	}
	_, inner := p.taskOrderLite(p.get(sub, "tasks"))
	var out []string
	spec := p.get(p.get(p.get(sub, "outputs"), "artifacts"), key)
	for _, sel := range p.items(p.get(spec, "artifactSelectors")) {
		out = append(out, p.outputOf(path+producer+"/", inner, p.str(sel, "producerSubtask"), p.str(sel, "outputArtifactKey"), depth+1)...)
		if len(out) > 1000 {
			break
		}
	}
	return out
}

// taskOrderLite indexes a dag's tasks by name without ordering them.
func (p *parser) taskOrderLite(tasks *yaml.Node) (struct{}, map[string]*yaml.Node) {
	m := map[string]*yaml.Node{}
	for _, kv := range p.pairs(tasks) {
		if _, dup := m[kv[0].Value]; !dup {
			m[kv[0].Value] = kv[1]
		}
	}
	return struct{}{}, m
}

// paramInput resolves a task's input parameter spec.
func (p *parser) paramInput(sc scope, spec *yaml.Node) paramSource {
	if rv := p.get(spec, "runtimeValue"); rv != nil {
		if c := p.get(rv, "constant"); c != nil && c.Kind == yaml.ScalarNode {
			return paramSource{value: c.Value, pos: yamlsrc.Pos(c)}
		}
	}
	if c := p.str(spec, "componentInputParameter"); c != "" {
		return sc.params[c]
	}
	if o := p.get(spec, "taskOutputParameter"); o != nil {
		pt := p.str(o, "producerTask")
		if pt != "" {
			return paramSource{artifact: sc.path + pt + ".param:" + p.str(o, "outputParameterKey"), pos: yamlsrc.Pos(o)}
		}
	}
	return paramSource{runtime: true, pos: yamlsrc.Pos(spec)}
}
