package argo

import (
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// inputDecl is a template's input artifact: its name and the source it
// names itself (used when the caller binds nothing).
type inputDecl struct {
	name  string
	pos   pipeline.Pos
	refs  []string
	fetch []k8s.Fetch
}

// leafProto is what every invocation of a leaf template shares.
type leafProto struct {
	stage  pipeline.Stage
	tpl    Template
	pod    k8s.Pod
	inputs []inputDecl
	nodes  map[int]*yaml.Node
}

// protoFor builds (once per template) the invocation-independent part of
// a leaf stage.
func (p *parser) protoFor(t *yaml.Node) *leafProto {
	if pr, ok := p.protos[t]; ok {
		return pr
	}
	pr := &leafProto{nodes: map[int]*yaml.Node{}}
	p.protos[t] = pr
	s, tpl, pod := &pr.stage, &pr.tpl, &pr.pod
	*s = pipeline.Stage{
		Kind: "template", Isolation: pipeline.IsolationContainer, GPU: pipeline.False, SelfHosted: pipeline.True,
		Fields: map[string]pipeline.Pos{},
	}
	*tpl = Template{Name: p.str(t, "name"), Pos: yamlsrc.Pos(t), ScriptStep: -1}
	if k, _ := p.getKey(t, "name"); k != nil {
		tpl.Pos = yamlsrc.Pos(k)
	}
	for _, a := range p.items(p.get(p.get(t, "inputs"), "artifacts")) {
		an := p.get(a, "name")
		if an == nil {
			continue
		}
		var tmp k8s.Pod
		d := inputDecl{name: an.Value, pos: yamlsrc.Pos(an)}
		d.refs = p.externalArtifact(a, &tmp)
		d.fetch = tmp.Fetches
		pr.inputs = append(pr.inputs, d)
	}
	for _, a := range p.items(p.get(p.get(t, "outputs"), "artifacts")) {
		if an := p.get(a, "name"); an != nil {
			s.Outputs = append(s.Outputs, pipeline.Output{Artifact: "." + an.Value, Pos: yamlsrc.Pos(an)})
		}
	}
	s.Outputs = append(s.Outputs, pipeline.Output{Artifact: ".outputs"})
	p.curNodes = pr.nodes
	defer func() { p.curNodes = nil }()
	// Pod-level settings: the template's own, else the workflow's.
	p.podSettings(s, pod, t)
	switch {
	case p.get(t, "container") != nil:
		tpl.Kind = "container"
		p.container(s, pod, p.get(t, "container"), t)
	case p.get(t, "script") != nil:
		tpl.Kind = "script"
		sc := p.get(t, "script")
		p.container(s, pod, sc, t)
		if src := p.get(sc, "source"); src != nil && src.Kind == yaml.ScalarNode {
			shell := ""
			if cmd := p.items(p.get(sc, "command")); len(cmd) > 0 {
				shell = baseName(cmd[0].Value)
			}
			tpl.ScriptStep = len(s.Steps)
			p.addStep(s, src, shell, "source")
			pod.Script = true
		}
	case p.get(t, "containerSet") != nil:
		tpl.Kind = "containerSet"
		cs := p.get(t, "containerSet")
		for _, c := range p.items(p.get(cs, "containers")) {
			p.container(s, pod, c, t)
		}
		p.mountVolumes(s, pod, p.get(cs, "volumeMounts"), t)
	case p.get(t, "resource") != nil:
		tpl.Kind = "resource"
		r := p.get(t, "resource")
		k, v := p.getKey(r, "action")
		if v != nil {
			tpl.Action, tpl.ActionPos = v.Value, yamlsrc.Pos(k)
		}
		s.RunsUntrustedCode = pipeline.False
		s.Steps = append(s.Steps, pipeline.Step{Name: "resource " + tpl.Action, Pos: yamlsrc.Pos(k), Uses: "k8s-resource:" + tpl.Action, UsesPos: yamlsrc.Pos(k)})
	case p.get(t, "http") != nil:
		tpl.Kind = "http"
		s.RunsUntrustedCode = pipeline.False
		h := p.get(t, "http")
		pod.Fetches = append(pod.Fetches, k8s.Fetch{Kind: "http", URL: p.str(h, "url"), Pos: yamlsrc.Pos(h)})
		s.Steps = append(s.Steps, pipeline.Step{Name: "http", Pos: yamlsrc.Pos(h), Uses: "http:" + p.str(h, "url"), UsesPos: yamlsrc.Pos(h)})
	case p.get(t, "suspend") != nil:
		tpl.Kind = "suspend"
		s.RunsUntrustedCode = pipeline.False
	case p.get(t, "data") != nil:
		tpl.Kind = "data"
		s.RunsUntrustedCode = pipeline.False
	case p.get(t, "plugin") != nil:
		tpl.Kind = "plugin"
		s.Isolation = pipeline.IsolationUnknown
		s.GPU = pipeline.Unknown
	default:
		tpl.Kind = "unknown"
		s.Isolation = pipeline.IsolationUnknown
	}
	for _, kind := range []string{"initContainers", "sidecars"} {
		for _, c := range p.items(p.get(t, kind)) {
			p.container(s, pod, c, t)
		}
	}
	if pod.Privileged.Set || pod.HostPID.Set {
		s.Isolation = pipeline.IsolationNone
	}
	if pod.HostNetwork.Set {
		s.Network.Access = pipeline.True
		s.Fields["hostNetwork"] = pod.HostNetwork.Pos
	}
	return pr
}

// leaf adds the stage for one invocation of a template that runs a pod or
// an agent action.
func (p *parser) leaf(name string, t *yaml.Node, arts map[string][]string, inputs []pipeline.Input, key *yaml.Node) {
	if len(p.g.Stages) >= MaxStages {
		p.overflow = true
		return
	}
	pr := p.protoFor(t)
	s := new(pipeline.Stage)
	*s = pr.stage
	s.Name, s.Pos, s.Inputs = name, yamlsrc.Pos(key), inputs
	s.Outputs = make([]pipeline.Output, len(pr.stage.Outputs))
	for i, o := range pr.stage.Outputs {
		pos := o.Pos
		if pos.Line == 0 {
			pos = s.Pos
		}
		s.Outputs[i] = pipeline.Output{Artifact: name + o.Artifact, Pos: pos}
	}
	s.Fields = make(map[string]pipeline.Pos, len(pr.stage.Fields))
	for k, v := range pr.stage.Fields {
		s.Fields[k] = v
	}
	s.Steps = append([]pipeline.Step(nil), pr.stage.Steps...)
	s.Secrets = append([]pipeline.Secret(nil), pr.stage.Secrets...)
	s.Volumes = append([]pipeline.Volume(nil), pr.stage.Volumes...)
	s.Env = append([]pipeline.EnvVar(nil), pr.stage.Env...)
	s.Images = append([]pipeline.Image(nil), pr.stage.Images...)
	s.RunnerLabels = append([]string(nil), pr.stage.RunnerLabels...)
	tpl := new(Template)
	*tpl = pr.tpl
	pod := new(k8s.Pod)
	*pod = pr.pod
	pod.Fetches = append([]k8s.Fetch(nil), pr.pod.Fetches...)
	for i, n := range pr.nodes {
		p.kd.StepNodes[k8s.StepKey{Stage: s, Index: i}] = n
	}
	// Input artifacts: bound by the caller, or the template's own source.
	for _, d := range pr.inputs {
		refs, bound := arts[d.name]
		if !bound || len(refs) == 0 {
			refs = d.refs
			pod.Fetches = append(pod.Fetches, d.fetch...)
		} else {
			for _, r := range refs {
				if strings.HasPrefix(r, "external:") {
					pod.Fetches = append(pod.Fetches, k8s.Fetch{Kind: "artifact", URL: strings.TrimPrefix(r, "external:"), Pos: d.pos})
				}
			}
		}
		for _, r := range refs {
			s.Inputs = append(s.Inputs, pipeline.Input{Artifact: r, Trust: trustOf(r), Pos: d.pos})
		}
	}
	p.x.Templates[s] = tpl
	p.kd.Pods[s] = pod
	pipeline.InferRoles(s)
	p.g.Stages = append(p.g.Stages, s)
}

// setting returns key from the template, else from templateDefaults, else
// from the workflow spec.
func (p *parser) setting(t *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	for _, m := range []*yaml.Node{t, p.get(p.spec, "templateDefaults"), p.spec} {
		if k, v := p.getKey(m, key); v != nil {
			return k, v
		}
	}
	return nil, nil
}

func (p *parser) podSettings(s *pipeline.Stage, pod *k8s.Pod, t *yaml.Node) {
	if k, v := p.setting(t, "serviceAccountName"); v != nil && v.Kind == yaml.ScalarNode {
		pod.ServiceAccount, pod.ServiceAccountPos = v.Value, yamlsrc.Pos(k)
	}
	if k, v := p.setting(t, "automountServiceAccountToken"); v != nil && v.Kind == yaml.ScalarNode {
		pod.AutomountToken, pod.AutomountPos = pipeline.TriOf(v.Value == "true"), yamlsrc.Pos(k)
	}
	for _, f := range []struct {
		key  string
		flag *k8s.Flag
	}{{"hostNetwork", &pod.HostNetwork}, {"hostPID", &pod.HostPID}, {"hostIPC", &pod.HostIPC}} {
		if k, v := p.setting(t, f.key); v != nil && v.Value == "true" {
			f.flag.Mark(f.key+": true", yamlsrc.Pos(k))
		}
	}
	if k, v := p.setting(t, "podSpecPatch"); v != nil {
		pod.PodSpecPatch.Mark(v.Value, yamlsrc.Pos(k))
		// The patch is a strategic merge of arbitrary pod fields; look for
		// the dangerous ones in its text, since it cannot be applied here.
		for _, w := range []string{"hostNetwork", "hostPID", "hostIPC"} {
			if strings.Contains(v.Value, w+": true") || strings.Contains(v.Value, `"`+w+`": true`) || strings.Contains(v.Value, `"`+w+`":true`) {
				flag := map[string]*k8s.Flag{"hostNetwork": &pod.HostNetwork, "hostPID": &pod.HostPID, "hostIPC": &pod.HostIPC}[w]
				flag.Mark(w+": true (in podSpecPatch)", yamlsrc.Pos(k))
			}
		}
		if strings.Contains(v.Value, "privileged: true") || strings.Contains(v.Value, `"privileged": true`) || strings.Contains(v.Value, `"privileged":true`) {
			pod.Privileged.Mark("privileged: true (in podSpecPatch)", yamlsrc.Pos(k))
		}
	}
	if _, v := p.setting(t, "securityContext"); v != nil {
		p.securityContext(pod, v)
	}
	if _, ns := p.setting(t, "nodeSelector"); ns != nil {
		for _, kv := range p.pairs(ns) {
			s.RunnerLabels = append(s.RunnerLabels, kv[0].Value+"="+kv[1].Value)
			if k8s.IsGPUNodeLabel(kv[0].Value) {
				s.GPU = pipeline.True
				s.Fields["nodeSelector"] = yamlsrc.Pos(kv[0])
			}
		}
	}
	if _, tols := p.setting(t, "tolerations"); tols != nil {
		for _, tol := range p.items(tols) {
			if k := p.get(tol, "key"); k != nil && k.Kind == yaml.ScalarNode && k8s.IsGPUNodeLabel(k.Value) {
				s.GPU = pipeline.True
				s.Fields["tolerations"] = yamlsrc.Pos(k)
			}
		}
	}
}

// securityContext records dangerous pod or container security settings.
func (p *parser) securityContext(pod *k8s.Pod, sc *yaml.Node) {
	if k, v := p.getKey(sc, "privileged"); v != nil && v.Value == "true" {
		pod.Privileged.Mark("privileged: true", yamlsrc.Pos(k))
	}
	if k, v := p.getKey(sc, "runAsUser"); v != nil && v.Value == "0" {
		pod.RunAsRoot.Mark("runAsUser: 0", yamlsrc.Pos(k))
	}
	if k, v := p.getKey(sc, "runAsNonRoot"); v != nil && v.Value == "false" {
		pod.RunAsRoot.Mark("runAsNonRoot: false", yamlsrc.Pos(k))
	}
	if k, v := p.getKey(sc, "allowPrivilegeEscalation"); v != nil && v.Value == "true" {
		pod.AllowPrivilegeEscalation.Mark("allowPrivilegeEscalation: true", yamlsrc.Pos(k))
	}
	for _, c := range p.items(p.get(p.get(sc, "capabilities"), "add")) {
		if c.Kind == yaml.ScalarNode {
			pod.AddedCapabilities = append(pod.AddedCapabilities, k8s.Named{Name: strings.ToUpper(strings.TrimPrefix(c.Value, "CAP_")), Pos: yamlsrc.Pos(c)})
		}
	}
}

// container records one container's image, argv, env, resources,
// security context and mounts.
func (p *parser) container(s *pipeline.Stage, pod *k8s.Pod, c, t *yaml.Node) {
	if img := p.get(c, "image"); img != nil && img.Kind == yaml.ScalarNode {
		// Placeholders the KFP backend replaces at run time are not images
		// anyone runs.
		if !k8s.PlaceholderImage(img.Value) {
			s.Images = append(s.Images, pipeline.Image{Ref: img.Value, Pos: yamlsrc.Pos(img), Kind: "step"})
		}
		if _, ok := s.Fields["image"]; !ok {
			s.Fields["image"] = yamlsrc.Pos(img)
		}
	}
	var argv []*yaml.Node
	for _, k := range []string{"command", "args"} {
		for _, n := range p.items(p.get(c, k)) {
			if n.Kind == yaml.ScalarNode {
				argv = append(argv, n)
			}
		}
	}
	if p.get(c, "source") == nil { // a script's command is its interpreter
		p.argvSteps(s, argv)
	}
	for _, e := range p.items(p.get(c, "env")) {
		n := p.get(e, "name")
		if n == nil || n.Kind != yaml.ScalarNode {
			continue
		}
		ev := pipeline.EnvVar{Name: n.Value, Value: p.str(e, "value"), Pos: yamlsrc.Pos(n)}
		if ref := p.get(p.get(e, "valueFrom"), "secretKeyRef"); ref != nil {
			sec := p.str(ref, "name")
			ev.Value = "secret:" + sec
			s.Secrets = append(s.Secrets, pipeline.Secret{Name: sec, Pos: yamlsrc.Pos(n)})
			pod.SecretEnv = append(pod.SecretEnv, k8s.Named{Name: sec, Pos: yamlsrc.Pos(n)})
			if _, ok := s.Fields["secretKeyRef"]; !ok {
				s.Fields["secretKeyRef"] = yamlsrc.Pos(n)
			}
		}
		s.Env = append(s.Env, ev)
	}
	for _, e := range p.items(p.get(c, "envFrom")) {
		if ref := p.get(e, "secretRef"); ref != nil {
			sec := p.str(ref, "name")
			s.Secrets = append(s.Secrets, pipeline.Secret{Name: sec, Pos: yamlsrc.Pos(ref)})
			pod.SecretEnv = append(pod.SecretEnv, k8s.Named{Name: sec, Pos: yamlsrc.Pos(ref)})
		}
	}
	res := p.get(c, "resources")
	for _, kind := range []string{"limits", "requests"} {
		for _, kv := range p.pairs(p.get(res, kind)) {
			if k8s.IsGPUResource(kv[0].Value) && kv[1].Value != "0" {
				s.GPU = pipeline.True
				s.Fields["resources"] = yamlsrc.Pos(kv[0])
			}
		}
	}
	if sc := p.get(c, "securityContext"); sc != nil {
		p.securityContext(pod, sc)
	}
	p.mountVolumes(s, pod, p.get(c, "volumeMounts"), t)
}

// argvSteps turns a container's argv into steps: `sh -c SCRIPT` gives the
// script as a shell step; any other argv is one step with the words joined.
func (p *parser) argvSteps(s *pipeline.Stage, argv []*yaml.Node) {
	if len(argv) == 0 {
		return
	}
	var plain []string
	script := false
	for i := 0; i < len(argv); i++ {
		v := argv[i].Value
		if (v == "-c" || v == "-ec" || v == "-xc" || v == "-exc" || v == "-ce" || v == "-cx") && i > 0 && i+1 < len(argv) {
			switch baseName(argv[i-1].Value) {
			case "sh", "bash", "ash", "dash", "zsh", "ksh":
				p.addStep(s, argv[i+1], "sh", "command")
				script = true
				i++
				continue
			}
		}
		plain = append(plain, v)
	}
	if !script {
		run := strings.Join(plain, " ")
		if len(run) > 1<<20 {
			run = run[:1<<20]
		}
		s.Steps = append(s.Steps, pipeline.Step{Name: "command", Pos: yamlsrc.Pos(argv[0]), Run: run})
	}
}

func (p *parser) addStep(s *pipeline.Stage, n *yaml.Node, shell, name string) {
	pos := p.text.Locate(n, 0)
	if pos.Line == 0 {
		pos = yamlsrc.Pos(n)
	}
	literal := n.Style&yaml.LiteralStyle != 0 || !strings.Contains(n.Value, "\n")
	if p.curNodes != nil {
		p.curNodes[len(s.Steps)] = n
	}
	s.Steps = append(s.Steps, pipeline.Step{Name: name, Pos: yamlsrc.Pos(n), Run: n.Value, RunPos: pos, RunLiteral: literal, Shell: shell})
}

func baseName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// mountVolumes resolves volumeMounts against the template's volumes, the
// workflow's volumes and volumeClaimTemplates.
func (p *parser) mountVolumes(s *pipeline.Stage, pod *k8s.Pod, mounts, t *yaml.Node) {
	for _, m := range p.items(mounts) {
		name := p.str(m, "name")
		var vol *yaml.Node
		for _, v := range p.items(p.get(t, "volumes")) {
			if p.str(v, "name") == name {
				vol = v
				break
			}
		}
		claim := false
		if vol == nil {
			vol = p.wfVolumes[name]
			claim = p.claims[name]
		}
		ro := pipeline.False
		if p.str(m, "readOnly") == "true" {
			ro = pipeline.True
		}
		v := pipeline.Volume{Path: p.str(m, "mountPath"), ReadOnly: ro, Pos: yamlsrc.Pos(m)}
		switch {
		case claim:
			v.Kind, v.Name = "pvc", "pvc:"+p.wfName+"/"+name
		case vol == nil:
			continue
		case p.get(vol, "hostPath") != nil:
			hp := p.get(vol, "hostPath")
			v.Kind, v.Name = "hostPath", "hostPath:"+p.str(hp, "path")
			v.Pos = yamlsrc.Pos(hp)
			s.Fields["hostPath"] = v.Pos
		case p.get(vol, "persistentVolumeClaim") != nil:
			v.Kind, v.Name = "pvc", "pvc:"+p.str(p.get(vol, "persistentVolumeClaim"), "claimName")
		case p.get(vol, "secret") != nil:
			sec := p.str(p.get(vol, "secret"), "secretName")
			s.Secrets = append(s.Secrets, pipeline.Secret{Name: sec, Pos: yamlsrc.Pos(m)})
			continue
		case p.get(vol, "nfs") != nil:
			v.Kind, v.Name = "nfs", "nfs:"+p.str(p.get(vol, "nfs"), "server")+":"+p.str(p.get(vol, "nfs"), "path")
		default:
			continue
		}
		s.Volumes = append(s.Volumes, v)
	}
}
