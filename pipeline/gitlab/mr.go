package gitlab

import (
	"strings"

	"github.com/mlgate/mlgate/pipeline"
)

// evalRules evaluates a `rules:` list in ctx: True when the job (or
// pipeline, or include) is certainly added, False when it certainly is
// not, Unknown otherwise. defWhen is the job's own `when:`.
func (p *parser) evalRules(rules *value, ctx *evalCtx, defWhen string) pipeline.Tri {
	rules = p.deref(rules)
	// The same rules (through aliases, extends or !reference) are evaluated
	// for many jobs: memoise by list, context kind and job variables.
	key := memoKey{rules: rules, when: defWhen, sig: ctx.sig, kind: ctx.kind()}
	if ctx.sig != "\x00" {
		if t, ok := p.memo[key]; ok {
			return t
		}
	}
	t := p.evalRulesNoMemo(rules, ctx, defWhen)
	if ctx.sig != "\x00" && len(p.memo) < 100_000 {
		p.memo[key] = t
	}
	return t
}

// memoKey identifies one evaluation of a rules list.
type memoKey struct {
	rules *value
	when  string
	sig   string
	kind  int
}

func (p *parser) evalRulesNoMemo(rules *value, ctx *evalCtx, defWhen string) pipeline.Tri {
	items := p.flatList(rules, 0)
	if rules != nil && rules.kind != kSeq && rules.kind != kNull {
		return pipeline.Unknown
	}
	sawAdd, sawSkip := false, false
	for _, r := range items {
		if r.kind != kMap {
			return pipeline.Unknown
		}
		cond := pipeline.True
		if x := p.deref(r.get("if")); x != nil {
			s, ok := x.str()
			if !ok {
				return pipeline.Unknown
			}
			if !p.charge(1 + len(s)/16) {
				return pipeline.Unknown
			}
			cond = evalExpr(s, ctx)
		}
		// A merge request's author chooses which files change and exist,
		// so changes/exists are satisfiable from a fork; elsewhere unknown.
		if r.has("changes") || r.has("exists") {
			if ctx.mr || ctx.ext {
				cond = triAnd(cond, pipeline.True)
			} else {
				cond = triAnd(cond, pipeline.Unknown)
			}
		}
		when := defWhen
		if w, ok := p.deref(r.get("when")).str(); ok {
			when = w
		}
		add := when != "never"
		switch cond {
		case pipeline.True:
			if add {
				sawAdd = true
			} else {
				sawSkip = true
			}
			return verdict(sawAdd, sawSkip)
		case pipeline.Unknown:
			if add {
				sawAdd = true
			} else {
				sawSkip = true
			}
		}
	}
	sawSkip = true
	return verdict(sawAdd, sawSkip)
}

func verdict(add, skip bool) pipeline.Tri {
	switch {
	case add && !skip:
		return pipeline.True
	case skip && !add:
		return pipeline.False
	}
	return pipeline.Unknown
}

// flatList returns the items of a list, with !reference tags resolved and
// nested lists flattened (GitLab flattens them in rules and scripts).
func (p *parser) flatList(v *value, depth int) []*value {
	v = p.deref(v)
	if v == nil || v.kind != kSeq {
		return nil
	}
	var out []*value
	for _, it := range v.items {
		if !p.charge(1) {
			return out
		}
		it = p.deref(it)
		if it == nil {
			continue
		}
		if it.kind == kSeq && depth < 10 {
			out = append(out, p.flatList(it, depth+1)...)
			continue
		}
		out = append(out, it)
	}
	return out
}

// evalOnlyExcept evaluates legacy only/except for a merge-request pipeline
// (refs "merge_requests"; "external_pull_requests" in ctx.ext).
func (p *parser) evalOnlyExcept(only, except *value, ctx *evalCtx) pipeline.Tri {
	want := "merge_requests"
	if ctx.ext {
		want = "external_pull_requests"
	}
	refs, vars, ok := p.onlyParts(only)
	if !ok {
		return pipeline.Unknown
	}
	if only == nil || len(refs) == 0 {
		// The default refs are branches and tags: no merge-request pipelines.
		return pipeline.False
	}
	if !contains(refs, want) {
		return pipeline.False
	}
	res := pipeline.True
	if len(vars) > 0 {
		any := pipeline.False
		for _, e := range vars {
			if !p.charge(1 + len(e)/16) {
				return pipeline.Unknown
			}
			any = triOr(any, evalExpr(e, ctx))
		}
		res = any
	}
	if except != nil {
		erefs, evars, ok := p.onlyParts(except)
		if !ok {
			return triAnd(res, pipeline.Unknown)
		}
		if contains(erefs, want) {
			return pipeline.False
		}
		for _, e := range evars {
			if !p.charge(1 + len(e)/16) {
				return pipeline.Unknown
			}
			res = triAnd(res, triNot(evalExpr(e, ctx)))
		}
	}
	return res
}

// onlyParts splits an only/except value into refs and variable expressions.
func (p *parser) onlyParts(v *value) (refs, vars []string, ok bool) {
	v = p.deref(v)
	if v == nil {
		return nil, nil, true
	}
	switch v.kind {
	case kScalar:
		return []string{v.s}, nil, true
	case kSeq:
		for _, it := range p.flatList(v, 0) {
			if s, ok := it.str(); ok {
				refs = append(refs, s)
			}
		}
		return refs, nil, true
	case kMap:
		for _, it := range p.flatList(v.get("refs"), 0) {
			if s, ok := it.str(); ok {
				refs = append(refs, s)
			}
		}
		if r, ok := p.deref(v.get("refs")).str(); ok {
			refs = append(refs, r)
		}
		for _, it := range p.flatList(v.get("variables"), 0) {
			if s, ok := it.str(); ok {
				vars = append(vars, s)
			}
		}
		if !v.has("refs") {
			refs = append(refs, "branches", "tags")
		}
		return refs, vars, true
	}
	return nil, nil, false
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// jobMR decides whether a job runs in fork merge-request pipelines, and why.
func (p *parser) jobMR(job *value, vars map[string]string, sig, when string) (pipeline.Tri, string) {
	mctx, ectx := mrContext(vars), extContext(vars)
	mctx.sig, ectx.sig = sig, sig
	mctx.child = p.parent != nil
	res, why := p.jobMRIn(job, mctx, when)
	if p.parent != nil {
		// A child pipeline runs in a merge-request pipeline only when its
		// trigger job does.
		switch p.parent.MR {
		case pipeline.False:
			return pipeline.False, "its parent trigger job '" + p.parent.Name + "' does not run in merge-request pipelines"
		case pipeline.Unknown:
			if res == pipeline.True {
				return pipeline.Unknown, "its parent trigger job '" + p.parent.Name + "' may run in merge-request pipelines"
			}
		}
		return res, why
	}
	if p.doc.extPRs {
		ext, _ := p.jobMRIn(job, ectx, when)
		if ext == pipeline.True && res != pipeline.True {
			return pipeline.True, "external pull-request pipelines run it"
		}
		if ext == pipeline.Unknown && res == pipeline.False {
			return pipeline.Unknown, "external pull-request pipelines may run it"
		}
	}
	return res, why
}

func (p *parser) jobMRIn(job *value, ctx *evalCtx, when string) (pipeline.Tri, string) {
	wf := pipeline.True
	if p.doc.HasWorkflowRules {
		wf = p.evalRules(p.workflowRules(), ctx, "always")
	}
	if wf == pipeline.False {
		return pipeline.False, "workflow:rules do not create merge-request pipelines"
	}
	var jr pipeline.Tri
	var why string
	switch {
	case job.has("rules"):
		jr = p.evalRules(job.get("rules"), ctx, when)
		switch jr {
		case pipeline.True:
			why = "its rules add it to merge-request pipelines"
		case pipeline.False:
			why = "its rules keep it out of merge-request pipelines"
		default:
			why = "its rules may add it to merge-request pipelines (they depend on values not known from the file)"
		}
	case job.has("only") || job.has("except"):
		jr = p.evalOnlyExcept(job.get("only"), job.get("except"), ctx)
		switch jr {
		case pipeline.True:
			why = "only: merge_requests"
		case pipeline.False:
			why = "only/except keep it out of merge-request pipelines"
		default:
			why = "only/except may run it in merge-request pipelines"
		}
	case p.doc.HasWorkflowRules:
		jr = pipeline.True
		why = "it has no rules and workflow:rules create merge-request pipelines"
	case p.parent != nil:
		jr = pipeline.True
		why = "it has no rules and its child pipeline is started from a merge-request pipeline"
	default:
		return pipeline.False, "jobs without rules run in branch and tag pipelines only"
	}
	res := triAnd(wf, jr)
	if wf == pipeline.Unknown && res == pipeline.Unknown && jr == pipeline.True {
		why = "workflow:rules may create merge-request pipelines (they depend on values not known from the file)"
	}
	return res, why
}

func (p *parser) workflowRules() *value {
	w := p.deref(p.top.get("workflow"))
	if w == nil || w.kind != kMap {
		return nil
	}
	return w.get("rules")
}

// mentionsExternalPRs reports whether the configuration refers to external
// (GitHub) pull-request pipelines anywhere in rules or only/except.
func mentionsExternalPRs(src []byte) bool {
	s := string(src)
	return strings.Contains(s, "external_pull_request")
}
