package gha

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// Limits on hostile input.
const (
	// MaxJobs bounds the jobs of one workflow (GitHub allows 256).
	MaxJobs = 1000
	// MaxSteps bounds the steps of one job (GitHub allows 1000).
	MaxSteps = 2000
	// maxRunners bounds the candidate runners of one job after following
	// matrix values.
	maxRunners = 256
	// maxErrors caps the errors reported for one file.
	maxErrors = 50
	// maxGuardedNames bounds the secret names per expression whose guards
	// are analysed.
	maxGuardedNames = 16
	// maxMatrixValues bounds the values remembered per matrix key.
	maxMatrixValues = 1000
)

type parser struct {
	file  string
	lines *yamlsrc.Lines
	b     *yamlsrc.Budget
	errs  pipeline.SourceErrors
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	e := &pipeline.SourceError{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// r resolves aliases and charges the budget; nil when exhausted.
func (p *parser) r(n *yaml.Node) *yaml.Node {
	x := p.b.Resolve(n)
	if x == nil && p.b.Exceeded && len(p.errs) == 0 {
		p.errorf(n, "%s", yamlsrc.ErrBudgetMsg)
	}
	return x
}

// pairs returns the key/value pairs of a mapping with string keys (merge
// keys are expanded one level); nil when n is not a mapping.
func (p *parser) pairs(n *yaml.Node) [][2]*yaml.Node {
	n = p.r(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.r(n.Content[i]), n.Content[i+1]
		if k == nil {
			return out
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if m := p.r(v); m != nil && m.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(m.Content); j += 2 {
					if mk := p.r(m.Content[j]); mk != nil && mk.Kind == yaml.ScalarNode {
						out = append(out, [2]*yaml.Node{mk, m.Content[j+1]})
					}
				}
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			continue
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// get returns the value of key in mapping n (resolved), or nil.
func (p *parser) get(n *yaml.Node, key string) (k, v *yaml.Node) {
	for _, kv := range p.pairs(n) {
		if kv[0].Value == key {
			return kv[0], p.r(kv[1])
		}
	}
	return nil, nil
}

// scalar returns a scalar's value; ok is false for other nodes and null.
func (p *parser) scalar(n *yaml.Node) (string, bool) {
	n = p.r(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// items returns a sequence's elements, or the node itself for a scalar.
func (p *parser) items(n *yaml.Node) []*yaml.Node {
	n = p.r(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []*yaml.Node{n}
	}
	return nil
}

func (p *parser) strList(n *yaml.Node) []string {
	var out []string
	for _, x := range p.items(n) {
		if s, ok := p.scalar(x); ok {
			out = append(out, s)
		}
	}
	return out
}

// workflow parses a workflow document.
func (p *parser) workflow(root *yaml.Node) *Workflow {
	w := &Workflow{}
	root = p.r(root)
	if root == nil || root.Kind != yaml.MappingNode {
		if root != nil {
			p.errorf(root, "a workflow must be a mapping, got %s", yamlsrc.KindName(root))
		}
		return w
	}
	var jobsK, jobsV *yaml.Node
	onSeen := false
	for _, kv := range p.pairs(root) {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "name":
			w.Name, _ = p.scalar(v)
		case "on", "true":
			onSeen = true
			w.OnPos = yamlsrc.Pos(k)
			w.Triggers = p.triggers(v)
		case "permissions":
			w.Permissions = p.permissions(k, v)
		case "env":
			w.Env = p.env(v)
		case "defaults":
			_, run := p.get(v, "run")
			_, sh := p.get(run, "shell")
			w.Shell, _ = p.scalar(sh)
		case "jobs":
			jobsK, jobsV = k, v
		}
	}
	if !onSeen {
		p.errorf(root, "a workflow needs `on:` (its triggers)")
	}
	if jobsK == nil {
		p.errorf(root, "a workflow needs `jobs:`")
		return w
	}
	jv := p.r(jobsV)
	if jv == nil {
		return w
	}
	if jv.Kind != yaml.MappingNode {
		p.errorf(jv, "`jobs` must be a mapping of job IDs to jobs, got %s", yamlsrc.KindName(jv))
		return w
	}
	for _, kv := range p.pairs(jv) {
		if len(w.Jobs) >= MaxJobs {
			p.errorf(kv[0], "more than %d jobs", MaxJobs)
			break
		}
		if j := p.job(w, kv[0], kv[1]); j != nil {
			w.Jobs = append(w.Jobs, j)
		}
	}
	return w
}

func (p *parser) triggers(n *yaml.Node) []Trigger {
	n = p.r(n)
	if n == nil {
		return nil
	}
	var out []Trigger
	switch n.Kind {
	case yaml.ScalarNode, yaml.SequenceNode:
		for _, x := range p.items(n) {
			if s, ok := p.scalar(x); ok {
				out = append(out, Trigger{Event: s, Pos: yamlsrc.Pos(x)})
			}
		}
	case yaml.MappingNode:
		for _, kv := range p.pairs(n) {
			t := Trigger{Event: kv[0].Value, Pos: yamlsrc.Pos(kv[0])}
			cfg := kv[1]
			for _, f := range p.pairs(cfg) {
				switch f[0].Value {
				case "types":
					t.Types = p.strList(f[1])
				case "branches":
					t.Branches = p.strList(f[1])
				case "tags":
					t.Tags = p.strList(f[1])
				case "workflows":
					t.Workflows = p.strList(f[1])
				}
			}
			out = append(out, t)
		}
	default:
		p.errorf(n, "`on` must be an event, a list of events or a mapping, got %s", yamlsrc.KindName(n))
	}
	return out
}

func (p *parser) permissions(k, v *yaml.Node) *Permissions {
	v = p.r(v)
	perm := &Permissions{Pos: yamlsrc.Pos(k), Scopes: map[string]string{}, ScopePos: map[string]pipeline.Pos{}}
	if v == nil {
		return perm
	}
	if s, ok := p.scalar(v); ok {
		perm.All = s
		return perm
	}
	for _, kv := range p.pairs(v) {
		if s, ok := p.scalar(kv[1]); ok {
			perm.Scopes[kv[0].Value] = s
			perm.ScopePos[kv[0].Value] = yamlsrc.Pos(kv[0])
		}
	}
	return perm
}

func (p *parser) env(n *yaml.Node) []pipeline.EnvVar {
	var out []pipeline.EnvVar
	for _, kv := range p.pairs(n) {
		val, _ := p.scalar(kv[1])
		out = append(out, pipeline.EnvVar{Name: kv[0].Value, Value: val, Pos: yamlsrc.Pos(kv[0])})
	}
	return out
}

// scan records the expressions of a string value of job j and the
// secrets they read. cond is the guard of the enclosing step or job.
func (p *parser) scan(j *Job, step int, where string, n *yaml.Node, text string, cond Guard) {
	spans := findExprs(text)
	if len(spans) == 0 {
		return
	}
	start, lit := p.lines.TextStart(n)
	multi := strings.Contains(text, "\n")
	// Positions are computed incrementally: spans are in order.
	line, col, at := start.Line, start.Column, 0
	for _, sp := range spans {
		switch {
		case start.Line == 0:
			line, col = n.Line, n.Column
		case !lit && multi:
			line, col = start.Line, start.Column
		default:
			for _, r := range text[at:sp.Start] {
				if r == '\n' && lit {
					line, col = line+1, start.Column
				} else {
					col++
				}
			}
			at = sp.Start
		}
		p.record(j, step, where, pipeline.Pos{Line: line, Column: col}, sp.Inner, cond)
	}
}

// scanCond records a condition (`if:`), which is an expression with or
// without ${{ }}.
func (p *parser) scanCond(j *Job, step int, n *yaml.Node, text string, cond Guard) {
	if strings.Contains(text, "${{") {
		p.scan(j, step, "if", n, text, cond)
		return
	}
	p.record(j, step, "if", yamlsrc.Pos(n), strings.TrimSpace(text), cond)
}

func (p *parser) record(j *Job, step int, where string, pos pipeline.Pos, inner string, cond Guard) {
	if len(j.Exprs) < 10*maxExprs {
		j.Exprs = append(j.Exprs, Expr{Inner: inner, Pos: pos, Step: step, Where: where})
	}
	low := strings.ToLower(inner)
	if !strings.Contains(low, "secrets") {
		return
	}
	whole := strings.Contains(low, "tojson")
	names := secretRefs(inner)
	guards := map[string]Guard{}
	for _, name := range names {
		if len(j.Secrets) >= 10*maxExprs {
			break
		}
		g, ok := guards[name]
		if !ok {
			// The guard analysis is linear in the expression; past a few
			// distinct names per expression, assume no guard.
			if len(guards) < maxGuardedNames {
				g = exprGuard(inner, name)
			}
			guards[name] = g
		}
		j.Secrets = append(j.Secrets, SecretRef{Name: name, Pos: pos, Step: step, Where: where, Guard: cond.and(g), Expr: inner, Serialized: whole})
	}
}

// exprGuard returns the guard that an expression itself puts on reading a
// secret: in `cond && secrets.X || ”` the secret is read only when cond
// holds.
func exprGuard(inner, name string) Guard { return exprGuardDepth(inner, name, 0) }

func exprGuardDepth(inner, name string, depth int) Guard {
	if depth > maxGuardDepth {
		return 0
	}
	for _, or := range splitTop(inner, "||") {
		if !strings.Contains(strings.ToUpper(or), "SECRETS") {
			continue
		}
		ands := splitTop(stripParens(or), "&&")
		var g Guard
		for i, a := range ands {
			refs := secretRefs(a)
			if len(refs) > 0 {
				for _, r := range refs {
					if r == name || r == "*" {
						return g
					}
				}
				continue
			}
			if i < len(ands)-1 {
				g = g.and(guardOf(a))
			}
		}
		// The secret sits deeper (inside parentheses of this disjunct).
		if strings.Contains(strings.ToUpper(or), name) {
			inner := stripParens(or)
			if inner != or {
				return g.and(exprGuardDepth(inner, name, depth+1))
			}
			return g
		}
	}
	return Guard(0)
}

func (p *parser) job(w *Workflow, k, v *yaml.Node) *Job {
	j := &Job{ID: k.Value, Name: k.Value, Pos: yamlsrc.Pos(k)}
	v = p.r(v)
	if v == nil {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "job %q must be a mapping, got %s", k.Value, yamlsrc.KindName(v))
		return nil
	}
	var jobCond Guard
	// `if:` first: it guards everything else in the job.
	if ik, iv := p.get(v, "if"); ik != nil {
		if s, ok := p.scalar(iv); ok {
			j.If, j.IfPos = s, yamlsrc.Pos(iv)
			jobCond = guardOf(s)
		} else if iv != nil && iv.Kind == yaml.ScalarNode && iv.Tag != "!!null" {
			j.If = iv.Value
		}
	}
	if _, sv := p.get(v, "strategy"); sv != nil {
		_, mv := p.get(sv, "matrix")
		j.matrix = p.parseMatrix(mv)
		if mv != nil && mv.Kind == yaml.ScalarNode {
			p.scan(j, -1, "strategy.matrix", mv, mv.Value, jobCond)
		}
	}
	var runsOnK, runsOnV *yaml.Node
	for _, kv := range p.pairs(v) {
		key, val := kv[0], kv[1]
		switch key.Value {
		case "name":
			if s, ok := p.scalar(val); ok {
				j.Name = s
				p.scan(j, -1, "name", p.r(val), s, jobCond)
			}
		case "runs-on":
			runsOnK, runsOnV = key, val
		case "container":
			j.Container = p.container(j, "", key, val, jobCond)
		case "services":
			for _, s := range p.pairs(val) {
				if c := p.container(j, s[0].Value, s[0], s[1], jobCond); c != nil {
					j.Services = append(j.Services, c)
				}
			}
		case "needs":
			j.Needs = p.strList(val)
		case "if":
			if j.If != "" {
				p.scanCond(j, -1, p.r(val), j.If, Guard(0))
			}
		case "environment":
			if s, ok := p.scalar(val); ok {
				j.Environment = s
			} else {
				_, nv := p.get(val, "name")
				j.Environment, _ = p.scalar(nv)
			}
		case "permissions":
			j.Permissions = p.permissions(key, val)
		case "env":
			j.Env = p.env(val)
			p.scanMap(j, -1, "env", val, jobCond)
		case "defaults":
			_, run := p.get(val, "run")
			_, sh := p.get(run, "shell")
			j.Shell, _ = p.scalar(sh)
		case "uses":
			if s, ok := p.scalar(val); ok {
				j.Uses, j.UsesPos = s, yamlsrc.Pos(p.r(val))
			}
		case "with":
			j.With = p.inputs(j, -1, val, jobCond)
		case "secrets":
			j.SecretsPos = yamlsrc.Pos(key)
			if s, ok := p.scalar(val); ok {
				if s == "inherit" {
					j.SecretsInherit = true
				}
				p.scan(j, -1, "secrets", p.r(val), s, jobCond)
			} else {
				p.scanMap(j, -1, "secrets", val, jobCond)
			}
		case "steps":
			sv := p.r(val)
			if sv == nil || sv.Kind == yaml.ScalarNode && sv.Tag == "!!null" {
				continue
			}
			if sv.Kind != yaml.SequenceNode {
				p.errorf(sv, "steps of job %q must be a list, got %s", j.ID, yamlsrc.KindName(sv))
				continue
			}
			for i, sn := range sv.Content {
				if i >= MaxSteps {
					p.errorf(sn, "more than %d steps in job %q", MaxSteps, j.ID)
					break
				}
				if st := p.step(j, len(j.Steps), sn, jobCond); st != nil {
					j.Steps = append(j.Steps, st)
				}
			}
		}
	}
	if runsOnK != nil {
		j.RunsOnPos = yamlsrc.Pos(p.r(runsOnV))
		p.runsOn(j, runsOnV, jobCond)
	} else if j.Uses == "" {
		j.RunsOnUnresolved = true
	}
	if j.Shell == "" {
		j.Shell = w.Shell
	}
	return j
}

// scanMap scans the string values of a mapping (env, secrets).
func (p *parser) scanMap(j *Job, step int, what string, n *yaml.Node, cond Guard) {
	n = p.r(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		p.scan(j, step, what, n, n.Value, cond)
		return
	}
	for _, kv := range p.pairs(n) {
		if vn := p.r(kv[1]); vn != nil && vn.Kind == yaml.ScalarNode {
			p.scan(j, step, what+" "+kv[0].Value, vn, vn.Value, cond)
		}
	}
}

// inputs reads a `with:` mapping and scans its values.
func (p *parser) inputs(j *Job, step int, n *yaml.Node, cond Guard) map[string]pipeline.StepInput {
	var out map[string]pipeline.StepInput
	for _, kv := range p.pairs(n) {
		vn := p.r(kv[1])
		if vn == nil || vn.Kind != yaml.ScalarNode {
			continue
		}
		if out == nil {
			out = map[string]pipeline.StepInput{}
		}
		start, _ := p.lines.TextStart(vn)
		out[kv[0].Value] = pipeline.StepInput{Value: vn.Value, Pos: start}
		p.scan(j, step, "with "+kv[0].Value, vn, vn.Value, cond)
	}
	return out
}

func (p *parser) step(j *Job, idx int, n *yaml.Node, jobCond Guard) *Step {
	n = p.r(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "a step of job %q must be a mapping, got %s", j.ID, yamlsrc.KindName(n))
		return nil
	}
	st := &Step{Index: idx}
	st.Pos = yamlsrc.Pos(n)
	cond := jobCond
	if _, iv := p.get(n, "if"); iv != nil {
		if s, ok := p.scalar(iv); ok {
			st.Condition = s
			cond = cond.and(guardOf(s))
			p.scanCond(j, idx, iv, s, jobCond)
		}
	}
	var runNode *yaml.Node
	for _, kv := range p.pairs(n) {
		key, val := kv[0], p.r(kv[1])
		switch key.Value {
		case "name":
			if s, ok := p.scalar(val); ok {
				st.Name = s
			}
		case "id":
			st.ID, _ = p.scalar(val)
		case "uses":
			if s, ok := p.scalar(val); ok {
				st.Uses, st.UsesPos = s, yamlsrc.Pos(val)
				if i := strings.LastIndexByte(s, '@'); i >= 0 && !strings.HasPrefix(s, "docker://") {
					st.Ref = s[i+1:]
				}
			}
		case "run":
			if s, ok := p.scalar(val); ok {
				st.Run = s
				runNode = val
				st.RunPos, st.RunLiteral = p.lines.TextStart(val)
			}
		case "shell":
			st.Shell, _ = p.scalar(val)
		case "with":
			st.With = p.inputs(j, idx, val, cond)
		case "env":
			st.Env = p.env(val)
			p.scanMap(j, idx, "env", val, cond)
		}
	}
	if st.Name == "" {
		st.Name = st.ID
	}
	if st.Shell == "" && st.Run != "" {
		st.Shell = j.Shell
	}
	if runNode != nil {
		p.scan(j, idx, "run", runNode, st.Run, cond)
	}
	return st
}

// container parses `container:` or one service.
func (p *parser) container(j *Job, name string, k, v *yaml.Node, cond Guard) *Container {
	v = p.r(v)
	if v == nil {
		return nil
	}
	c := &Container{Name: name}
	if s, ok := p.scalar(v); ok {
		c.Image, c.Pos = s, yamlsrc.Pos(v)
		p.scan(j, -1, "container", v, s, cond)
		return c
	}
	if v.Kind != yaml.MappingNode {
		return nil
	}
	c.Pos = yamlsrc.Pos(k)
	for _, kv := range p.pairs(v) {
		val := p.r(kv[1])
		switch kv[0].Value {
		case "image":
			if s, ok := p.scalar(val); ok {
				c.Image, c.Pos = s, yamlsrc.Pos(val)
				p.scan(j, -1, "container image", val, s, cond)
			}
		case "options":
			if s, ok := p.scalar(val); ok {
				c.Options, c.OptionsPos = s, yamlsrc.Pos(val)
				c.parseOptions()
			}
		case "volumes":
			for _, x := range p.items(val) {
				if s, ok := p.scalar(x); ok {
					c.Volumes = append(c.Volumes, parseMount(s, yamlsrc.Pos(p.r(x))))
				}
			}
		case "env":
			c.Env = p.env(val)
			p.scanMap(j, -1, "container env", val, cond)
		case "credentials":
			p.scanMap(j, -1, "container credentials", val, cond)
		}
	}
	if c.Image == "" {
		return nil
	}
	return c
}

// parseMount reads "src:dst[:ro]" (or a bare "dst", an anonymous volume).
func parseMount(s string, pos pipeline.Pos) Mount {
	parts := strings.Split(s, ":")
	m := Mount{Pos: pos}
	switch len(parts) {
	case 1:
		m.Target = parts[0]
	default:
		m.Source, m.Target = parts[0], parts[1]
		if len(parts) > 2 {
			for _, o := range strings.Split(parts[2], ",") {
				if o == "ro" || o == "readonly" {
					m.ReadOnly = true
				}
			}
		}
	}
	return m
}

// parseOptions reads the docker options that matter: network, GPUs,
// privilege and extra volumes.
func (c *Container) parseOptions() {
	f := strings.Fields(c.Options)
	for i := 0; i < len(f); i++ {
		opt, val, has := strings.Cut(f[i], "=")
		next := func() string {
			if has {
				return val
			}
			if i+1 < len(f) {
				i++
				return f[i]
			}
			return ""
		}
		switch opt {
		case "--network", "--net":
			if v := strings.Trim(next(), `"'`); v == "none" {
				c.NoNetwork = true
			}
		case "--gpus":
			next()
			c.GPUs = true
		case "--runtime":
			if strings.Contains(next(), "nvidia") {
				c.GPUs = true
			}
		case "--device":
			if strings.Contains(next(), "nvidia") {
				c.GPUs = true
			}
		case "--privileged":
			c.Privileged = true
		case "-v", "--volume":
			c.Volumes = append(c.Volumes, parseMount(strings.Trim(next(), `"'`), c.OptionsPos))
		case "--mount":
			m := Mount{Pos: c.OptionsPos}
			typ := ""
			for _, kv := range strings.Split(strings.Trim(next(), `"'`), ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "type":
					typ = v
				case "source", "src":
					m.Source = v
				case "target", "destination", "dst":
					m.Target = v
				case "readonly", "ro":
					m.ReadOnly = v == "" || v == "true" || v == "1"
				}
			}
			if typ == "bind" || typ == "volume" || typ == "" {
				c.Volumes = append(c.Volumes, m)
			}
		}
	}
}

// matrix holds the values of strategy.matrix by key, including the
// values of `include` entries; unresolved is true when the matrix (or a
// key) is an expression.
type matrix struct {
	values     map[string][]*yaml.Node
	unresolved bool
}

func (p *parser) parseMatrix(n *yaml.Node) *matrix {
	n = p.r(n)
	if n == nil {
		return nil
	}
	m := &matrix{values: map[string][]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		m.unresolved = true
		return m
	}
	add := func(key string, v *yaml.Node) {
		if len(m.values[key]) < maxMatrixValues {
			m.values[key] = append(m.values[key], v)
		}
	}
	for _, kv := range p.pairs(n) {
		switch kv[0].Value {
		case "exclude":
		case "include":
			for _, inc := range p.items(kv[1]) {
				for _, f := range p.pairs(inc) {
					add(f[0].Value, p.r(f[1]))
				}
			}
		default:
			val := p.r(kv[1])
			if val == nil {
				continue
			}
			if val.Kind == yaml.SequenceNode {
				for _, x := range val.Content {
					add(kv[0].Value, p.r(x))
				}
			} else {
				// An expression (fromJSON(...)) or a single value.
				if val.Kind == yaml.ScalarNode && strings.Contains(val.Value, "${{") {
					m.values[kv[0].Value] = nil
					m.unresolved = true
					continue
				}
				add(kv[0].Value, val)
			}
		}
	}
	return m
}

// lookup returns the values of matrix.a.b...: nodes, and whether some
// could not be resolved.
func (p *parser) lookup(m *matrix, path []string) ([]*yaml.Node, bool) {
	if m == nil || len(path) == 0 {
		return nil, true
	}
	vals, ok := m.values[path[0]]
	if !ok {
		return nil, true
	}
	unresolved := m.unresolved && len(vals) == 0
	for _, key := range path[1:] {
		var next []*yaml.Node
		for _, v := range vals {
			if v == nil {
				continue
			}
			if v.Kind == yaml.MappingNode {
				if _, x := p.get(v, key); x != nil {
					next = append(next, x)
					continue
				}
			}
			unresolved = true
		}
		vals = next
	}
	return vals, unresolved || len(vals) == 0
}

// runsOn resolves runs-on to candidate runners.
func (p *parser) runsOn(j *Job, n *yaml.Node, cond Guard) {
	n = p.r(n)
	if n == nil {
		j.RunsOnUnresolved = true
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		r := Runner{}
		for _, kv := range p.pairs(n) {
			switch kv[0].Value {
			case "group":
				if s, ok := p.scalar(kv[1]); ok {
					r.Group = s
					p.scan(j, -1, "runs-on", p.r(kv[1]), s, cond)
				}
			case "labels":
				alts := p.labelAlts(j, kv[1], cond)
				for _, a := range alts {
					if len(a) > 0 {
						r.Labels = append(r.Labels, a[0])
					}
				}
				if len(alts) > 0 {
					for _, rr := range product(alts) {
						j.Runners = append(j.Runners, Runner{Labels: rr, Group: r.Group})
					}
					return
				}
			}
		}
		j.Runners = append(j.Runners, r)
	default:
		alts := p.labelAlts(j, n, cond)
		j.Runners = append(j.Runners, runnersOf(product(alts))...)
		if len(j.Runners) == 0 {
			j.RunsOnUnresolved = true
		}
	}
}

func runnersOf(lists [][]string) []Runner {
	out := make([]Runner, 0, len(lists))
	for _, l := range lists {
		out = append(out, Runner{Labels: l})
	}
	return out
}

// product returns one label list per combination of the alternatives of
// each position, at most maxRunners.
func product(alts [][]string) [][]string {
	out := [][]string{nil}
	for _, a := range alts {
		if len(a) == 0 {
			continue
		}
		var next [][]string
		for _, prefix := range out {
			for _, x := range a {
				if len(next) >= maxRunners {
					break
				}
				l := append(append([]string(nil), prefix...), x)
				next = append(next, l)
			}
		}
		out = next
	}
	if len(out) == 1 && out[0] == nil {
		return nil
	}
	return out
}

// labelAlts returns, for each label position of a runs-on value (a
// string or a list), the candidate label values; a matrix value that is
// itself a list contributes its elements as separate positions.
func (p *parser) labelAlts(j *Job, n *yaml.Node, cond Guard) [][]string {
	n = p.r(n)
	if n == nil {
		return nil
	}
	var out [][]string
	for _, x := range p.items(n) {
		x = p.r(x)
		s, ok := p.scalar(x)
		if !ok {
			continue
		}
		p.scan(j, -1, "runs-on", x, s, cond)
		out = append(out, p.labelCandidates(j, s)...)
	}
	return out
}

// labelCandidates evaluates one runs-on string: literal, or expressions
// whose matrix references and string-literal results are followed.
func (p *parser) labelCandidates(j *Job, s string) [][]string {
	exprs := findExprs(s)
	if len(exprs) == 0 {
		return [][]string{{s}}
	}
	whole := len(exprs) == 1 && exprs[0].Start == 0 && exprs[0].End == len(s)
	var cands []string
	var lists [][]string
	for _, e := range exprs {
		vals, unresolved := p.evalLabels(j, e.Inner)
		if unresolved {
			j.RunsOnUnresolved = true
		}
		if whole {
			for _, v := range vals {
				if len(v) == 1 {
					cands = append(cands, v[0])
				} else if len(v) > 1 {
					lists = append(lists, v)
				}
			}
			continue
		}
		// Text around the expression: substitute single values.
		for _, v := range vals {
			if len(v) == 1 {
				cands = append(cands, s[:e.Start]+v[0]+s[e.End:])
			}
		}
	}
	cands = dedupe(cands)
	var out [][]string
	if len(cands) > 0 {
		out = append(out, cands)
	}
	// A matrix value that is a list of labels: every label must match, so
	// each list is a runner of its own; represent it as extra positions
	// only when it is the sole candidate.
	if len(lists) > 0 {
		if len(out) == 0 && len(lists) == 1 {
			for _, l := range lists[0] {
				out = append(out, []string{l})
			}
		} else {
			// Several list-valued candidates: keep every label as an
			// alternative of one position (any may be chosen).
			var all []string
			for _, l := range lists {
				all = append(all, l...)
			}
			if len(out) == 0 {
				out = append(out, dedupe(all))
			} else {
				out[0] = dedupe(append(out[0], all...))
			}
		}
	}
	return out
}

// evalLabels returns the values an expression can take as a runner
// label: its string-literal results and matrix references. Each value is
// a list of labels (a matrix value may be a list).
func (p *parser) evalLabels(j *Job, inner string) ([][]string, bool) {
	var out [][]string
	unresolved := false
	// String literals that are results, not operands of comparisons or
	// function arguments.
	for i := 0; i < len(inner); i++ {
		if inner[i] != '\'' {
			continue
		}
		k := i + 1
		for k < len(inner) {
			if inner[k] == '\'' {
				if k+1 < len(inner) && inner[k+1] == '\'' {
					k += 2
					continue
				}
				break
			}
			k++
		}
		if k >= len(inner) {
			break
		}
		lit := strings.ReplaceAll(inner[i+1:k], "''", "'")
		before := strings.TrimRight(inner[:i], " \t\n")
		after := strings.TrimLeft(inner[k+1:], " \t\n")
		operand := strings.HasSuffix(before, "==") || strings.HasSuffix(before, "!=") || strings.HasSuffix(before, "(") ||
			strings.HasSuffix(before, ",") || strings.HasPrefix(after, "==") || strings.HasPrefix(after, "!=") ||
			strings.HasPrefix(after, ",") || strings.HasPrefix(after, ")") && !strings.HasSuffix(before, "||") && !strings.HasSuffix(before, "&&")
		if !operand && lit != "" {
			out = append(out, []string{lit})
		}
		i = k
	}
	// References outside literals.
	stripped := stripLiterals(inner)
	seen := map[string]bool{}
	for _, ref := range identRefs(stripped) {
		if seen[ref] || len(seen) > maxMatrixValues {
			continue
		}
		seen[ref] = true
		switch {
		case strings.HasPrefix(ref, "matrix."):
			vals, unres := p.lookup(j.matrix, strings.Split(ref[len("matrix."):], "."))
			if unres {
				unresolved = true
			}
			for _, v := range vals {
				if v == nil {
					continue
				}
				if s, ok := p.scalar(v); ok {
					if strings.Contains(s, "${{") {
						unresolved = true
						continue
					}
					out = append(out, []string{s})
				} else if v.Kind == yaml.SequenceNode {
					out = append(out, p.strList(v))
				}
			}
		case isComparedOnly(stripped, ref):
		default:
			unresolved = true
		}
	}
	return out, unresolved
}

// isComparedOnly reports whether ref appears only as an operand of ==, !=
// or a function like contains/startsWith: then it is a condition, not a
// value the expression yields.
func isComparedOnly(s, ref string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], ref)
		if j < 0 {
			return true
		}
		at := i + j
		before := strings.TrimRight(s[:at], " \t\n")
		after := strings.TrimLeft(s[at+len(ref):], " \t\n")
		if !(strings.HasSuffix(before, "==") || strings.HasSuffix(before, "!=") || strings.HasPrefix(after, "==") ||
			strings.HasPrefix(after, "!=") || strings.HasSuffix(before, "!") || strings.HasPrefix(after, "&&") ||
			strings.HasSuffix(before, "(") && (strings.HasPrefix(after, ",") || strings.HasPrefix(after, ")")) ||
			strings.HasSuffix(before, ",") && strings.HasPrefix(after, ")")) {
			return false
		}
		i = at + len(ref)
	}
}

// stripLiterals replaces string literals with spaces.
func stripLiterals(s string) string {
	b := []byte(s)
	in := false
	for i, c := range b {
		if c == '\'' {
			in = !in
			continue
		}
		if in {
			b[i] = ' '
		}
	}
	return string(b)
}

// identRefs returns context references (a.b.c) in an expression without
// literals; function names and keywords are skipped.
func identRefs(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			i++
			continue
		}
		k := i
		for k < len(s) && (isIdent(s[k]) || s[k] == '.' || s[k] == '*') {
			k++
		}
		word := s[i:k]
		rest := strings.TrimLeft(s[k:], " ")
		switch {
		case strings.HasPrefix(rest, "("): // a function call
		case word == "true" || word == "false" || word == "null":
		default:
			out = append(out, word)
		}
		i = k
	}
	return out
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// action parses an action definition (action.yml) into one job.
func (p *parser) action(root *yaml.Node, name string) *Workflow {
	w := &Workflow{Action: true}
	root = p.r(root)
	if root == nil || root.Kind != yaml.MappingNode {
		p.errorf(root, "an action must be a mapping")
		return w
	}
	rk, runs := p.get(root, "runs")
	if rk == nil || runs == nil || runs.Kind != yaml.MappingNode {
		p.errorf(root, "an action needs a `runs:` mapping")
		return w
	}
	if _, n := p.get(root, "name"); n != nil {
		w.Name, _ = p.scalar(n)
	}
	j := &Job{ID: name, Name: name, Pos: yamlsrc.Pos(rk), RunsOnUnresolved: true}
	for _, kv := range p.pairs(runs) {
		val := p.r(kv[1])
		switch kv[0].Value {
		case "using":
			w.Using, _ = p.scalar(val)
		case "image":
			if s, ok := p.scalar(val); ok {
				j.Container = &Container{Image: s, Pos: yamlsrc.Pos(val)}
			}
		case "env":
			j.Env = p.env(val)
		case "steps":
			if val == nil || val.Kind != yaml.SequenceNode {
				if val != nil && !(val.Kind == yaml.ScalarNode && val.Tag == "!!null") {
					p.errorf(val, "runs.steps must be a list, got %s", yamlsrc.KindName(val))
				}
				continue
			}
			for i, sn := range val.Content {
				if i >= MaxSteps {
					p.errorf(sn, "more than %d steps", MaxSteps)
					break
				}
				if st := p.step(j, len(j.Steps), sn, Guard(0)); st != nil {
					j.Steps = append(j.Steps, st)
				}
			}
		}
	}
	w.Jobs = []*Job{j}
	return w
}

// sortErrs orders errors by position.
func sortErrs(errs pipeline.SourceErrors) {
	sort.SliceStable(errs, func(i, k int) bool {
		if errs[i].Line != errs[k].Line {
			return errs[i].Line < errs[k].Line
		}
		return errs[i].Column < errs[k].Column
	})
}
