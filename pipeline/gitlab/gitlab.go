// Package gitlab reads GitLab CI/CD configurations (.gitlab-ci.yml and the
// files it includes locally) into mlgate's stage graph, and holds the rules
// that only apply to GitLab pipelines (IDs pipeline/gitlab-...).
//
// The adapter resolves what GitLab resolves before a pipeline runs: local
// includes (through pipeline.Source.ReadFile, bounded in depth and count,
// with cycle detection), YAML anchors and merge keys, `extends` (deep merge,
// bounded depth, cycle detection), `!reference` tags, `default:` and global
// variables. Includes it cannot fetch offline (remote, project, template,
// component) are recorded in Doc.Includes and the pipeline is marked
// partial. What it infers for each job, and from which keys, is documented
// in docs/adapters/gitlab-ci.md.
//
// Hostile input is bounded: file size (pipeline.MaxSourceSize), includes
// (MaxIncludes, MaxIncludeDepth), extends depth (MaxExtendsDepth), jobs
// (MaxJobs), nesting, and one work budget shared by alias expansion, merge
// keys, extends, !reference and the job walk. The parser never panics.
package gitlab

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// Format is the name graphs from this adapter carry.
const Format = "gitlab-ci"

// Limits on hostile input.
const (
	// MaxIncludes is the most local includes one pipeline may pull in
	// (GitLab's own limit is 150).
	MaxIncludes = 150
	// MaxIncludeDepth is how deeply includes may nest (GitLab: 100).
	MaxIncludeDepth = 100
	// MaxExtendsDepth is how many levels of `extends` are followed (GitLab: 11).
	MaxExtendsDepth = 11
	// MaxReferenceDepth is how deeply !reference tags may nest (GitLab: 10).
	MaxReferenceDepth = 10
	// MaxJobs bounds the visible jobs of one pipeline.
	MaxJobs = 20_000
	// maxNesting bounds the depth of a YAML document.
	maxNesting = 200
	// maxErrors caps the errors reported for one pipeline.
	maxErrors = 50
	// maxEdges bounds the artifact inputs made from implicit stage-order
	// dependencies, so a hostile file with many jobs and stages cannot
	// make the graph quadratic.
	maxEdges = 1_000_000
	// maxCopies bounds the variables copied into jobs (globals times jobs).
	maxCopies = 4_000_000
)

// reservedKeys are the top-level keys that are not jobs.
var reservedKeys = map[string]bool{
	"default": true, "include": true, "stages": true, "variables": true, "workflow": true,
	"image": true, "services": true, "cache": true, "before_script": true, "after_script": true,
	"types": true, "spec": true,
}

// srcFile is one file of the configuration: the root or a local include.
type srcFile struct {
	rel     string // slash-separated path relative to the repository root
	posFile string // file name for positions; "" for the root file
	lines   *yamlsrc.Lines
}

func (f *srcFile) posFileOrRoot(root string) string {
	if f.posFile != "" {
		return f.posFile
	}
	return root
}

// parser holds the state of one Parse call.
type parser struct {
	src   *pipeline.Source
	root  string // the root file as the user named it
	base  string // prefix that turns a repository path into a user path
	opts  Options
	files []*srcFile
	errs  pipeline.SourceErrors
	// lenient is set for files that may be fragments (templates included
	// by another file): extends of hidden jobs not defined here are notes,
	// not errors.
	lenient bool

	work, budget int
	overBudget   bool
	copies       int // variables copied into jobs, bounded by maxCopies
	// stepText is the script text given to jobs so far, bounded by
	// maxStepText: rules scan every job's steps, so text shared through
	// aliases must not multiply their work.
	stepText, maxStepText            int
	copiesExceeded, stepTextExceeded bool
	// at is the position of the job or include being read, for the
	// work-limit error.
	at pipeline.Pos

	doc      *Doc
	top      *value            // the merged top-level mapping
	extended map[string]*value // job name -> job after extends
	extBusy  map[string]bool
	loaded   map[string]bool // repository paths already included
	memo     map[memoKey]pipeline.Tri
	creds    map[string]bool
	// parent is the trigger job of a child pipeline, nil for a pipeline.
	parent   *Job
	nInclude int
	// dir is the root pipeline's directory under the reader's root, when
	// that is not the root (see pipelineDir).
	dir     string
	dirDone bool
}

func (p *parser) errorAt(file int, pos pipeline.Pos, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	name := p.root
	if file >= 0 && file < len(p.files) {
		name = p.files[file].posFileOrRoot(p.root)
	}
	if pos.File != "" {
		name = pos.File
	}
	p.errs = append(p.errs, &pipeline.SourceError{File: name, Line: pos.Line, Column: pos.Column, Msg: fmt.Sprintf(format, args...)})
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, &pipeline.SourceError{File: name, Line: pos.Line, Column: pos.Column, Msg: "too many errors; stopping"})
	}
}

func (p *parser) errorf(file int, n *yaml.Node, format string, args ...any) {
	p.errorAt(file, yamlsrc.Pos(n), format, args...)
}

// verr records an error at a value's position.
func (p *parser) verr(v *value, format string, args ...any) {
	if v == nil {
		p.errorAt(0, pipeline.Pos{}, format, args...)
		return
	}
	p.errorAt(v.file, v.pos, format, args...)
}

// note records something the adapter could not resolve; the pipeline is
// then partially known.
func (p *parser) note(v *value, format string, args ...any) {
	n := Note{Msg: fmt.Sprintf(format, args...)}
	if v != nil {
		n.Pos = v.pos
	}
	if len(p.doc.Notes) < 1000 {
		p.doc.Notes = append(p.doc.Notes, n)
	}
	p.doc.Partial = true
}

// Parse parses a GitLab CI configuration with default options.
func Parse(src *pipeline.Source) ([]*pipeline.Graph, error) { return ParseWith(src, DefaultOptions()) }

// ParseWith parses a GitLab CI configuration. It returns the pipeline's
// graph first, then one graph per child pipeline started with `trigger:
// include: local`. A file that is only a fragment of a pipeline that the
// repository's root .gitlab-ci.yml includes yields no graph: it is analysed
// as part of that pipeline.
func ParseWith(src *pipeline.Source, opts Options) (graphs []*pipeline.Graph, err error) {
	defer func() {
		if r := recover(); r != nil {
			graphs, err = nil, pipeline.SourceErrors{{File: src.File, Msg: fmt.Sprintf("internal error while reading the GitLab configuration: %v", r)}}
		}
	}()
	rel := cleanRel(src.Rel)
	if rel == "" {
		rel = path.Base(strings.ReplaceAll(src.File, "\\", "/"))
	}
	if !isRootPipeline(rel) && src.ReadFile != nil && includedByRoot(src, rel, opts) {
		return nil, nil
	}
	lenient := !isRootPipeline(rel) && !isPipelineName(rel)
	g, child, err := parsePipeline(src, rel, opts, lenient, 0, map[string]bool{rel: true}, nil)
	if err != nil {
		return nil, err
	}
	graphs = append(graphs, g)
	graphs = append(graphs, child...)
	return graphs, nil
}

// parsePipeline parses the pipeline whose root file is src (rel is its
// repository path) and, below maxChildDepth, its local child pipelines.
func parsePipeline(src *pipeline.Source, rel string, opts Options, lenient bool, childDepth int, visited map[string]bool, parent *Job) (*pipeline.Graph, []*pipeline.Graph, error) {
	p := &parser{parent: parent, src: src, root: src.File, opts: opts, lenient: lenient, doc: &Doc{},
		extended: map[string]*value{}, extBusy: map[string]bool{}, loaded: map[string]bool{}, memo: map[memoKey]pipeline.Tri{}}
	p.base = basePrefix(src.File, src.Rel)
	p.files = []*srcFile{{rel: rel, lines: yamlsrc.NewLines(src.Src)}}
	p.loaded[rel] = true
	docs, err := yamlsrc.Decode(src.File, src.Src)
	if err != nil {
		return nil, nil, err
	}
	nodes := 0
	for _, d := range docs {
		nodes += yamlsrc.CountNodes(d)
	}
	p.budget = 8*nodes + 4*yamlsrc.AliasBudget
	p.work = p.budget
	p.maxStepText = 4*len(src.Src) + 8<<20
	var comments []string
	for _, d := range docs {
		comments = append(comments, yamlsrc.Comments(d)...)
	}
	rootDoc := p.pickDocument(0, docs)
	if rootDoc == nil && len(p.errs) == 0 {
		p.errorAt(0, pipeline.Pos{}, "the file is empty: a GitLab CI configuration needs at least one job")
	}
	if len(p.errs) > 0 {
		return nil, nil, p.sorted()
	}
	top := p.load(0, rootDoc, 0, []string{rel})
	p.top = top
	g := &pipeline.Graph{File: src.File, Format: Format, Doc: p.doc, Comments: comments}
	if top != nil && !p.overBudget {
		p.build(g)
	}
	if len(p.errs) > 0 {
		return nil, nil, p.sorted()
	}
	var children []*pipeline.Graph
	if childDepth < maxChildDepth {
		children = p.children(childDepth, visited)
	}
	return g, children, nil
}

// maxChildDepth bounds how deeply child pipelines are followed.
const maxChildDepth = 2

func (p *parser) sorted() pipeline.SourceErrors {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.File != b.File {
			return a.File == p.root
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return p.errs
}

// pickDocument returns the configuration document of a file: a file may
// start with a `spec:` header document (CI/CD inputs) followed by `---`.
func (p *parser) pickDocument(file int, docs []*yaml.Node) *yaml.Node {
	switch len(docs) {
	case 0:
		return nil
	case 1:
		return docs[0]
	case 2:
		if isSpecHeader(docs[0]) {
			return docs[1]
		}
	}
	p.errorf(file, docs[1], "a GitLab CI configuration is one YAML document (optionally after a `spec:` header); found %d", len(docs))
	return nil
}

func isSpecHeader(d *yaml.Node) bool {
	n := d
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	return n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "spec"
}

// basePrefix returns what turns a path relative to the walk root into the
// user's path: File minus its Rel suffix.
func basePrefix(file, rel string) string {
	f := strings.ReplaceAll(file, "\\", "/")
	rel = strings.TrimPrefix(rel, "./")
	if rel != "" && strings.HasSuffix(f, rel) {
		return file[:len(file)-len(rel)]
	}
	return ""
}

// userPath turns a repository path into the path shown in findings.
func (p *parser) userPath(rel string) string { return p.base + rel }

func cleanRel(rel string) string {
	rel = strings.ReplaceAll(rel, "\\", "/")
	if rel == "" {
		return ""
	}
	return strings.TrimPrefix(path.Clean("/"+rel), "/")
}

// isRootPipeline reports whether rel is the repository's pipeline:
// .gitlab-ci.yml or .gitlab-ci.yaml at the root.
func isRootPipeline(rel string) bool { return rel == ".gitlab-ci.yml" || rel == ".gitlab-ci.yaml" }

// isPipelineName reports whether a file's base name is .gitlab-ci.yml or
// .gitlab-ci.yaml (the default configuration path, at any depth).
func isPipelineName(rel string) bool {
	b := strings.ToLower(path.Base(rel))
	return b == ".gitlab-ci.yml" || b == ".gitlab-ci.yaml"
}

// load converts a file's document and merges its includes under it.
func (p *parser) load(file int, doc *yaml.Node, depth int, stack []string) *value {
	c := &converter{p: p, file: file, memo: map[*yaml.Node]*value{}, busy: map[*yaml.Node]bool{}}
	v := c.conv(doc, 0)
	if v.kind == kNull {
		return &value{kind: kMap, file: file}
	}
	if v.kind != kMap {
		p.verr(v, "a GitLab CI configuration must be a mapping of jobs and keywords, got %s", describe(v))
		return nil
	}
	inc := v.get("include")
	if inc == nil {
		return v
	}
	merged := &value{kind: kMap, file: file, pos: v.pos}
	for _, x := range p.includes(file, inc, depth, stack) {
		merged = p.deepMerge(merged, x, 0)
	}
	own := &value{kind: kMap, file: file, pos: v.pos}
	for i, k := range v.keys {
		if k != "include" {
			own.keys = append(own.keys, k)
			own.keyPos = append(own.keyPos, v.keyPos[i])
			own.vals = append(own.vals, v.vals[i])
		}
	}
	return p.deepMerge(merged, own, 0)
}

// deepMerge merges over into base the way GitLab merges included files and
// extends: mappings merge key by key, recursively; anything else (lists,
// scalars) is replaced by over's value.
func (p *parser) deepMerge(base, over *value, depth int) *value {
	if base == nil || base.kind != kMap || over == nil || over.kind != kMap || depth > maxNesting {
		return over
	}
	out := &value{kind: kMap, pos: over.pos, file: over.file}
	out.keys = append([]string(nil), base.keys...)
	out.keyPos = append([]pipeline.Pos(nil), base.keyPos...)
	out.vals = append([]*value(nil), base.vals...)
	if !p.charge(len(base.keys) + len(over.keys)) {
		return out
	}
	index := make(map[string]int, len(out.keys))
	for i, k := range out.keys {
		index[k] = i
	}
	for i, k := range over.keys {
		x := over.vals[i]
		if j, ok := index[k]; ok {
			out.vals[j] = p.deepMerge(out.vals[j], x, depth+1)
			out.keyPos[j] = over.keyPos[i]
			continue
		}
		index[k] = len(out.keys)
		out.keys = append(out.keys, k)
		out.keyPos = append(out.keyPos, over.keyPos[i])
		out.vals = append(out.vals, x)
	}
	return out
}

// deref resolves a !reference tag: [job, key, ...] names a path in the
// merged configuration (after the job's extends). References may nest up to
// MaxReferenceDepth levels.
func (p *parser) deref(v *value) *value { return p.derefDepth(v, 0) }

func (p *parser) derefDepth(v *value, depth int) *value {
	for v != nil && v.kind == kRef {
		if depth >= MaxReferenceDepth {
			p.verr(v, "!reference tags nest deeper than %d levels", MaxReferenceDepth)
			return nil
		}
		depth++
		if len(v.items) == 0 {
			p.verr(v, "!reference needs a job or key name")
			return nil
		}
		var names []string
		for _, it := range v.items {
			s, ok := it.str()
			if !ok {
				p.verr(it, "!reference entries must be strings")
				return nil
			}
			names = append(names, s)
		}
		var cur *value
		if p.top != nil {
			cur = p.top.get(names[0])
			if cur != nil && cur.kind == kMap && !reservedKeys[names[0]] {
				cur = p.extend(names[0])
			}
		}
		if cur == nil {
			if p.doc.Partial || p.lenient {
				p.note(v, "!reference %s is not defined in the files that could be read", strings.Join(names, "."))
				return nil
			}
			p.verr(v, "!reference to %q, which is not defined", names[0])
			return nil
		}
		for _, n := range names[1:] {
			cur = p.derefDepth(cur, depth)
			next := cur.get(n)
			if cur != nil && cur.kind == kSeq {
				if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(cur.items) {
					next = cur.items[i]
				}
			}
			if next == nil {
				if p.doc.Partial || p.lenient {
					p.note(v, "!reference %s is not defined in the files that could be read", strings.Join(names, "."))
					return nil
				}
				p.verr(v, "!reference %s: key %q is not defined", strings.Join(names, "."), n)
				return nil
			}
			cur = next
		}
		v = cur
	}
	return v
}

// extend returns job name with its extends resolved (memoised).
func (p *parser) extend(name string) *value {
	if v, ok := p.extended[name]; ok {
		return v
	}
	v := p.extendDepth(name, 0)
	p.extended[name] = v
	return v
}

func (p *parser) extendDepth(name string, depth int) *value {
	raw := p.top.get(name)
	if raw == nil || raw.kind != kMap {
		return raw
	}
	ext := p.deref(raw.get("extends"))
	if ext == nil {
		return raw
	}
	if v, ok := p.extended[name]; ok {
		return v
	}
	if depth >= MaxExtendsDepth {
		p.verr(ext, "extends nests deeper than %d levels", MaxExtendsDepth)
		return raw
	}
	if p.extBusy[name] {
		p.verr(ext, "extends of %q forms a cycle", name)
		return raw
	}
	p.extBusy[name] = true
	defer delete(p.extBusy, name)
	var parents []*value
	switch ext.kind {
	case kScalar:
		parents = []*value{ext}
	case kSeq:
		parents = ext.items
	default:
		p.verr(ext, "extends must be a job name or a list of job names, got %s", describe(ext))
		return raw
	}
	merged := &value{kind: kMap, pos: raw.pos, file: raw.file}
	for _, pv := range parents {
		pn, ok := p.deref(pv).str()
		if !ok {
			p.verr(pv, "extends entries must be job names")
			continue
		}
		if pn == name {
			p.verr(pv, "job %q extends itself", name)
			continue
		}
		if p.extBusy[pn] {
			p.verr(pv, "extends of %q forms a cycle through %q", name, pn)
			continue
		}
		parent := p.top.get(pn)
		if parent == nil || parent.kind != kMap {
			if parent == nil && (p.doc.Partial || p.lenient) {
				p.note(pv, "job %q extends %q, which is not defined in the files that could be read", name, pn)
				p.doc.unknownExtends = append(p.doc.unknownExtends, name)
				continue
			}
			if parent == nil {
				p.verr(pv, "job %q extends %q, which is not defined", name, pn)
			} else {
				p.verr(pv, "job %q extends %q, which is not a job (got %s)", name, pn, describe(parent))
			}
			continue
		}
		pe := p.extended[pn]
		if pe == nil {
			pe = p.extendDepth(pn, depth+1)
			p.extended[pn] = pe
		}
		merged = p.deepMerge(merged, pe, 0)
	}
	own := &value{kind: kMap, pos: raw.pos, file: raw.file}
	for i, k := range raw.keys {
		if k != "extends" {
			own.keys = append(own.keys, k)
			own.keyPos = append(own.keyPos, raw.keyPos[i])
			own.vals = append(own.vals, raw.vals[i])
		}
	}
	out := p.deepMerge(merged, own, 0)
	out.pos, out.file = raw.pos, raw.file
	return out
}

func describe(v *value) string {
	if v == nil {
		return "nothing"
	}
	switch v.kind {
	case kMap:
		return "a mapping"
	case kSeq:
		return "a list"
	case kNull:
		return "null"
	case kRef:
		return "a !reference"
	}
	s := v.s
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Sprintf("a %s (%q)", strings.TrimPrefix(v.tag, "!!"), s)
}

// errNoReader is the note for includes when the caller gives no file access.
var errNoReader = errors.New("no access to other files of the repository")
