package argo

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

var (
	artRef    = regexp.MustCompile(`\b(steps|tasks)\.([A-Za-z0-9_-]+)\.outputs\.artifacts\.([A-Za-z0-9_-]+)`)
	inputRef  = regexp.MustCompile(`\binputs\.artifacts\.([A-Za-z0-9_-]+)`)
	outRef    = regexp.MustCompile(`\b(steps|tasks)\.([A-Za-z0-9_-]+)\.outputs\.(result|parameters\.[A-Za-z0-9_-]+)`)
	dependsID = regexp.MustCompile(`[A-Za-z0-9_-]+`)
)

// call is one step or dag task: its name, the template it runs and its
// arguments.
type call struct {
	name string
	key  *yaml.Node
	node *yaml.Node
	tpl  *yaml.Node // nil for an unresolvable templateRef
	ref  string     // templateRef "name/template" when tpl is nil
}

// isLeaf reports whether a template runs a pod (or an agent action) rather
// than calling other templates.
func (p *parser) isLeaf(t *yaml.Node) bool {
	return p.get(t, "steps") == nil && p.get(t, "dag") == nil
}

// invoke expands template t called name inside parent scope sc with its
// input artifacts bound to arts.
func (p *parser) invoke(sc scope, name string, t *yaml.Node, extra []pipeline.Input, arts map[string][]string, key *yaml.Node) {
	if p.overflow || p.b.Exceeded {
		return
	}
	if name == "" {
		name = p.str(t, "name")
	}
	p.reached[t] = true
	if p.isLeaf(t) {
		p.leaf(sc.path+name, t, arts, extra, key)
		return
	}
	if p.stack[t] || sc.depth >= maxDepth {
		return // recursion (coinflip-recursive) or too deep: expanded once
	}
	p.stack[t] = true
	defer delete(p.stack, t)
	inner := scope{path: sc.path + name + "/", arts: arts, depth: sc.depth + 1}
	if sc.entry {
		inner.path = "" // the entrypoint's name is not repeated in every stage
	}
	if steps := p.get(t, "steps"); steps != nil {
		p.expandCalls(inner, p.stepCalls(steps), "steps")
		return
	}
	p.expandCalls(inner, p.dagCalls(p.get(p.get(t, "dag"), "tasks")), "tasks")
}

// stepCalls lists the steps of a steps template in execution order.
func (p *parser) stepCalls(steps *yaml.Node) []call {
	var out []call
	for _, group := range p.items(steps) {
		list := p.items(group)
		if group.Kind == yaml.MappingNode {
			list = []*yaml.Node{group}
		}
		for _, s := range list {
			out = append(out, p.callOf(s))
		}
	}
	return out
}

// dagCalls lists a dag's tasks in a dependency-respecting order.
func (p *parser) dagCalls(tasks *yaml.Node) []call {
	var calls []call
	byName := map[string]int{}
	for _, t := range p.items(tasks) {
		c := p.callOf(t)
		if _, dup := byName[c.name]; dup || c.name == "" {
			continue
		}
		byName[c.name] = len(calls)
		calls = append(calls, c)
	}
	deps := make([][]int, len(calls))
	for i, c := range calls {
		var names []string
		for _, d := range p.items(p.get(c.node, "dependencies")) {
			names = append(names, d.Value)
		}
		if d := p.str(c.node, "depends"); d != "" {
			names = append(names, dependsID.FindAllString(d, 200)...)
		}
		if at := p.argText(c.node); strings.Contains(at, ".outputs.") {
			for _, m := range artRef.FindAllStringSubmatch(at, 200) {
				names = append(names, m[2])
			}
		}
		for _, n := range names {
			if j, ok := byName[n]; ok && j != i {
				deps[i] = append(deps[i], j)
			}
		}
	}
	state := make([]int8, len(calls))
	out := make([]call, 0, len(calls))
	var visit func(i, depth int)
	visit = func(i, depth int) {
		if state[i] != 0 || depth > 10_000 {
			return
		}
		state[i] = 1
		for _, d := range deps[i] {
			visit(d, depth+1)
		}
		state[i] = 2
		out = append(out, calls[i])
	}
	for i := range calls {
		visit(i, 0)
	}
	return out
}

// argText returns the argument values of a call joined, for reference
// scanning (bounded).
func (p *parser) argText(n *yaml.Node) string {
	var b strings.Builder
	args := p.get(n, "arguments")
	for _, kind := range []string{"artifacts", "parameters"} {
		for _, a := range p.items(p.get(args, kind)) {
			for _, k := range []string{"from", "fromExpression", "value"} {
				b.WriteString(p.str(a, k))
				b.WriteByte(' ')
			}
			if b.Len() > 1<<16 {
				return b.String()
			}
		}
	}
	b.WriteString(p.str(n, "withParam"))
	return b.String()
}

// callOf resolves the template a step or task runs.
func (p *parser) callOf(n *yaml.Node) call {
	k, nm := p.getKey(n, "name")
	c := call{node: n, key: k}
	if nm != nil {
		c.name = nm.Value
	}
	if c.key == nil {
		c.key = n
	}
	if in := p.get(n, "inline"); in != nil {
		c.tpl = in
		return c
	}
	if tn := p.str(n, "template"); tn != "" {
		c.tpl = p.templates[tn]
		if c.tpl == nil {
			c.ref = tn + " (undefined)"
		}
		return c
	}
	if tr := p.get(n, "templateRef"); tr != nil {
		wt, tn := p.str(tr, "name"), p.str(tr, "template")
		c.ref = wt + "/" + tn
		if lib := p.lib[wt]; lib != nil && p.libBudget[wt] == p.b {
			// Same document: the template is ours.
			c.tpl = p.templates[tn]
		} else if lib != nil {
			c.tpl = p.libTemplate(lib, p.libBudget[wt], tn)
		}
	}
	return c
}

// libTemplate finds template name in another WorkflowTemplate of the file;
// only leaf templates are used (their calls would resolve in that
// document's namespace).
func (p *parser) libTemplate(lib *yaml.Node, b *yamlsrc.Budget, name string) *yaml.Node {
	save := p.b
	p.b = b
	defer func() { p.b = save }()
	for _, t := range p.items(p.get(p.get(lib, "spec"), "templates")) {
		if p.str(t, "name") == name && p.isLeaf(t) {
			return t
		}
	}
	return nil
}

// expandCalls turns a steps or dag template's calls into stages.
func (p *parser) expandCalls(sc scope, calls []call, prefix string) {
	siblings := map[string]*yaml.Node{}
	for _, c := range calls {
		if p.overflow || p.b.Exceeded {
			return
		}
		arts := map[string][]string{}
		var inputs []pipeline.Input
		args := p.get(c.node, "arguments")
		for _, a := range p.items(p.get(args, "artifacts")) {
			an := p.get(a, "name")
			if an == nil {
				continue
			}
			var refs []string
			from := p.str(a, "from") + " " + p.str(a, "fromExpression")
			for _, m := range artRef.FindAllStringSubmatch(from, 50) {
				refs = append(refs, p.outputOf(sc.path, siblings, m[2], m[3], 0)...)
			}
			for _, m := range inputRef.FindAllStringSubmatch(from, 50) {
				refs = append(refs, sc.arts[m[1]]...)
			}
			if strings.Contains(from, "workflow.outputs.artifacts.") {
				refs = append(refs, "workflow-output:"+from)
			}
			if len(refs) == 0 {
				refs = p.externalArtifact(a, nil)
			}
			arts[an.Value] = refs
		}
		seen := map[string]bool{}
		at := p.argText(c.node)
		if !strings.Contains(at, ".outputs.") {
			at = ""
		}
		for _, m := range outRef.FindAllStringSubmatch(at, 200) {
			a := sc.path + m[2] + ".outputs"
			if !seen[a] {
				seen[a] = true
				inputs = append(inputs, pipeline.Input{Artifact: a, Pos: yamlsrc.Pos(args)})
			}
		}
		switch {
		case c.tpl != nil:
			p.invoke(sc, c.name, c.tpl, inputs, arts, c.key)
		default:
			p.opaque(sc.path+c.name, c, inputs, arts)
		}
		if c.name != "" {
			siblings[c.name] = c.tpl
		}
	}
}

// outputOf resolves output artifact art of the call named step among
// siblings at path: a leaf's own output or, for a steps/dag template, what
// its outputs.artifacts[art].from names inside it.
func (p *parser) outputOf(path string, siblings map[string]*yaml.Node, step, art string, depth int) []string {
	t, ok := siblings[step]
	if !ok || depth > maxDepth || p.b.Exceeded {
		return nil
	}
	if t == nil || p.isLeaf(t) {
		return []string{path + step + "." + art}
	}
	var from string
	for _, o := range p.items(p.get(p.get(t, "outputs"), "artifacts")) {
		if p.str(o, "name") == art {
			from = p.str(o, "from") + " " + p.str(o, "fromExpression")
		}
	}
	inner := map[string]*yaml.Node{}
	if steps := p.get(t, "steps"); steps != nil {
		for _, c := range p.stepCalls(steps) {
			inner[c.name] = c.tpl
		}
	} else {
		for _, c := range p.dagCalls(p.get(p.get(t, "dag"), "tasks")) {
			inner[c.name] = c.tpl
		}
	}
	var out []string
	for _, m := range artRef.FindAllStringSubmatch(from, 20) {
		out = append(out, p.outputOf(path+step+"/", inner, m[2], m[3], depth+1)...)
	}
	return out
}

// externalArtifact returns the graph artifact for an artifact that names
// its own source (http, git, s3...), or nil for raw/inline data and
// artifacts without a source.
func (p *parser) externalArtifact(a *yaml.Node, pod *k8s.Pod) []string {
	for _, kind := range []string{"http", "git", "s3", "gcs", "oss", "hdfs", "azure", "artifactory", "huggingface"} {
		src := p.get(a, kind)
		if src == nil {
			continue
		}
		url := ""
		switch kind {
		case "http", "artifactory":
			url = p.str(src, "url")
		case "git":
			url = p.str(src, "repo")
			if r := p.str(src, "revision"); r != "" {
				url += "@" + r
			}
		case "s3", "oss":
			if bk := p.str(src, "bucket"); bk != "" {
				url = kind + "://" + bk + "/" + p.str(src, "key")
			} else {
				// The configured artifact repository: storage the
				// workflow controller manages, not an outside source.
				return []string{"artifact-repository:" + p.str(src, "key")}
			}
		case "gcs":
			if bk := p.str(src, "bucket"); bk != "" {
				url = "gs://" + bk + "/" + p.str(src, "key")
			} else {
				return []string{"artifact-repository:" + p.str(src, "key")}
			}
		case "hdfs":
			url = "hdfs://" + p.str(src, "path")
		case "azure":
			url = "azure://" + p.str(src, "container") + "/" + p.str(src, "blob")
		default:
			url = kind + "://" + p.str(src, "repoId")
		}
		if pod != nil {
			pod.Fetches = append(pod.Fetches, k8s.Fetch{Kind: kind, URL: url, Pos: yamlsrc.Pos(src)})
		}
		return []string{"external:" + url}
	}
	return nil
}

// opaque adds a stage for a call whose template is in another file
// (templateRef) or undefined: nothing about it can be inferred.
func (p *parser) opaque(name string, c call, inputs []pipeline.Input, arts map[string][]string) {
	if len(p.g.Stages) >= MaxStages {
		p.overflow = true
		return
	}
	for _, refs := range arts {
		for _, r := range refs {
			inputs = append(inputs, pipeline.Input{Artifact: r, Pos: yamlsrc.Pos(c.key), Trust: trustOf(r)})
		}
	}
	s := &pipeline.Stage{
		Name: name, Pos: yamlsrc.Pos(c.key), Kind: "templateRef", Inputs: inputs,
		SelfHosted: pipeline.True, Fields: map[string]pipeline.Pos{},
		Steps: []pipeline.Step{{Name: c.name, Pos: yamlsrc.Pos(c.key), Uses: "templateRef:" + c.ref, UsesPos: yamlsrc.Pos(c.key)}},
	}
	s.Outputs = append(s.Outputs, pipeline.Output{Artifact: name + ".outputs", Pos: s.Pos})
	p.x.Templates[s] = &Template{Name: c.ref, Kind: "templateRef", ScriptStep: -1}
	p.kd.Pods[s] = &k8s.Pod{}
	pipeline.InferRoles(s)
	p.g.Stages = append(p.g.Stages, s)
}

func trustOf(artifact string) pipeline.Trust {
	if strings.HasPrefix(artifact, "external:") {
		return pipeline.TrustUntrusted
	}
	return pipeline.TrustUnspecified
}
