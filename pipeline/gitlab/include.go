package gitlab

import (
	"crypto/sha256"
	"path"
	"strings"
	"sync"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
)

// Include kinds.
const (
	IncludeLocal     = "local"
	IncludeRemote    = "remote"
	IncludeProject   = "project"
	IncludeTemplate  = "template"
	IncludeComponent = "component"
)

// includes resolves an `include:` value of file and returns the top-level
// mappings of the local files it names, in order.
func (p *parser) includes(file int, inc *value, depth int, stack []string) []*value {
	inc = p.deref(inc)
	var entries []*value
	switch inc.kind {
	case kScalar, kMap:
		entries = []*value{inc}
	case kSeq:
		entries = inc.items
	case kNull:
		return nil
	default:
		p.verr(inc, "include must be a file name, a mapping or a list, got %s", describe(inc))
		return nil
	}
	var out []*value
	for _, e := range entries {
		e = p.deref(e)
		if e == nil {
			continue
		}
		in := p.includeEntry(file, e)
		if in == nil {
			continue
		}
		p.doc.Includes = append(p.doc.Includes, in)
		if in.Kind != IncludeLocal {
			in.Reason = "cannot be fetched offline: mlgate analyses only the files of the checkout"
			p.doc.Partial = true
			continue
		}
		if in.Skipped {
			continue
		}
		if v := p.loadLocal(file, e, in, depth, stack); v != nil {
			out = append(out, v)
		}
	}
	return out
}

// includeEntry reads one include entry.
func (p *parser) includeEntry(file int, e *value) *Include {
	in := &Include{Pos: e.pos}
	if s, ok := e.str(); ok {
		in.Target = s
		if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
			in.Kind = IncludeRemote
		} else {
			in.Kind = IncludeLocal
		}
		return in
	}
	if e.kind != kMap {
		p.verr(e, "an include entry must be a file name or a mapping, got %s", describe(e))
		return nil
	}
	for _, k := range []string{IncludeLocal, IncludeRemote, IncludeProject, IncludeTemplate, IncludeComponent} {
		if v := p.deref(e.get(k)); v != nil {
			in.Kind = k
			in.TargetPos = v.pos
			if s, ok := v.str(); ok {
				in.Target = s
			} else {
				p.verr(v, "include:%s must be a string, got %s", k, describe(v))
				return nil
			}
			break
		}
	}
	if in.Kind == "" {
		p.verr(e, "an include entry needs one of local, remote, project, template or component")
		return nil
	}
	if in.Kind == IncludeProject {
		if pos, r := e.getKey("ref"); r != nil {
			in.Ref, _ = p.deref(r).str()
			in.RefPos = pos
		}
		if f := p.deref(e.get("file")); f != nil {
			if s, ok := f.str(); ok {
				in.Files = []string{s}
			} else if f.kind == kSeq {
				for _, it := range f.items {
					if s, ok := p.deref(it).str(); ok {
						in.Files = append(in.Files, s)
					}
				}
			}
		}
	}
	if in.Kind == IncludeRemote {
		if i := p.deref(e.get("integrity")); i != nil {
			in.Integrity, _ = i.str()
		}
	}
	if r := p.deref(e.get("rules")); r != nil {
		// Include rules see only variables known when the pipeline is
		// created; an include is skipped when no context can add it.
		if p.evalRules(r, anyContext(p), "") == pipeline.False {
			in.Skipped = true
			in.Reason = "its rules exclude it in the project's own pipelines"
		}
	}
	return in
}

// loadLocal reads and merges one local include.
func (p *parser) loadLocal(file int, e *value, in *Include, depth int, stack []string) *value {
	target := in.Target
	if strings.Contains(target, "$") {
		in.Reason = "the path uses CI/CD variables, which are not known offline"
		p.doc.Partial = true
		return nil
	}
	if strings.ContainsAny(target, "*?[") {
		in.Reason = "wildcard paths cannot be expanded: mlgate reads named files only"
		p.doc.Partial = true
		return nil
	}
	if p.src.ReadFile == nil {
		in.Reason = errNoReader.Error()
		p.doc.Partial = true
		return nil
	}
	rel := strings.TrimPrefix(target, "/")
	clean := path.Clean(rel)
	if rel == "" || clean == ".." || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
		p.errorAt(file, in.pos(), "include:local %q leaves the repository", target)
		return nil
	}
	for _, s := range stack {
		if s == clean {
			p.errorAt(file, in.pos(), "include:local %q forms an include cycle (%s)", target, strings.Join(append(stack, clean), " -> "))
			return nil
		}
	}
	if p.loaded[clean] {
		in.Resolved = true
		in.Reason = "already included"
		return nil
	}
	if depth+1 > MaxIncludeDepth {
		p.errorAt(file, in.pos(), "includes nest deeper than %d levels", MaxIncludeDepth)
		return nil
	}
	p.nInclude++
	if p.nInclude > MaxIncludes {
		p.errorAt(file, in.pos(), "more than %d local includes", MaxIncludes)
		return nil
	}
	p.at = in.pos()
	if p.at.File == "" {
		p.at.File = p.files[file].posFile
	}
	src, err := p.src.ReadFile(clean)
	readAs := clean
	if err != nil {
		// GitLab resolves local includes from the repository root. When the
		// audited project sits in a subdirectory of another repository (a
		// vendored example, a fixture), try from the pipeline's own
		// directory before giving up.
		if dir := p.pipelineDir(); dir != "" {
			if alt, err2 := p.src.ReadFile(path.Join(dir, clean)); err2 == nil {
				src, err, readAs = alt, nil, path.Join(dir, clean)
			}
		}
	}
	if err != nil {
		p.errorAt(file, in.pos(), "include:local %q cannot be read: %v", target, err)
		return nil
	}
	p.loaded[clean] = true
	p.loaded[readAs] = true
	p.maxStepText += 4 * len(src)
	in.Resolved = true
	idx := len(p.files)
	f := &srcFile{rel: clean, posFile: p.userPath(clean), lines: yamlsrc.NewLines(src)}
	p.files = append(p.files, f)
	in.File = f.posFile
	docs, err := yamlsrc.Decode(f.posFile, src)
	if err != nil {
		if list, ok := err.(pipeline.SourceErrors); ok {
			for _, e := range list {
				if len(p.errs) < maxErrors {
					p.errs = append(p.errs, e)
				}
			}
		} else {
			p.errorAt(idx, pipeline.Pos{}, "%v", err)
		}
		return nil
	}
	for _, d := range docs {
		if !p.charge(yamlsrc.CountNodes(d)) {
			return nil
		}
		p.budget += 4 * yamlsrc.CountNodes(d)
		p.work += 4 * yamlsrc.CountNodes(d)
		p.doc.comments = append(p.doc.comments, yamlsrc.Comments(d)...)
	}
	doc := p.pickDocument(idx, docs)
	if doc == nil {
		return nil
	}
	return p.load(idx, doc, depth+1, append(append([]string(nil), stack...), clean))
}

func (in *Include) pos() pipeline.Pos {
	if in.TargetPos.Line > 0 {
		return in.TargetPos
	}
	return in.Pos
}

// includedByRoot reports whether the repository's root pipeline includes
// rel locally (directly or through other includes) or starts it as a local
// child pipeline. Such a file is a fragment, analysed with its pipeline.
func includedByRoot(src *pipeline.Source, rel string, opts Options) bool {
	// The reader's root is the repository; the walk may have started in a
	// subdirectory. Find where this file is under the reader's root, and
	// look for a root pipeline there as well as at the top.
	self, dir := rel, ""
	p := &parser{src: src, files: []*srcFile{{rel: rel}}}
	if d := p.pipelineDir(); d != "" {
		if full := path.Join(d, path.Base(rel)); strings.HasSuffix(full, rel) {
			self = full
			dir = strings.TrimSuffix(strings.TrimSuffix(full, rel), "/")
		}
	}
	for _, top := range []string{"", dir} {
		if top == "" && dir != "" && len(rel) > 0 && top == dir {
			continue
		}
		for _, name := range []string{".gitlab-ci.yml", ".gitlab-ci.yaml"} {
			root := name
			if top != "" {
				root = top + "/" + name
			}
			b, err := src.ReadFile(root)
			if err != nil {
				continue
			}
			cov := rootCoverage(src.ReadFile, root, b, opts)
			if cov[self] || cov[rel] {
				return true
			}
			break
		}
	}
	return false
}

// rootScan is what the root pipeline covers, with the files it read to
// find out, so a cached scan can be checked against the checkout.
type rootScan struct {
	read    map[string][32]byte // path -> sha256 (zero when it could not be read)
	covered map[string]bool
}

// rootCache keeps recent scans of root pipelines: an audit walk asks the
// same question for every YAML file of a repository, and parsing the root
// with its includes each time would dominate the run.
var rootCache struct {
	sync.Mutex
	m map[[32]byte][]*rootScan
}

const rootCacheSize = 64

// rootCoverage returns the files the root pipeline (root, content b)
// includes locally or starts as child pipelines.
func rootCoverage(read func(string) ([]byte, error), root string, b []byte, opts Options) map[string]bool {
	key := sha256.Sum256(append([]byte(root+"\x00"), b...))
	rootCache.Lock()
	cands := rootCache.m[key]
	rootCache.Unlock()
	for _, c := range cands {
		if scanStillValid(read, c) {
			return c.covered
		}
	}
	scan := &rootScan{read: map[string][32]byte{}, covered: map[string]bool{}}
	rec := func(rel string) ([]byte, error) {
		data, err := read(rel)
		if len(scan.read) < 1000 {
			if err != nil {
				scan.read[rel] = [32]byte{}
			} else {
				scan.read[rel] = sha256.Sum256(data)
			}
		}
		return data, err
	}
	rsrc := &pipeline.Source{File: root, Rel: root, Src: b, ReadFile: rec}
	p := &parser{src: rsrc, root: root, opts: opts, lenient: true, doc: &Doc{},
		extended: map[string]*value{}, extBusy: map[string]bool{}, loaded: map[string]bool{root: true}, memo: map[memoKey]pipeline.Tri{}}
	p.files = []*srcFile{{rel: root, lines: yamlsrc.NewLines(b)}}
	docs, err := yamlsrc.Decode(root, b)
	if err == nil {
		nodes := 0
		for _, d := range docs {
			nodes += yamlsrc.CountNodes(d)
		}
		p.budget = 8*nodes + 4*yamlsrc.AliasBudget
		p.work = p.budget
		if d := p.pickDocument(0, docs); d != nil {
			p.top = p.load(0, d, 0, []string{root})
		}
	}
	for k := range p.loaded {
		scan.covered[k] = true
	}
	if p.top != nil {
		for i, k := range p.top.keys {
			if reservedKeys[k] || strings.HasPrefix(k, ".") {
				continue
			}
			for _, c := range p.childIncludes(p.top.vals[i]) {
				scan.covered[c] = true
			}
		}
	}
	rootCache.Lock()
	if rootCache.m == nil || len(rootCache.m) >= rootCacheSize {
		rootCache.m = map[[32]byte][]*rootScan{}
	}
	if len(rootCache.m[key]) < 4 {
		rootCache.m[key] = append(rootCache.m[key], scan)
	}
	rootCache.Unlock()
	return scan.covered
}

func scanStillValid(read func(string) ([]byte, error), s *rootScan) bool {
	for rel, sum := range s.read {
		data, err := read(rel)
		if err != nil {
			if sum != ([32]byte{}) {
				return false
			}
			continue
		}
		if sha256.Sum256(data) != sum {
			return false
		}
	}
	return true
}

// childIncludes returns the local files a trigger job's `trigger: include:`
// names (without following the job's extends).
func (p *parser) childIncludes(job *value) []string {
	t := p.deref(job.get("trigger"))
	if t == nil || t.kind != kMap {
		return nil
	}
	inc := p.deref(t.get("include"))
	var entries []*value
	switch {
	case inc == nil:
		return nil
	case inc.kind == kSeq:
		entries = inc.items
	default:
		entries = []*value{inc}
	}
	var out []string
	for _, e := range entries {
		e = p.deref(e)
		var s string
		if x, ok := e.str(); ok {
			s = x
		} else if l, ok := p.deref(e.get("local")).str(); ok {
			s = l
		}
		if s != "" && !strings.Contains(s, "://") && !strings.ContainsAny(s, "$*") {
			out = append(out, path.Clean(strings.TrimPrefix(s, "/")))
		} else if p.doc != nil && e != nil {
			what := s
			for _, k := range []string{"remote", "project", "template", "component", "artifact"} {
				if x, ok := p.deref(e.get(k)).str(); ok {
					what = k + " " + x
				}
			}
			if what == "" {
				what = "(unrecognised entry)"
			}
			p.note(e, "child pipeline %s cannot be read offline", what)
		}
	}
	return out
}

// children parses local child pipelines started by trigger jobs.
func (p *parser) children(depth int, visited map[string]bool) []*pipeline.Graph {
	if p.src.ReadFile == nil {
		return nil
	}
	var out []*pipeline.Graph
	for _, j := range p.doc.Jobs {
		for _, c := range j.ChildIncludes {
			if visited[c] || len(out) >= 20 {
				continue
			}
			visited[c] = true
			b, err := p.src.ReadFile(c)
			if err != nil {
				p.doc.Notes = append(p.doc.Notes, Note{Pos: j.Stage.Pos, Msg: "child pipeline " + c + " cannot be read: " + err.Error()})
				continue
			}
			csrc := &pipeline.Source{File: p.userPath(c), Rel: c, Src: b, ReadFile: p.src.ReadFile}
			cg, sub, err := parsePipeline(csrc, c, p.opts, false, depth+1, visited, j)
			if err != nil {
				p.doc.Notes = append(p.doc.Notes, Note{Pos: j.Stage.Pos, Msg: "child pipeline " + c + " could not be analysed: " + err.Error()})
				continue
			}
			cg.Doc.(*Doc).Parent = j.Stage.Name
			// A child pipeline's graph is its own file's.
			out = append(out, cg)
			out = append(out, sub...)
		}
	}
	return out
}

// pipelineDir returns the directory of the root pipeline relative to the
// reader's root when the root pipeline is not at the reader's root: the
// longest suffix of the file's path that the reader returns with the same
// content. It is computed once, only after an include failed to resolve.
func (p *parser) pipelineDir() string {
	if p.dirDone {
		return p.dir
	}
	p.dirDone = true
	parts := strings.Split(strings.ReplaceAll(p.src.File, "\\", "/"), "/")
	if len(parts) > 32 {
		parts = parts[len(parts)-32:]
	}
	for i := range parts {
		cand := strings.Join(parts[i:], "/")
		if cand == "" || strings.HasPrefix(cand, "/") {
			continue
		}
		b, err := p.src.ReadFile(cand)
		if err == nil && string(b) == string(p.src.Src) {
			if d := path.Dir(cand); d != "." {
				p.dir = d
			}
			return p.dir
		}
	}
	return ""
}
