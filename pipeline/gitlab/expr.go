package gitlab

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mlgate/mlgate/pipeline"
)

// This file evaluates GitLab `rules:if` expressions three-valued, in a
// context that says what each predefined variable holds in the kind of
// pipeline being asked about. The question the adapter asks is "can a merge
// request from a fork make this job run in the parent project's pipeline?",
// so the main context is a fork merge-request pipeline.

// vkind is what is known about a variable in a context.
type vkind uint8

const (
	vUnknown    vkind = iota // value unknown; may be undefined
	vUndef                   // not defined
	vKnown                   // defined with value s
	vDefUnknown              // defined, non-empty, value unknown (attacker-chosen branch names too)
	vCanon                   // the project's own identity (path, namespace, server): assumed to equal the literals it is compared with
	vFork                    // the fork's identity: never equal to the project's
	// vFree is a variable that is neither predefined nor defined in the
	// file, in a merge-request pipeline. Such pipelines get no trigger,
	// schedule or manual-run variables, so a comparison with a literal is
	// taken as false (the variable is a pipeline-mode switch); a bare
	// `$X` test stays unknown, since a project-level variable may enable it.
	vFree
)

type vstate struct {
	k vkind
	s string
}

// evalCtx is a pipeline context.
type evalCtx struct {
	mr       bool // a fork merge-request pipeline
	child    bool // a child pipeline (CI_PIPELINE_SOURCE is parent_pipeline)
	ext      bool // an external (GitHub) pull-request pipeline
	any      bool // any pipeline: only the project identity is known
	fileVars map[string]string
	// sig identifies fileVars for memoisation: the job's own variables
	// (globals are the same for every job); "\x00" disables the memo.
	sig string
}

func (c *evalCtx) kind() int {
	switch {
	case c.mr:
		return 1
	case c.ext:
		return 2
	}
	return 3
}

func mrContext(vars map[string]string) *evalCtx  { return &evalCtx{mr: true, fileVars: vars} }
func extContext(vars map[string]string) *evalCtx { return &evalCtx{ext: true, fileVars: vars} }
func anyContext(p *parser) *evalCtx {
	vars := map[string]string{}
	if p != nil && p.top != nil {
		for _, v := range p.variablesOf(p.top.get("variables"), "global") {
			if v.Literal {
				vars[v.Name] = v.Value
			}
		}
	}
	return &evalCtx{any: true, fileVars: vars, sig: "\x00"}
}

// identity variables describe the project the pipeline runs in.
func isIdentity(name string) bool {
	switch {
	case strings.HasPrefix(name, "CI_PROJECT_"), strings.HasPrefix(name, "CI_SERVER_"),
		strings.HasPrefix(name, "CI_MERGE_REQUEST_PROJECT_"), name == "GITLAB_FEATURES", name == "CI_API_V4_URL":
		return true
	}
	return false
}

func (c *evalCtx) lookup(name string) vstate {
	if strings.HasPrefix(name, "CI_MERGE_REQUEST_SOURCE_PROJECT_") {
		switch {
		case c.mr:
			return vstate{k: vFork}
		case c.any:
			return vstate{k: vUnknown}
		}
		return vstate{k: vUndef}
	}
	if isIdentity(name) {
		return vstate{k: vCanon}
	}
	switch {
	case c.mr:
		switch name {
		case "CI_PIPELINE_SOURCE":
			if c.child {
				return vstate{k: vKnown, s: "parent_pipeline"}
			}
			return vstate{k: vKnown, s: "merge_request_event"}
		case "CI_COMMIT_BRANCH", "CI_COMMIT_TAG", "CI_COMMIT_TAG_MESSAGE", "CI_EXTERNAL_PULL_REQUEST_IID":
			return vstate{k: vUndef}
		case "CI_COMMIT_REF_PROTECTED":
			return vstate{k: vKnown, s: "false"}
		case "CI_MERGE_REQUEST_ID", "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_REF_PATH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
			"CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "CI_MERGE_REQUEST_DIFF_BASE_SHA",
			"CI_COMMIT_REF_NAME", "CI_COMMIT_REF_SLUG", "CI_DEFAULT_BRANCH", "CI_COMMIT_SHA", "CI_COMMIT_MESSAGE", "CI_COMMIT_TITLE",
			"CI_OPEN_MERGE_REQUESTS", "CI_MERGE_REQUEST_EVENT_TYPE":
			return vstate{k: vDefUnknown}
		}
		if strings.HasPrefix(name, "CI_EXTERNAL_PULL_REQUEST_") {
			return vstate{k: vUndef}
		}
	case c.ext:
		switch name {
		case "CI_PIPELINE_SOURCE":
			return vstate{k: vKnown, s: "external_pull_request_event"}
		case "CI_COMMIT_TAG", "CI_MERGE_REQUEST_ID", "CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_EVENT_TYPE":
			return vstate{k: vUndef}
		case "CI_COMMIT_REF_PROTECTED":
			return vstate{k: vKnown, s: "false"}
		case "CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME", "CI_COMMIT_REF_SLUG", "CI_DEFAULT_BRANCH", "CI_EXTERNAL_PULL_REQUEST_IID":
			return vstate{k: vDefUnknown}
		}
		if strings.HasPrefix(name, "CI_MERGE_REQUEST_") {
			return vstate{k: vUndef}
		}
	}
	if v, ok := c.fileVars[name]; ok {
		if !strings.Contains(v, "$") {
			return vstate{k: vKnown, s: v}
		}
		return vstate{k: vUnknown}
	}
	if (c.mr || c.ext) && !strings.HasPrefix(name, "CI_") && !strings.HasPrefix(name, "GITLAB_") {
		return vstate{k: vFree}
	}
	return vstate{k: vUnknown}
}

// Tri helpers.
func triNot(t pipeline.Tri) pipeline.Tri {
	switch t {
	case pipeline.True:
		return pipeline.False
	case pipeline.False:
		return pipeline.True
	}
	return pipeline.Unknown
}

func triAnd(a, b pipeline.Tri) pipeline.Tri {
	if a == pipeline.False || b == pipeline.False {
		return pipeline.False
	}
	if a == pipeline.True && b == pipeline.True {
		return pipeline.True
	}
	return pipeline.Unknown
}

func triOr(a, b pipeline.Tri) pipeline.Tri {
	if a == pipeline.True || b == pipeline.True {
		return pipeline.True
	}
	if a == pipeline.False && b == pipeline.False {
		return pipeline.False
	}
	return pipeline.Unknown
}

// token kinds of the expression language.
type tkind uint8

const (
	tVar tkind = iota
	tStr
	tRegex
	tNull
	tOp
	tLParen
	tRParen
)

type token struct {
	k tkind
	s string
}

// maxExprLen bounds an expression; longer ones evaluate to Unknown.
const maxExprLen = 4096

func lex(expr string) ([]token, bool) {
	var out []token
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '$':
			j := i + 1
			if j < len(expr) && expr[j] == '{' {
				k := strings.IndexByte(expr[j:], '}')
				if k < 0 {
					return nil, false
				}
				out = append(out, token{tVar, expr[j+1 : j+k]})
				i = j + k + 1
				continue
			}
			for j < len(expr) && isNameByte(expr[j]) {
				j++
			}
			if j == i+1 {
				return nil, false
			}
			out = append(out, token{tVar, expr[i+1 : j]})
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && j+1 < len(expr) {
					j++
				}
				b.WriteByte(expr[j])
				j++
			}
			if j >= len(expr) {
				return nil, false
			}
			out = append(out, token{tStr, b.String()})
			i = j + 1
		case c == '/':
			j := i + 1
			for j < len(expr) && expr[j] != '/' {
				if expr[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(expr) {
				return nil, false
			}
			pat := expr[i+1 : j]
			j++
			flags := ""
			for j < len(expr) && strings.IndexByte("imsx", expr[j]) >= 0 {
				flags += string(expr[j])
				j++
			}
			if strings.Contains(flags, "i") {
				pat = "(?i)" + pat
			}
			out = append(out, token{tRegex, pat})
			i = j
		case strings.HasPrefix(expr[i:], "=="), strings.HasPrefix(expr[i:], "!="), strings.HasPrefix(expr[i:], "=~"),
			strings.HasPrefix(expr[i:], "!~"), strings.HasPrefix(expr[i:], "&&"), strings.HasPrefix(expr[i:], "||"):
			out = append(out, token{tOp, expr[i : i+2]})
			i += 2
		case c == '(':
			out = append(out, token{tLParen, "("})
			i++
		case c == ')':
			out = append(out, token{tRParen, ")"})
			i++
		case strings.HasPrefix(expr[i:], "null"):
			out = append(out, token{tNull, ""})
			i += 4
		default:
			return nil, false
		}
	}
	return out, true
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// exprEval is a recursive-descent evaluator over tokens.
type exprEval struct {
	toks  []token
	i     int
	ctx   *evalCtx
	bad   bool
	depth int
}

// evalExpr evaluates a rules:if expression; anything it cannot parse is
// Unknown.
func evalExpr(expr string, ctx *evalCtx) pipeline.Tri {
	if len(expr) > maxExprLen {
		return pipeline.Unknown
	}
	toks, ok := lex(expr)
	if !ok || len(toks) == 0 {
		return pipeline.Unknown
	}
	e := &exprEval{toks: toks, ctx: ctx}
	t := e.or()
	if e.bad || e.i != len(e.toks) {
		return pipeline.Unknown
	}
	return t
}

func (e *exprEval) peek() *token {
	if e.i < len(e.toks) {
		return &e.toks[e.i]
	}
	return nil
}

func (e *exprEval) or() pipeline.Tri {
	t := e.and()
	for tk := e.peek(); tk != nil && tk.k == tOp && tk.s == "||"; tk = e.peek() {
		e.i++
		t = triOr(t, e.and())
	}
	return t
}

func (e *exprEval) and() pipeline.Tri {
	t := e.cmp()
	for tk := e.peek(); tk != nil && tk.k == tOp && tk.s == "&&"; tk = e.peek() {
		e.i++
		t = triAnd(t, e.cmp())
	}
	return t
}

func (e *exprEval) cmp() pipeline.Tri {
	tk := e.peek()
	if tk == nil {
		e.bad = true
		return pipeline.Unknown
	}
	if tk.k == tLParen {
		e.depth++
		if e.depth > 100 {
			e.bad = true
			return pipeline.Unknown
		}
		e.i++
		t := e.or()
		if c := e.peek(); c == nil || c.k != tRParen {
			e.bad = true
			return pipeline.Unknown
		}
		e.i++
		e.depth--
		return t
	}
	if tk.k == tOp || tk.k == tRParen {
		e.bad = true
		return pipeline.Unknown
	}
	left := *tk
	e.i++
	op := e.peek()
	if op == nil || op.k != tOp || op.s == "&&" || op.s == "||" {
		return e.truthy(left)
	}
	e.i++
	rt := e.peek()
	if rt == nil || rt.k == tOp || rt.k == tLParen || rt.k == tRParen {
		e.bad = true
		return pipeline.Unknown
	}
	right := *rt
	e.i++
	switch op.s {
	case "==":
		return e.equal(left, right)
	case "!=":
		return triNot(e.equal(left, right))
	case "=~":
		return e.match(left, right)
	case "!~":
		return triNot(e.match(left, right))
	}
	e.bad = true
	return pipeline.Unknown
}

func (e *exprEval) state(t token) vstate {
	switch t.k {
	case tVar:
		return e.ctx.lookup(t.s)
	case tStr:
		return vstate{k: vKnown, s: t.s}
	case tNull:
		return vstate{k: vUndef}
	}
	return vstate{k: vUnknown}
}

func (e *exprEval) truthy(t token) pipeline.Tri {
	s := e.state(t)
	switch s.k {
	case vUndef:
		return pipeline.False
	case vKnown:
		return pipeline.TriOf(s.s != "")
	case vDefUnknown, vCanon, vFork:
		return pipeline.True
	}
	return pipeline.Unknown
}

func (e *exprEval) equal(a, b token) pipeline.Tri {
	x, y := e.state(a), e.state(b)
	if x.k == vCanon && y.k == vFork || x.k == vFork && y.k == vCanon {
		return pipeline.False
	}
	if x.k == vFree || y.k == vFree {
		o := y
		if y.k == vFree {
			o = x
		}
		switch o.k {
		case vKnown, vUndef:
			// Unset in this pipeline: equal to null only.
			return pipeline.TriOf(o.k == vUndef)
		}
		return pipeline.Unknown
	}
	if x.k > y.k {
		x, y = y, x
	}
	switch {
	case x.k == vUnknown:
		return pipeline.Unknown
	case x.k == vUndef:
		return pipeline.TriOf(y.k == vUndef)
	case x.k == vKnown && y.k == vKnown:
		return pipeline.TriOf(x.s == y.s)
	case y.k == vDefUnknown:
		return pipeline.Unknown
	case y.k == vCanon:
		return pipeline.True
	case y.k == vFork:
		if x.k == vFork {
			return pipeline.True
		}
		return pipeline.False
	}
	return pipeline.Unknown
}

// maxRegexLen bounds a regex literal.
const maxRegexLen = 1024

func (e *exprEval) match(a, b token) pipeline.Tri {
	if b.k != tRegex {
		return pipeline.Unknown
	}
	x := e.state(a)
	switch x.k {
	case vUndef, vFree:
		return pipeline.False
	case vCanon:
		return pipeline.True
	case vFork:
		return pipeline.False
	case vKnown:
		if len(b.s) > maxRegexLen {
			return pipeline.Unknown
		}
		re, ok := compileCached(b.s)
		if !ok {
			return pipeline.Unknown
		}
		return pipeline.TriOf(re.MatchString(x.s))
	}
	return pipeline.Unknown
}

// regexCache holds compiled rules:if patterns; the same few patterns are
// evaluated for many jobs. It is bounded and safe for concurrent use.
var regexCache sync.Map

var regexCacheSize atomic.Int64

func compileCached(pat string) (*regexp.Regexp, bool) {
	if v, ok := regexCache.Load(pat); ok {
		re, _ := v.(*regexp.Regexp)
		return re, re != nil
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		re = nil
	}
	if regexCacheSize.Add(1) <= 4096 {
		regexCache.Store(pat, re)
	}
	return re, re != nil
}
