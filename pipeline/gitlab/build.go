package gitlab

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
)

// defaultStages are GitLab's stages when the file declares none.
var defaultStages = []string{".pre", "build", "test", "deploy", ".post"}

// defaultKeys are the job keywords `default:` (and the legacy top-level
// keywords) supply to jobs that do not set them.
var defaultKeys = []string{"image", "services", "cache", "before_script", "after_script", "tags", "artifacts",
	"id_tokens", "retry", "timeout", "interruptible", "hooks", "identity"}

// build turns the merged configuration into stages.
func (p *parser) build(g *pipeline.Graph) {
	top := p.top
	d := p.doc
	d.extPRs = mentionsExternalPRs(p.src.Src)
	// stages
	d.Stages = defaultStages
	if st := p.deref(top.get("stages")); st != nil || top.has("types") {
		if st == nil {
			st = p.deref(top.get("types"))
		}
		var list []string
		for _, it := range p.flatList(st, 0) {
			if s, ok := it.str(); ok {
				list = append(list, s)
			}
		}
		if st.kind != kSeq {
			p.verr(st, "stages must be a list, got %s", describe(st))
		}
		d.Stages = append(append([]string{".pre"}, list...), ".post")
	}
	stageIdx := map[string]int{}
	for i, s := range d.Stages {
		if _, ok := stageIdx[s]; !ok {
			stageIdx[s] = i
		}
	}
	d.Variables = p.variablesOf(top.get("variables"), "global")
	globals := map[string]string{}
	for _, v := range d.Variables {
		globals[v.Name] = v.Value
	}
	if wf := p.deref(top.get("workflow")); wf != nil && wf.has("rules") {
		d.HasWorkflowRules = true
		ctx := mrContext(globals)
		ctx.sig = "\x00"
		d.WorkflowMR = p.evalRules(wf.get("rules"), ctx, "always")
	} else {
		d.WorkflowMR = pipeline.True
	}
	// default: and the legacy top-level keywords.
	defaults := &value{kind: kMap}
	for _, k := range []string{"image", "services", "cache", "before_script", "after_script"} {
		if pos, v := top.getKey(k); v != nil {
			defaults = defaults.set(k, v, pos)
		}
	}
	if dv := p.deref(top.get("default")); dv != nil {
		if dv.kind != kMap {
			p.verr(dv, "default must be a mapping, got %s", describe(dv))
		} else {
			for i, k := range dv.keys {
				if contains(defaultKeys, k) {
					defaults = defaults.set(k, dv.vals[i], dv.keyPos[i])
				}
			}
		}
	}
	for i, name := range top.keys {
		if reservedKeys[name] || strings.HasPrefix(name, ".") {
			continue
		}
		raw := top.vals[i]
		if raw.kind != kMap {
			if p.lenient {
				continue
			}
			p.errorAt(raw.file, top.keyPos[i], "job %q must be a mapping of keywords, got %s", name, describe(raw))
			continue
		}
		if len(d.Jobs) >= MaxJobs {
			p.errorAt(raw.file, top.keyPos[i], "more than %d jobs", MaxJobs)
			break
		}
		job := p.extend(name)
		if job == nil || job.kind != kMap || p.overBudget {
			continue
		}
		j := p.job(name, top.keyPos[i], job, defaults, globals, stageIdx)
		if j == nil {
			continue
		}
		d.Jobs = append(d.Jobs, j)
		g.Stages = append(g.Stages, j.Stage)
	}
	if len(d.Jobs) == 0 && len(p.errs) == 0 && !p.lenient && !d.Partial {
		p.errorAt(0, top.pos, "the configuration has no visible jobs (GitLab requires at least one job that does not start with '.')")
	}
	p.link(stageIdx)
}

// inheritSpec returns whether a job inherits each key under
// inherit:<what> (true, false, or a list of names), read once per job.
func (p *parser) inheritSpec(job *value, what string) func(string) bool {
	all := func(string) bool { return true }
	inh := p.deref(job.get("inherit"))
	if inh == nil {
		return all
	}
	x := p.deref(inh.get(what))
	if x == nil {
		return all
	}
	if s, ok := x.str(); ok {
		b := s != "false"
		return func(string) bool { return b }
	}
	set := map[string]bool{}
	for _, it := range p.flatList(x, 0) {
		if s, ok := it.str(); ok {
			set[s] = true
		}
	}
	return func(k string) bool { return set[k] }
}

// variablesOf reads a `variables:` mapping.
func (p *parser) variablesOf(v *value, scope string) []Variable {
	v = p.deref(v)
	if v == nil || v.kind == kNull {
		return nil
	}
	if v.kind != kMap {
		p.verr(v, "variables must be a mapping, got %s", describe(v))
		return nil
	}
	out := make([]Variable, 0, len(v.keys))
	for i, k := range v.keys {
		x := p.deref(v.vals[i])
		vr := Variable{Name: k, Pos: v.keyPos[i], Scope: scope}
		if x != nil && x.kind == kMap {
			x = p.deref(x.get("value"))
		}
		if x != nil {
			vr.ValuePos = x.pos
			if s, ok := x.str(); ok {
				vr.Value = s
			}
		}
		vr.Literal = strings.TrimSpace(varRef.ReplaceAllString(vr.Value, "")) != ""
		out = append(out, vr)
	}
	return out
}

// varRef matches $NAME and ${NAME} references.
var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// expand substitutes variables with known values, leaving others as they are.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	for i := 0; i < 3 && strings.Contains(s, "$"); i++ {
		n := varRef.ReplaceAllStringFunc(s, func(m string) string {
			name := varRef.FindStringSubmatch(m)[1]
			if v, ok := vars[name]; ok {
				return v
			}
			return m
		})
		if n == s || len(n) > 4096 {
			break
		}
		s = n
	}
	return s
}

// job builds one visible job.
func (p *parser) job(name string, at pipeline.Pos, job, defaults *value, globals map[string]string, stageIdx map[string]int) *Job {
	if !p.charge(len(defaults.keys) + len(job.keys)) {
		return nil
	}
	inhDefault := p.inheritSpec(job, "default")
	for i, k := range defaults.keys {
		if !job.has(k) && inhDefault(k) {
			job = job.set(k, defaults.vals[i], defaults.keyPos[i])
		}
	}
	j := &Job{Name: name, StageName: "test"}
	s := &pipeline.Stage{Name: name, Pos: at, Kind: "job", Fields: map[string]pipeline.Pos{}}
	j.Stage = s
	for i, k := range job.keys {
		s.Fields[k] = job.keyPos[i]
	}
	if st, ok := p.deref(job.get("stage")).str(); ok {
		j.StageName = st
		if _, known := stageIdx[st]; !known && !p.lenient && !p.doc.Partial {
			p.verr(job.get("stage"), "job %q uses stage %q, which is not in stages (%s)", name, st, strings.Join(p.doc.Stages, ", "))
		}
	}
	hasScript := job.has("script") || job.has("run")
	hasTrigger := job.has("trigger")
	if !hasScript && !hasTrigger {
		if contains(p.doc.unknownExtends, name) || p.lenient {
			p.doc.Partial = true
		} else if p.doc.Partial {
			p.note(job, "job %q has no script here; it may come from a file that could not be read", name)
		} else {
			p.errorAt(job.file, at, "job %q has no script, run or trigger", name)
			return nil
		}
	}
	// Variables: the job's own, then the globals it inherits. Every job
	// gets its own copy of them (Stage.Env): bounded in total, so a hostile
	// file cannot multiply them through aliases.
	jv := p.deref(job.get("variables"))
	if jv != nil && jv.kind == kMap {
		p.copies += len(jv.keys)
	}
	p.copies += len(p.doc.Variables)
	if p.copies > maxCopies {
		if !p.copiesExceeded {
			p.copiesExceeded = true
			p.errorAt(job.file, at, "the jobs inherit more than %d variables in total", maxCopies)
		}
		return nil
	}
	j.Variables = p.variablesOf(jv, "job")
	// Jobs that inherit every global variable share the global slice and
	// map (read-only); others get their own.
	vars := globals
	if inh := p.deref(job.get("inherit")); inh != nil && inh.has("variables") {
		inhVars := p.inheritSpec(job, "variables")
		vars = map[string]string{}
		for _, v := range p.doc.Variables {
			if inhVars(v.Name) {
				j.Inherited = append(j.Inherited, v)
				vars[v.Name] = v.Value
			}
		}
	} else {
		j.Inherited = p.doc.Variables[:len(p.doc.Variables):len(p.doc.Variables)]
	}
	if len(j.Variables) > 0 {
		own := make(map[string]string, len(vars)+len(j.Variables))
		for k, v := range vars {
			own[k] = v
		}
		for _, v := range j.Variables {
			own[v.Name] = v.Value
		}
		vars = own
	}
	s.Env = make([]pipeline.EnvVar, 0, len(j.Inherited)+len(j.Variables))
	for _, vs := range [][]Variable{j.Inherited, j.Variables} {
		for _, v := range vs {
			s.Env = append(s.Env, pipeline.EnvVar{Name: v.Name, Value: v.Value, Pos: v.Pos})
		}
	}
	if w, ok := p.deref(job.get("when")).str(); ok {
		j.When = w
	}
	p.at = at
	p.matrix(j, job)
	p.steps(s, job)
	if p.overBudget {
		return nil
	}
	p.images(j, job, vars)
	p.tags(j, job, vars)
	p.artifactsAndCaches(j, job)
	p.needs(j, job)
	p.misc(j, job)
	p.secrets(j, job)
	if hasTrigger {
		s.Kind = "trigger"
	}
	// Merge-request reachability.
	when := j.When
	if when == "" {
		when = "on_success"
	}
	var sig strings.Builder
	for _, v := range j.Variables {
		if sig.Len() > 4096 {
			sig.Reset()
			sig.WriteByte(0)
			break
		}
		sig.WriteString(v.Name + "=" + v.Value + "\x01")
	}
	j.MR, j.MRReason = p.jobMR(job, vars, sig.String(), when)
	s.ForkReachable = j.MR
	switch {
	case job.has("rules"):
		s.Fields["runs_untrusted_code"] = s.FieldPos("rules")
	case job.has("only"):
		s.Fields["runs_untrusted_code"] = s.FieldPos("only")
	}
	p.infer(j, job)
	return j
}

// matrix collects parallel:matrix values.
func (p *parser) matrix(j *Job, job *value) {
	par := p.deref(job.get("parallel"))
	if par == nil || par.kind != kMap {
		return
	}
	for _, entry := range p.flatList(par.get("matrix"), 0) {
		if entry.kind != kMap {
			continue
		}
		for i, k := range entry.keys {
			x := p.deref(entry.vals[i])
			if j.Matrix == nil {
				j.Matrix = map[string][]string{}
			}
			if s, ok := x.str(); ok {
				j.Matrix[k] = appendUnique(j.Matrix[k], s)
				continue
			}
			for _, it := range p.flatList(x, 0) {
				if s, ok := it.str(); ok {
					j.Matrix[k] = appendUnique(j.Matrix[k], s)
				}
			}
		}
	}
}

func appendUnique(xs []string, s string) []string {
	if contains(xs, s) || len(xs) >= 1000 {
		return xs
	}
	return append(xs, s)
}

// steps reads before_script, script and after_script.
func (p *parser) steps(s *pipeline.Stage, job *value) {
	for _, key := range []string{"before_script", "script", "after_script"} {
		v := p.deref(job.get(key))
		if v == nil {
			continue
		}
		var items []*value
		switch v.kind {
		case kScalar:
			items = []*value{v}
		case kSeq:
			items = p.flatList(v, 0)
			if p.overBudget {
				return
			}
		default:
			p.verr(v, "%s must be a string or a list of strings, got %s", key, describe(v))
			continue
		}
		for _, it := range items {
			str, ok := it.str()
			if !ok {
				if it.kind == kSeq {
					p.verr(it, "%s nests lists or !reference tags more than 10 levels deep (a !reference to itself?)", key)
				} else if it.kind != kNull {
					p.verr(it, "%s entries must be strings, got %s (quote a command that contains \": \")", key, describe(it))
				}
				continue
			}
			p.stepText += len(str)
			if p.stepText > p.maxStepText {
				if !p.stepTextExceeded {
					p.stepTextExceeded = true
					p.verr(it, "the jobs' scripts add up to more than %d MiB (scripts repeated through aliases, extends or !reference)", p.maxStepText>>20)
				}
				return
			}
			st := pipeline.Step{Name: key, Pos: it.pos, Run: str}
			if it.y != nil && it.file < len(p.files) {
				pos, lit := p.files[it.file].lines.TextStart(it.y)
				pos.File = it.pos.File
				st.RunPos, st.RunLiteral = pos, lit
			}
			s.Steps = append(s.Steps, st)
		}
	}
}

// imageName reads an image value: a string or {name: ...}.
func (p *parser) imageName(v *value) (string, pipeline.Pos, bool) {
	v = p.deref(v)
	if v == nil {
		return "", pipeline.Pos{}, false
	}
	if s, ok := v.str(); ok {
		return s, v.pos, true
	}
	if v.kind == kMap {
		if n := p.deref(v.get("name")); n != nil {
			if s, ok := n.str(); ok {
				return s, n.pos, true
			}
		}
	}
	p.verr(v, "image must be a name or a mapping with name, got %s", describe(v))
	return "", pipeline.Pos{}, false
}

func (p *parser) images(j *Job, job *value, vars map[string]string) {
	s := j.Stage
	if name, pos, ok := p.imageName(job.get("image")); ok && name != "" {
		s.Images = append(s.Images, pipeline.Image{Ref: expand(name, vars), Pos: pos, Kind: "job"})
		if im := p.deref(job.get("image")); im != nil && im.kind == kMap {
			if dk := p.deref(im.get("docker")); dk != nil && dk.kind == kMap {
				j.ImageUser, _ = p.deref(dk.get("user")).str()
			}
		}
	}
	sv := p.deref(job.get("services"))
	if sv == nil {
		return
	}
	items := p.flatList(sv, 0)
	if sv.kind != kSeq {
		items = []*value{sv}
	}
	for _, it := range items {
		name, pos, ok := p.imageName(it)
		if !ok || name == "" {
			continue
		}
		svc := Service{Name: expand(name, vars), Pos: pos}
		if it.kind == kMap {
			svc.Alias, _ = p.deref(it.get("alias")).str()
			for _, k := range []string{"entrypoint", "command"} {
				for _, c := range p.flatList(it.get(k), 0) {
					if cs, ok := c.str(); ok {
						svc.Command = append(svc.Command, cs)
					}
				}
			}
		}
		j.Services = append(j.Services, svc)
		s.Images = append(s.Images, pipeline.Image{Ref: svc.Name, Pos: pos, Kind: "service"})
	}
}

// tags reads runner tags, substituting variables and every matrix value.
func (p *parser) tags(j *Job, job *value, vars map[string]string) {
	tv := p.deref(job.get("tags"))
	if tv == nil {
		return
	}
	items := p.flatList(tv, 0)
	if tv.kind == kScalar {
		items = []*value{tv}
	}
	for _, it := range items {
		t, ok := it.str()
		if !ok {
			continue
		}
		for _, x := range expandMatrix(t, j.Matrix) {
			j.Tags = appendUnique(j.Tags, expand(x, vars))
		}
	}
}

// expandMatrix substitutes matrix variables with each of their values.
func expandMatrix(s string, m map[string][]string) []string {
	if len(m) == 0 || !strings.Contains(s, "$") {
		return []string{s}
	}
	out := []string{s}
	for _, name := range varRef.FindAllStringSubmatch(s, 4) {
		vals, ok := m[name[1]]
		if !ok {
			continue
		}
		var next []string
		for _, o := range out {
			for _, v := range vals {
				if len(next) < 1000 {
					next = append(next, strings.ReplaceAll(o, name[0], v))
				}
			}
		}
		out = next
	}
	return out
}

func (p *parser) strings(v *value) []string {
	v = p.deref(v)
	if s, ok := v.str(); ok {
		return []string{s}
	}
	var out []string
	for _, it := range p.flatList(v, 0) {
		if s, ok := it.str(); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) artifactsAndCaches(j *Job, job *value) {
	if a := p.deref(job.get("artifacts")); a != nil && a.kind == kMap {
		j.ArtifactPaths = p.strings(a.get("paths"))
		j.HasArtifacts = len(j.ArtifactPaths) > 0 || p.deref(a.get("untracked")).isTrue()
		if r := p.deref(a.get("reports")); r != nil && r.kind == kMap && len(r.keys) > 0 {
			j.HasArtifacts = true
		}
	}
	cv := p.deref(job.get("cache"))
	if cv == nil {
		return
	}
	entries := []*value{cv}
	if cv.kind == kSeq {
		entries = p.flatList(cv, 0)
	}
	for _, c := range entries {
		if c.kind != kMap {
			continue
		}
		ca := Cache{Key: "default", Policy: "pull-push", Pos: c.pos}
		if k := p.deref(c.get("key")); k != nil {
			if s, ok := k.str(); ok {
				ca.Key = s
			} else if k.kind == kMap {
				files := p.strings(k.get("files"))
				ca.Key = "files:" + strings.Join(files, ",")
				if pre, ok := p.deref(k.get("prefix")).str(); ok {
					ca.Key = pre + "-" + ca.Key
				}
			}
		}
		ca.Paths = p.strings(c.get("paths"))
		if len(ca.Paths) == 0 && !p.deref(c.get("untracked")).isTrue() {
			continue // a cache without paths stores nothing (cache: {} disables it)
		}
		if pol, ok := p.deref(c.get("policy")).str(); ok {
			ca.Policy = pol
		}
		ca.Unprotect = p.deref(c.get("unprotect")).isTrue()
		j.Caches = append(j.Caches, ca)
		ro := pipeline.False
		if !ca.Writes() {
			ro = pipeline.True
		}
		j.Stage.Volumes = append(j.Stage.Volumes, pipeline.Volume{Name: "cache:" + ca.Key, Kind: "cache",
			Path: strings.Join(ca.Paths, ","), ReadOnly: ro, Pos: ca.Pos})
	}
}

func (p *parser) needs(j *Job, job *value) {
	read := func(key string, into *[]Need) bool {
		v := p.deref(job.get(key))
		if v == nil {
			return false
		}
		if v.kind == kMap && key == "needs" {
			// needs: {pipeline: ...} is not valid; accept a single entry.
			v = &value{kind: kSeq, items: []*value{v}, pos: v.pos, file: v.file}
		}
		for _, it := range p.flatList(v, 0) {
			n := Need{Artifacts: true, Pos: it.pos}
			if s, ok := it.str(); ok {
				n.Job = s
			} else if it.kind == kMap {
				n.Job, _ = p.deref(it.get("job")).str()
				n.Project, _ = p.deref(it.get("project")).str()
				n.Ref, _ = p.deref(it.get("ref")).str()
				n.Pipeline, _ = p.deref(it.get("pipeline")).str()
				if a := p.deref(it.get("artifacts")); a != nil {
					if s, ok := a.str(); ok && s == "false" {
						n.Artifacts = false
					}
				}
			} else {
				continue
			}
			*into = append(*into, n)
		}
		return true
	}
	j.HasNeeds = read("needs", &j.Needs)
	j.HasDependencies = read("dependencies", &j.Dependencies)
}

func (p *parser) misc(j *Job, job *value) {
	if af := p.deref(job.get("allow_failure")); af != nil {
		j.AllowFailure = af.isTrue() || af.kind == kMap
		j.AllowFailurePos = j.Stage.FieldPos("allow_failure")
	}
	if e := p.deref(job.get("environment")); e != nil {
		action := "start"
		if s, ok := e.str(); ok {
			j.Environment = s
		} else if e.kind == kMap {
			j.Environment, _ = p.deref(e.get("name")).str()
			if a, ok := p.deref(e.get("action")).str(); ok {
				action = a
			}
		}
		if action != "start" {
			j.Environment = ""
		}
	}
	j.ResourceGroup, _ = p.deref(job.get("resource_group")).str()
	if t := p.deref(job.get("trigger")); t != nil {
		if s, ok := t.str(); ok {
			j.Trigger = s
		} else if t.kind == kMap {
			if pr, ok := p.deref(t.get("project")).str(); ok {
				j.Trigger = pr
			} else if t.has("include") {
				j.Trigger = "local"
				j.ChildIncludes = p.childIncludes(job)
			}
		}
	}
}

// secrets collects the credentials a job can read.
func (p *parser) secrets(j *Job, job *value) {
	s := j.Stage
	seen := map[string]bool{}
	add := func(name string, pos pipeline.Pos) {
		if seen[name] || len(s.Secrets) >= 1000 {
			return
		}
		seen[name] = true
		s.Secrets = append(s.Secrets, pipeline.Secret{Name: name, Pos: pos})
		if _, ok := s.Fields["secrets_available"]; !ok {
			s.Fields["secrets_available"] = pos
		}
	}
	if sv := p.deref(job.get("secrets")); sv != nil && sv.kind == kMap {
		for i, k := range sv.keys {
			j.SecretsKeyword = append(j.SecretsKeyword, k)
			add(k, sv.keyPos[i])
		}
	}
	if it := p.deref(job.get("id_tokens")); it != nil && it.kind == kMap {
		for i, k := range it.keys {
			j.IDTokens = append(j.IDTokens, k)
			add(k, it.keyPos[i])
		}
	}
	for _, vs := range [][]Variable{j.Inherited, j.Variables} {
		for _, v := range vs {
			if p.isCred(v.Name) {
				add(v.Name, v.Pos)
			}
			if strings.Contains(v.Value, "$") {
				for _, m := range varRef.FindAllStringSubmatch(v.Value, 8) {
					if p.isCred(m[1]) {
						add(m[1], v.ValuePos)
					}
				}
			}
		}
	}
	for i := range s.Steps {
		st := &s.Steps[i]
		for _, loc := range varRef.FindAllStringSubmatchIndex(st.Run, 64) {
			name := st.Run[loc[2]:loc[3]]
			if p.isCred(name) {
				add(name, st.PosAt(loc[0]))
			}
		}
	}
}

// infer fills the runner, isolation, GPU and network properties.
func (p *parser) infer(j *Job, job *value) {
	s := j.Stage
	s.Network = pipeline.Network{Access: pipeline.True}
	s.RunnerLabels = j.Tags
	tagsPos := s.FieldPos("tags")
	if _, ok := s.Fields["tags"]; ok {
		s.Fields["runner"] = tagsPos
	}
	unresolved, selfHosted := false, false
	for _, t := range j.Tags {
		switch {
		case strings.Contains(t, "$"):
			unresolved = true
		case !matchAny(p.opts.HostedTags, t):
			selfHosted = true
		}
	}
	hasImage := false
	for _, im := range s.Images {
		if im.Kind == "job" {
			hasImage = true
			s.Fields["isolation_level"] = im.Pos
		}
	}
	switch {
	case s.Kind == "trigger":
		// A trigger job starts another pipeline; it runs nothing itself.
		s.SelfHosted, s.Isolation, s.Runner = pipeline.False, pipeline.IsolationVM, pipeline.RunnerEphemeral
		s.Network.Access = pipeline.False
	case selfHosted:
		s.SelfHosted = pipeline.True
	case unresolved:
		s.SelfHosted = pipeline.Unknown
	default:
		s.SelfHosted = pipeline.False
		s.Runner = pipeline.RunnerEphemeral
		s.Isolation = pipeline.IsolationVM
	}
	if s.SelfHosted != pipeline.False {
		if hasImage {
			s.Isolation = pipeline.IsolationContainer
		} else {
			s.Isolation = pipeline.IsolationUnknown
			if _, ok := s.Fields["tags"]; ok {
				s.Fields["isolation_level"] = tagsPos
			}
		}
	}
	// GPU: a GPU tag (any matrix value), or GPU-selecting variables.
	s.GPU = pipeline.False
	if unresolved {
		s.GPU = pipeline.Unknown
	}
	for _, t := range j.Tags {
		if matchAny(p.opts.GPUTags, t) {
			s.GPU = pipeline.True
			s.Fields["has_gpu_access"] = tagsPos
		}
	}
	for _, v := range append(p.gpuVars(j.Inherited), j.Variables...) {
		val := strings.ToLower(strings.TrimSpace(v.Value))
		switch v.Name {
		case "NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "GPU_COUNT", "NUM_GPUS", "KUBERNETES_GPU_LIMIT":
			if val != "" && val != "none" && val != "void" && val != "-1" && val != "0" && s.Kind != "trigger" {
				s.GPU = pipeline.True
				if _, ok := s.Fields["has_gpu_access"]; !ok {
					s.Fields["has_gpu_access"] = v.Pos
				}
			}
		}
	}
	if s.Kind == "trigger" {
		s.RunsUntrustedCode = pipeline.False
	} else {
		s.RunsUntrustedCode = j.MR
	}
	pipeline.InferRoles(s)
	if j.Environment != "" && !s.HasRole(pipeline.RoleDeploy) {
		s.Roles = append(s.Roles, pipeline.RoleDeploy)
		s.RolesInferred = true
	}
}

// link turns needs, dependencies, artifacts and caches into graph edges.
// Artifacts are named after the job that makes them ("artifacts:build");
// a job without needs or dependencies downloads the artifacts of every job
// in earlier stages, which is modelled with one artifact per stage
// ("artifacts@stage:build"). Caches are named by key and by the stage that
// writes them ("cache:deps@build"), and read by jobs of later stages, so the
// graph stays acyclic while poisoning still flows forward.
func (p *parser) link(stageIdx map[string]int) {
	d := p.doc
	byName := map[string]*Job{}
	for _, j := range d.Jobs {
		byName[j.Name] = j
	}
	idx := func(j *Job) int {
		if i, ok := stageIdx[j.StageName]; ok {
			return i
		}
		return len(d.Stages)
	}
	producingStages := map[int]bool{}
	cacheWriters := map[string]map[int]string{}
	for _, j := range d.Jobs {
		if j.HasArtifacts {
			at := j.Stage.FieldPos("artifacts")
			j.Stage.Outputs = append(j.Stage.Outputs, pipeline.Output{Artifact: "artifacts:" + j.Name, Pos: at})
			j.Stage.Outputs = append(j.Stage.Outputs, pipeline.Output{Artifact: "artifacts@stage:" + j.StageName, Pos: at})
			producingStages[idx(j)] = true
		}
		for _, c := range j.Caches {
			if c.Writes() {
				if cacheWriters[c.Key] == nil {
					cacheWriters[c.Key] = map[int]string{}
				}
				cacheWriters[c.Key][idx(j)] = j.StageName
				j.Stage.Outputs = appendOutput(j.Stage.Outputs, pipeline.Output{Artifact: fmt.Sprintf("cache:%s@%s", c.Key, j.StageName), Pos: c.Pos})
			}
		}
	}
	var stagesSorted []int
	for i := range producingStages {
		stagesSorted = append(stagesSorted, i)
	}
	sort.Ints(stagesSorted)
	edges := 0
	for _, j := range d.Jobs {
		s := j.Stage
		have := map[string]bool{}
		addIn := func(a string, pos pipeline.Pos) {
			if have[a] {
				return
			}
			have[a] = true
			edges++
			if edges > maxEdges {
				return
			}
			s.Inputs = append(s.Inputs, pipeline.Input{Artifact: a, Pos: pos})
		}
		switch {
		case j.HasDependencies:
			for _, n := range j.Dependencies {
				if pj := byName[n.Job]; pj != nil && pj.HasArtifacts && pj != j {
					addIn("artifacts:"+n.Job, n.Pos)
				}
			}
		case j.HasNeeds:
			for _, n := range j.Needs {
				if n.Project != "" || n.Pipeline != "" || !n.Artifacts {
					continue
				}
				if pj := byName[n.Job]; pj != nil && pj.HasArtifacts && pj != j {
					addIn("artifacts:"+n.Job, n.Pos)
				}
			}
		default:
			me := idx(j)
			for _, si := range stagesSorted {
				if si >= me {
					break
				}
				addIn("artifacts@stage:"+d.Stages[si], s.Pos)
			}
		}
		me := idx(j)
		for _, c := range j.Caches {
			if !c.Reads() {
				continue
			}
			var ws []int
			for w := range cacheWriters[c.Key] {
				if w < me {
					ws = append(ws, w)
				}
			}
			sort.Ints(ws)
			for _, w := range ws {
				addIn(fmt.Sprintf("cache:%s@%s", c.Key, cacheWriters[c.Key][w]), c.Pos)
			}
		}
	}
	if edges > maxEdges {
		p.note(nil, "the pipeline's jobs and stages make more than %d artifact and cache dependencies; the rest are not modelled", maxEdges)
	}
}

func appendOutput(xs []pipeline.Output, o pipeline.Output) []pipeline.Output {
	for _, x := range xs {
		if x.Artifact == o.Artifact {
			return xs
		}
	}
	return append(xs, o)
}

// isCred is IsCredentialName, memoised per pipeline.
func (p *parser) isCred(name string) bool {
	if v, ok := p.creds[name]; ok {
		return v
	}
	v := IsCredentialName(name)
	if p.creds == nil {
		p.creds = map[string]bool{}
	}
	if len(p.creds) < 100_000 {
		p.creds[name] = v
	}
	return v
}

// gpuVars returns the variables of vs that can select a GPU (a copy).
func (p *parser) gpuVars(vs []Variable) []Variable {
	var out []Variable
	for _, v := range vs {
		switch v.Name {
		case "NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "GPU_COUNT", "NUM_GPUS", "KUBERNETES_GPU_LIMIT":
			out = append(out, v)
		}
	}
	return out
}
