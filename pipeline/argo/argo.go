// Package argo reads Argo Workflows (Workflow, WorkflowTemplate,
// ClusterWorkflowTemplate and CronWorkflow documents) into the stage graph.
// Every invocation of a leaf template (container, script, containerSet,
// resource, http, data, plugin) reached from the entrypoint through steps
// and dag templates is a stage, so artifacts passed between steps become
// edges; templates no invocation reaches are analysed as one stage each.
// What is inferred and from which keys is documented in
// docs/adapters/argo.md.
package argo

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// Format is the name graphs from this adapter carry.
const Format = k8s.FormatArgo

// Limits on hostile input.
const (
	// MaxStages bounds the template invocations one workflow expands into.
	MaxStages = 50_000
	// maxDepth bounds steps/dag nesting.
	maxDepth  = 64
	maxErrors = 50
)

func init() {
	pipeline.RegisterAdapter(&pipeline.Adapter{
		Format: Format,
		Title:  "Argo Workflows workflow",
		Sniff:  Sniff,
		Parse:  Parse,
	})
}

// kinds are the Argo Workflows kinds that hold templates.
var kinds = map[string]bool{"Workflow": true, "WorkflowTemplate": true, "ClusterWorkflowTemplate": true, "CronWorkflow": true}

var (
	sniffAPI  = regexp.MustCompile(`(?m)^apiVersion:\s*["']?argoproj\.io/`)
	sniffKind = regexp.MustCompile(`(?m)^kind:\s*["']?(Workflow|WorkflowTemplate|ClusterWorkflowTemplate|CronWorkflow)["']?\s*(#.*)?$`)
	jsonAPI   = regexp.MustCompile(`"apiVersion"\s*:\s*"argoproj\.io/`)
	jsonKind  = regexp.MustCompile(`"kind"\s*:\s*"(Workflow|WorkflowTemplate|ClusterWorkflowTemplate|CronWorkflow)"`)
)

// Sniff recognises a document with a top-level `apiVersion: argoproj.io/...`
// and `kind:` Workflow, WorkflowTemplate, ClusterWorkflowTemplate or
// CronWorkflow (Argo Events and Rollouts kinds are not claimed), in YAML or
// JSON.
func Sniff(head []byte) bool {
	h := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	// Every YAML file of a checkout is sniffed: a literal search first keeps
	// the regexps off files that cannot match.
	if !bytes.Contains(h, []byte("argoproj.io/")) {
		return false
	}
	if len(h) > 0 && h[0] == '{' {
		return jsonAPI.Match(h) && jsonKind.Match(h)
	}
	return sniffAPI.Match(h) && sniffKind.Match(h)
}

// Template is what the adapter learned about the template a stage runs;
// Extra.Templates maps stages to it.
type Template struct {
	// Name is the template's name; Kind is container, script, containerSet,
	// resource, http, data, plugin or templateRef.
	Name string
	Kind string
	// Pos is where the template is defined (its name key).
	Pos pipeline.Pos
	// Action is a resource template's action (create, apply, patch, delete...).
	Action string
	// ActionPos is where it was written.
	ActionPos pipeline.Pos
	// ScriptStep is the index of the step holding a script's source, or -1.
	ScriptStep int
}

// Extra is Doc.Extra for Argo graphs.
type Extra struct {
	// Kind and Name are the document's kind and metadata name.
	Kind, Name string
	// TemplateCount is how many templates the document defines; a document
	// with none (it only has a workflowTemplateRef) yields no stages.
	TemplateCount int
	Templates     map[*pipeline.Stage]*Template
}

// ExtraOf returns the Argo data of a graph, or nil for other formats.
func ExtraOf(g *pipeline.Graph) (*k8s.Doc, *Extra) {
	return k8s.DocExtra[Extra](g, Format)
}

// Parse parses a file of one or more YAML documents; every Argo workflow
// document yields one graph, other documents are skipped.
func Parse(src *pipeline.Source) ([]*pipeline.Graph, error) {
	docs, err := yamlsrc.Decode(src.File, src.Src)
	if err != nil {
		return nil, err
	}
	text := k8s.NewText(src.Src)
	type wf struct {
		doc, root *yaml.Node
		b         *yamlsrc.Budget
		kind      string
	}
	var wfs []wf
	// Templates of WorkflowTemplate documents in the same file, for
	// templateRef.
	lib := map[string]*yaml.Node{}
	libBudget := map[string]*yamlsrc.Budget{}
	for _, doc := range docs {
		b := yamlsrc.NewBudget(doc)
		root := b.Resolve(doc.Content[0])
		if root == nil || root.Kind != yaml.MappingNode {
			continue
		}
		api := b.Resolve(yamlsrc.Get(root, "apiVersion"))
		kind := b.Resolve(yamlsrc.Get(root, "kind"))
		if api == nil || kind == nil || !strings.HasPrefix(api.Value, "argoproj.io/") || !kinds[kind.Value] {
			continue
		}
		wfs = append(wfs, wf{doc, root, b, kind.Value})
		if kind.Value == "WorkflowTemplate" || kind.Value == "ClusterWorkflowTemplate" {
			if n := b.Resolve(yamlsrc.Get(b.Resolve(yamlsrc.Get(root, "metadata")), "name")); n != nil && n.Kind == yaml.ScalarNode {
				lib[n.Value] = root
				libBudget[n.Value] = b
			}
		}
	}
	if len(wfs) == 0 {
		return nil, pipeline.SourceErrors{{File: src.File, Msg: "no Argo Workflows document (Workflow, WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow) in the file"}}
	}
	var graphs []*pipeline.Graph
	var errs pipeline.SourceErrors
	for _, w := range wfs {
		p := &parser{file: src.File, b: w.b, text: text, lib: lib, libBudget: libBudget}
		g := p.workflow(w.doc, w.root, w.kind)
		errs = append(errs, p.errs...)
		graphs = append(graphs, g)
	}
	if len(errs) > 0 {
		if len(errs) > maxErrors {
			errs = errs[:maxErrors]
		}
		return nil, errs
	}
	return graphs, nil
}

type parser struct {
	file      string
	b         *yamlsrc.Budget
	text      *k8s.Text
	lib       map[string]*yaml.Node
	libBudget map[string]*yamlsrc.Budget
	errs      pipeline.SourceErrors
	overflow  bool

	wfName    string
	spec      *yaml.Node
	templates map[string]*yaml.Node
	tplKey    map[string]*yaml.Node
	reached   map[*yaml.Node]bool
	stack     map[*yaml.Node]bool
	g         *pipeline.Graph
	kd        *k8s.Doc
	x         *Extra
	protos    map[*yaml.Node]*leafProto
	curNodes  map[int]*yaml.Node
	wfVolumes map[string]*yaml.Node // name -> volume or claim template
	claims    map[string]bool       // volumeClaimTemplates names
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	pos := yamlsrc.Pos(n)
	p.errs = append(p.errs, &pipeline.SourceError{File: p.file, Line: pos.Line, Column: pos.Column, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) get(m *yaml.Node, key string) *yaml.Node {
	return p.b.Lookup(m, key)
}

func (p *parser) getKey(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	m = p.b.Resolve(m)
	k, v := yamlsrc.GetKey(m, key)
	return k, p.b.Resolve(v)
}

func (p *parser) str(m *yaml.Node, key string) string {
	return p.b.Str(m, key)
}

func (p *parser) pairs(m *yaml.Node) [][2]*yaml.Node {
	return p.b.Pairs(m)
}

func (p *parser) items(n *yaml.Node) []*yaml.Node {
	return p.b.Items(n)
}

// scope is one steps/dag template being expanded.
type scope struct {
	path  string              // stage-name prefix: "" at the entrypoint, "step-a/" inside
	entry bool                // the workflow's entrypoint itself
	arts  map[string][]string // the template's input artifacts -> graph artifacts
	depth int
}

func (p *parser) workflow(doc, root *yaml.Node, kind string) *pipeline.Graph {
	p.g = &pipeline.Graph{File: p.file, Format: Format, Comments: yamlsrc.Comments(doc)}
	p.wfName = p.str(p.get(root, "metadata"), "name")
	if p.wfName == "" {
		p.wfName = p.str(p.get(root, "metadata"), "generateName")
	}
	p.x = &Extra{Kind: kind, Name: p.wfName, Templates: map[*pipeline.Stage]*Template{}}
	p.kd = &k8s.Doc{Pods: map[*pipeline.Stage]*k8s.Pod{}, Text: p.text, StepNodes: map[k8s.StepKey]*yaml.Node{}, Extra: p.x}
	p.g.Doc = p.kd
	spec := p.get(root, "spec")
	if kind == "CronWorkflow" {
		spec = p.get(spec, "workflowSpec")
	}
	if spec == nil || spec.Kind != yaml.MappingNode {
		p.errorf(root, "%s has no spec mapping", kind)
		return p.g
	}
	p.spec = spec
	p.templates = map[string]*yaml.Node{}
	p.tplKey = map[string]*yaml.Node{}
	var order []*yaml.Node
	for _, t := range p.items(p.get(spec, "templates")) {
		n := p.get(t, "name")
		if n == nil || n.Kind != yaml.ScalarNode {
			p.errorf(t, "template without a name")
			continue
		}
		if _, dup := p.templates[n.Value]; dup {
			continue
		}
		p.templates[n.Value] = t
		p.tplKey[n.Value] = n
		order = append(order, t)
	}
	p.x.TemplateCount = len(order)
	p.wfVolumes = map[string]*yaml.Node{}
	p.claims = map[string]bool{}
	for _, v := range p.items(p.get(spec, "volumes")) {
		p.wfVolumes[p.str(v, "name")] = v
	}
	for _, v := range p.items(p.get(spec, "volumeClaimTemplates")) {
		n := p.str(p.get(v, "metadata"), "name")
		p.wfVolumes[n] = v
		p.claims[n] = true
	}
	p.reached = map[*yaml.Node]bool{}
	p.protos = map[*yaml.Node]*leafProto{}
	p.stack = map[*yaml.Node]bool{}
	wfArts := map[string][]string{}
	for _, a := range p.items(p.get(p.get(spec, "arguments"), "artifacts")) {
		wfArts[p.str(a, "name")] = p.externalArtifact(a, nil)
	}
	referenced := map[string]bool{}
	for _, t := range order {
		p.collectRefs(t, referenced)
	}
	if ep := p.str(spec, "entrypoint"); ep != "" {
		if t := p.templates[ep]; t != nil {
			p.invoke(scope{entry: true}, "", t, nil, wfArts, p.tplKey[ep])
		} else if len(p.templates) > 0 {
			k, _ := p.getKey(spec, "entrypoint")
			p.errorf(k, "entrypoint %q is not a template of this workflow", ep)
		}
	}
	if oe := p.str(spec, "onExit"); oe != "" {
		if t := p.templates[oe]; t != nil && !p.reached[t] {
			p.invoke(scope{}, "onExit", t, nil, wfArts, p.tplKey[oe])
		}
	}
	// Templates the entrypoint does not reach: roots (referenced by no other
	// template) are expanded, then anything left is one stage each.
	for pass := 0; pass < 2; pass++ {
		for _, t := range order {
			name := p.str(t, "name")
			if p.reached[t] || (pass == 0 && referenced[name]) {
				continue
			}
			p.invoke(scope{}, name, t, nil, wfArts, p.tplKey[name])
		}
	}
	if p.b.Exceeded {
		p.errorf(root, "the workflow expands (through YAML aliases or nested templates) beyond the parser's work limit")
	}
	if p.overflow {
		p.errorf(root, "workflow expands to more than %d template invocations", MaxStages)
	}
	k8s.ChainVolumes(p.g.Stages)
	return p.g
}

// collectRefs records the names of templates a steps or dag template calls.
func (p *parser) collectRefs(t *yaml.Node, into map[string]bool) {
	for _, group := range p.items(p.get(t, "steps")) {
		steps := p.items(group)
		if group.Kind == yaml.MappingNode {
			steps = []*yaml.Node{group}
		}
		for _, s := range steps {
			into[p.str(s, "template")] = true
		}
	}
	for _, task := range p.items(p.get(p.get(t, "dag"), "tasks")) {
		into[p.str(task, "template")] = true
	}
}
