package kfp

import (
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// proto is what a task gets from its component and executor, computed
// once per component however many tasks (and nested-DAG instances) run it.
type proto struct {
	stage pipeline.Stage
	task  Task
	pod   k8s.Pod
	exec  *yaml.Node
	nodes map[int]*yaml.Node // step index -> source scalar
}

// protoFor builds (once) the parts of a stage that depend only on the
// component: outputs, executor (image, steps, env, resources) and the
// executor's platform config.
func (p *parser) protoFor(compName string, comp, key *yaml.Node) *proto {
	if pr, ok := p.protos[compName]; ok {
		return pr
	}
	label := p.str(comp, "executorLabel")
	exec := p.executors[label]
	pr := &proto{exec: exec, nodes: map[int]*yaml.Node{}}
	s := &pr.stage
	*s = pipeline.Stage{Kind: "task", Isolation: pipeline.IsolationContainer, GPU: pipeline.False, Fields: map[string]pipeline.Pos{}}
	pr.task = Task{Executor: label, PipStep: -1}
	if label != "" && exec == nil {
		p.errorf(key, "component %q runs executor %q, which is not defined under deploymentSpec.executors", compName, label)
	}
	outs := p.get(comp, "outputDefinitions")
	for _, kv := range p.pairs(p.get(outs, "artifacts")) {
		s.Outputs = append(s.Outputs, pipeline.Output{Artifact: "." + kv[0].Value, Pos: yamlsrc.Pos(kv[0])})
	}
	for _, kv := range p.pairs(p.get(outs, "parameters")) {
		s.Outputs = append(s.Outputs, pipeline.Output{Artifact: ".param:" + kv[0].Value, Pos: yamlsrc.Pos(kv[0])})
	}
	if imp := p.get(exec, "importer"); imp != nil {
		s.Kind = "importer"
		s.RunsUntrustedCode = pipeline.False
	} else if c := p.get(exec, "container"); c != nil {
		p.curNodes = pr.nodes
		p.container(s, &pr.task, &pr.pod, c)
		p.curNodes = nil
	} else if r := p.get(exec, "resolver"); r != nil {
		s.Kind = "resolver"
		s.RunsUntrustedCode = pipeline.False
	}
	p.platformFor(s, &pr.task, &pr.pod, label)
	p.protos[compName] = pr
	return pr
}

// stage adds the stage for one container or importer task instance.
func (p *parser) stage(sc scope, name string, key, t, comp *yaml.Node, compName string, inputs []pipeline.Input, params map[string]paramSource) {
	if len(p.g.Stages) >= MaxStages {
		p.overflow = true
		return
	}
	pr := p.protoFor(compName, comp, key)
	s := new(pipeline.Stage)
	*s = pr.stage
	s.Name = sc.path + name
	s.Pos = yamlsrc.Pos(key)
	s.Inputs = inputs
	s.Outputs = make([]pipeline.Output, len(pr.stage.Outputs))
	for i, o := range pr.stage.Outputs {
		s.Outputs[i] = pipeline.Output{Artifact: s.Name + o.Artifact, Pos: o.Pos}
	}
	s.Fields = make(map[string]pipeline.Pos, len(pr.stage.Fields)+1)
	for k, v := range pr.stage.Fields {
		s.Fields[k] = v
	}
	s.Steps = append([]pipeline.Step(nil), pr.stage.Steps...)
	s.Secrets = append([]pipeline.Secret(nil), pr.stage.Secrets...)
	s.Volumes = append([]pipeline.Volume(nil), pr.stage.Volumes...)
	s.Env = append([]pipeline.EnvVar(nil), pr.stage.Env...)
	s.Images = append([]pipeline.Image(nil), pr.stage.Images...)
	s.RunnerLabels = append([]string(nil), pr.stage.RunnerLabels...)
	task := new(Task)
	*task = pr.task
	task.Path = s.Name
	pod := new(k8s.Pod)
	*pod = pr.pod
	pod.Fetches = append([]k8s.Fetch(nil), pr.pod.Fetches...)
	for i, n := range pr.nodes {
		p.kd.StepNodes[k8s.StepKey{Stage: s, Index: i}] = n
	}
	p.x.Tasks[s] = task
	p.kd.Pods[s] = pod
	if imp := p.get(pr.exec, "importer"); imp != nil {
		p.importer(s, task, pod, imp, params)
	}
	pipeline.InferRoles(s)
	p.g.Stages = append(p.g.Stages, s)
}

// importer fills an importer task: no user code, one external input.
func (p *parser) importer(s *pipeline.Stage, task *Task, pod *k8s.Pod, imp *yaml.Node, params map[string]paramSource) {
	im := &Importer{}
	uri := p.get(imp, "artifactUri")
	if c := p.get(uri, "constant"); c != nil && c.Kind == yaml.ScalarNode {
		im.URI, im.Pos = c.Value, yamlsrc.Pos(c)
	} else if c := p.get(uri, "constantValue"); c != nil {
		im.URI, im.Pos = p.str(c, "stringValue"), yamlsrc.Pos(c)
	} else if rp := p.str(uri, "runtimeParameter"); rp != "" {
		src := params[rp]
		im.URI, im.Runtime, im.Pos = src.value, src.runtime || src.artifact != "", yamlsrc.Pos(uri)
		if src.pos.Line > 0 && src.value != "" {
			im.Pos = src.pos
		}
	} else {
		im.Runtime, im.Pos = true, yamlsrc.Pos(imp)
	}
	if r := p.get(imp, "reimport"); r != nil && r.Value == "true" {
		im.Reimport = true
	}
	task.Importer = im
	name := "external:" + im.URI
	if im.URI == "" {
		name = "external:" + s.Name + " (run-time URI)"
	}
	s.Inputs = append(s.Inputs, pipeline.Input{Artifact: name, Trust: pipeline.TrustUntrusted, Pos: im.Pos})
	s.Fields["artifactUri"] = im.Pos
	kind := k8s.ExternalScheme(im.URI)
	if kind == "" {
		kind = "importer"
	}
	pod.Fetches = append(pod.Fetches, k8s.Fetch{Kind: kind, URL: im.URI, Pos: im.Pos})
}

// container fills a container task: image, command/args as steps, env,
// resources.
func (p *parser) container(s *pipeline.Stage, task *Task, pod *k8s.Pod, c *yaml.Node) {
	if img := p.get(c, "image"); img != nil && img.Kind == yaml.ScalarNode {
		// Placeholders the KFP backend replaces at run time are not images
		// anyone runs.
		if !k8s.PlaceholderImage(img.Value) {
			s.Images = append(s.Images, pipeline.Image{Ref: img.Value, Pos: yamlsrc.Pos(img), Kind: "step"})
		}
		s.Fields["image"] = yamlsrc.Pos(img)
	}
	var argv []*yaml.Node
	for _, k := range []string{"command", "args"} {
		for _, n := range p.items(p.get(c, k)) {
			if n.Kind == yaml.ScalarNode {
				argv = append(argv, n)
			}
		}
	}
	p.steps(s, task, pod, argv)
	for _, e := range p.items(p.get(c, "env")) {
		if n := p.get(e, "name"); n != nil && n.Kind == yaml.ScalarNode {
			s.Env = append(s.Env, pipeline.EnvVar{Name: n.Value, Value: p.str(e, "value"), Pos: yamlsrc.Pos(n)})
		}
	}
	res := p.get(c, "resources")
	if acc := p.get(res, "accelerator"); acc != nil {
		count := p.str(acc, "resourceCount")
		if count == "" {
			count = p.str(acc, "count")
		}
		if count != "0" {
			s.GPU = pipeline.True
			s.Fields["accelerator"] = yamlsrc.Pos(acc)
			typ := p.str(acc, "resourceType")
			if typ == "" {
				typ = p.str(acc, "type")
			}
			if typ != "" {
				s.RunnerLabels = append(s.RunnerLabels, "accelerator="+typ)
			}
		}
	}
}

// steps turns a container's argv into steps. `sh -c SCRIPT $0 ...` yields
// the script as a shell step, and a multi-line argument after it (the
// component's Python source that the KFP runner script writes to a file)
// as a python step. A command that is not a shell script is one step with
// the argv joined.
func (p *parser) steps(s *pipeline.Stage, task *Task, pod *k8s.Pod, argv []*yaml.Node) {
	if len(argv) == 0 {
		return
	}
	var plain []string
	afterScript := false
	for i := 0; i < len(argv); i++ {
		v := argv[i].Value
		if (v == "-c" || v == "-ec" || v == "-exc" || v == "-ce") && i+1 < len(argv) && i > 0 {
			sh := baseName(argv[i-1].Value)
			if sh == "sh" || sh == "bash" || sh == "dash" || sh == "ash" || sh == "zsh" || sh == "ksh" {
				n := argv[i+1]
				p.addStep(s, n, "sh", pipInstallName(n.Value))
				if strings.Contains(n.Value, "pip") {
					if pips := ParsePipInstalls(n.Value); len(pips) > 0 && task.PipStep < 0 {
						task.Pips, task.PipStep = pips, len(s.Steps)-1
					}
				}
				i++
				afterScript = true
				continue
			}
		}
		if afterScript && strings.Contains(v, "\n") && looksPython(v) {
			p.addStep(s, argv[i], "python", "component source")
			pod.Script = true
			continue
		}
		plain = append(plain, v)
	}
	if !afterScript && len(plain) > 0 {
		run := strings.Join(plain, " ")
		if len(run) > 1<<20 {
			run = run[:1<<20]
		}
		s.Steps = append(s.Steps, pipeline.Step{Name: "command", Pos: yamlsrc.Pos(argv[0]), Run: run})
	}
}

func pipInstallName(script string) string {
	if strings.Contains(script, "pip install") {
		return "bootstrap"
	}
	return "script"
}

func (p *parser) addStep(s *pipeline.Stage, n *yaml.Node, shell, name string) {
	start, literal := p.textStart(n)
	if p.curNodes != nil {
		p.curNodes[len(s.Steps)] = n
	}
	s.Steps = append(s.Steps, pipeline.Step{Name: name, Pos: yamlsrc.Pos(n), Run: n.Value, RunPos: start, RunLiteral: literal, Shell: shell})
}

// textStart is yamlsrc.Lines.TextStart without a second line index: for
// quoted and plain scalars the first character's position is exact.
func (p *parser) textStart(n *yaml.Node) (pipeline.Pos, bool) {
	pos := p.text.Locate(n, 0)
	literal := n.Style&yaml.LiteralStyle != 0 || !strings.Contains(n.Value, "\n")
	if n.Style&yaml.LiteralStyle != 0 && pos.Line == 0 {
		pos = yamlsrc.Pos(n)
	}
	return pos, literal
}

func looksPython(v string) bool {
	return strings.Contains(v, "\nimport ") || strings.Contains(v, "\ndef ") || strings.Contains(v, "\nfrom ") ||
		strings.HasPrefix(v, "import ") || strings.HasPrefix(v, "def ") || strings.HasPrefix(v, "from ")
}

func baseName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// platformFor applies the Kubernetes platform spec of the task's executor.
func (p *parser) platformFor(s *pipeline.Stage, task *Task, pod *k8s.Pod, label string) {
	cfg := p.platform[label]
	if cfg == nil {
		return
	}
	save := p.b
	if p.platBudget != nil {
		p.b = p.platBudget
	}
	defer func() { p.b = save }()
	for _, kind := range []string{"secretAsEnv", "secretAsVolume"} {
		for _, sec := range p.items(p.get(cfg, kind)) {
			n := p.get(sec, "secretName")
			name := ""
			pos := yamlsrc.Pos(sec)
			if n != nil && n.Kind == yaml.ScalarNode {
				name, pos = n.Value, yamlsrc.Pos(n)
			} else if c := p.get(p.get(p.get(sec, "secretNameParameter"), "runtimeValue"), "constant"); c != nil {
				name, pos = c.Value, yamlsrc.Pos(c)
			} else if c := p.get(p.get(sec, "secretNameParameter"), "componentInputParameter"); c != nil && c.Kind == yaml.ScalarNode {
				name, pos = "(secret named by parameter "+strings.TrimPrefix(c.Value, "pipelinechannel--")+")", yamlsrc.Pos(c)
			} else {
				name = "(secret chosen at run time)"
			}
			s.Secrets = append(s.Secrets, pipeline.Secret{Name: name, Pos: pos})
			if _, ok := s.Fields[kind]; !ok {
				s.Fields[kind] = pos
			}
			if kind == "secretAsEnv" {
				pod.SecretEnv = append(pod.SecretEnv, k8s.Named{Name: name, Pos: pos})
				for _, ke := range p.items(p.get(sec, "keyToEnv")) {
					if ev := p.get(ke, "envVar"); ev != nil {
						s.Env = append(s.Env, pipeline.EnvVar{Name: ev.Value, Value: "secret:" + name, Pos: yamlsrc.Pos(ev)})
					}
				}
			}
		}
	}
	for _, fp := range p.items(p.get(cfg, "fieldPathAsEnv")) {
		if n := p.get(fp, "name"); n != nil {
			s.Env = append(s.Env, pipeline.EnvVar{Name: n.Value, Value: "fieldPath:" + p.str(fp, "fieldPath"), Pos: yamlsrc.Pos(n)})
		}
	}
	if ns := p.get(cfg, "nodeSelector"); ns != nil {
		labels := p.get(ns, "labels")
		for _, kv := range p.pairs(labels) {
			s.RunnerLabels = append(s.RunnerLabels, kv[0].Value+"="+kv[1].Value)
			if k8s.IsGPUNodeLabel(kv[0].Value) {
				s.GPU = pipeline.True
				s.Fields["nodeSelector"] = yamlsrc.Pos(kv[0])
			}
		}
		if labels == nil && p.get(ns, "nodeSelectorJson") != nil && s.GPU != pipeline.True {
			s.GPU = pipeline.Unknown // chosen at run time
		}
	}
	for _, tol := range p.items(p.get(cfg, "tolerations")) {
		if k := p.get(tol, "key"); k != nil && k.Kind == yaml.ScalarNode && k8s.IsGPUNodeLabel(k.Value) {
			s.GPU = pipeline.True
			s.Fields["tolerations"] = yamlsrc.Pos(k)
		}
	}
	for _, m := range p.items(p.get(cfg, "pvcMount")) {
		name := ""
		if c := p.get(p.get(p.get(m, "pvcNameParameter"), "runtimeValue"), "constant"); c != nil && c.Kind == yaml.ScalarNode {
			name = c.Value
		} else if c := p.get(m, "constant"); c != nil && c.Kind == yaml.ScalarNode {
			name = c.Value
		} else if o := p.get(m, "taskOutputParameter"); o != nil {
			name = "output " + p.str(o, "producerTask") + "." + p.str(o, "outputParameterKey")
		} else if c := p.get(m, "componentInputParameter"); c != nil {
			name = "parameter " + c.Value
		} else {
			name = "(chosen at run time)"
		}
		v := pipeline.Volume{Name: "pvc:" + name, Kind: "pvc", Path: p.str(m, "mountPath"), Pos: yamlsrc.Pos(m)}
		s.Volumes = append(s.Volumes, v)
		task.PVCs = append(task.PVCs, v)
		if _, ok := s.Fields["pvcMount"]; !ok {
			s.Fields["pvcMount"] = v.Pos
		}
	}
	if sc := p.get(cfg, "securityContext"); sc != nil {
		if u := p.get(sc, "runAsUser"); u != nil && strings.Trim(u.Value, "'\" ") == "0" {
			pod.RunAsRoot.Mark("runAsUser: 0", yamlsrc.Pos(u))
		}
		if u := p.get(sc, "runAsNonRoot"); u != nil && u.Value == "false" {
			pod.RunAsRoot.Mark("runAsNonRoot: false", yamlsrc.Pos(u))
		}
		if u := p.get(sc, "privileged"); u != nil && u.Value == "true" {
			pod.Privileged.Mark("privileged: true", yamlsrc.Pos(u))
			s.Isolation = pipeline.IsolationNone
		}
	}
}

// chainVolumes links stages that share persistent volumes (see
// k8s.ChainVolumes).
func (p *parser) chainVolumes() { k8s.ChainVolumes(p.g.Stages) }
