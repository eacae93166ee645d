// Package audit runs mlgate's static analyzers over files and directories
// and applies the configuration: rule selection, severity overrides, ignore
// globs, inline suppressions and the baseline. It is what `mlgate audit` and
// `mlgate pipeline` call; it never prints and never exits.
//
// Today the analyzer is the stage-spec pipeline analyzer; later analyzers
// (GitHub Actions, GitLab CI, Kubeflow, Argo, model scanning, secrets) plug
// in as further entries of the analyzers table.
package audit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/mlgate/mlgate/config"
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/spec"
	"github.com/mlgate/mlgate/report"
	"github.com/mlgate/mlgate/scan"
)

// Options says what to analyze and how.
type Options struct {
	// Paths are files or directories. Directories are walked; files found
	// there are analyzed when an analyzer recognises their path. Files named
	// explicitly are analyzed as stage specs whatever their name.
	Paths []string
	// Config is an explicit .mlgate.yaml; "" means discover it by walking up
	// from the first path; NoConfig disables configuration entirely.
	Config   string
	NoConfig bool
	// Baseline is a previous JSON report; findings already in it are dropped.
	Baseline string
	// Tool identifies the program in the report.
	Tool report.Tool
	// RequireInputs makes finding nothing to analyze a usage error (for
	// `mlgate pipeline`, where the user asked for pipeline files).
	RequireInputs bool
	// Analyzers selects what runs; the zero value runs everything.
	Analyzers Analyzers
	// Scan configures model scanning.
	Scan scan.Options
	// Progress, when set, is called before each input is analyzed, with
	// the number done so far and the total.
	Progress func(done, total int, path string)
	// KeepGraphs keeps the parsed pipeline graphs in Result.Graphs (for
	// `mlgate checklist`, which reads evidence from them).
	KeepGraphs bool
}

// Analyzers is a set of analyzers.
type Analyzers uint8

// The analyzers.
const (
	Pipelines Analyzers = 1 << iota // stage specs (and later CI formats)
	Models                          // model artifacts
	All       = Pipelines | Models
)

// ErrNoInputs is returned (wrapped in a UsageError) when RequireInputs is
// set and the paths hold no file any analyzer recognises.
var ErrNoInputs = errors.New("nothing to analyze found (pipeline files: .github/workflows/*.yml, .gitlab-ci.yml, Kubeflow IR and Argo YAML by content, Dockerfiles, mlgate-pipeline.yaml; model artifacts are recognised by content)")

// Result is a finished run.
type Result struct {
	Report *report.Report
	// Config is the configuration that applied (defaults when none was found).
	Config *config.Config
	// Warnings are things the user should know that are not findings, such
	// as symlinks that were not followed.
	Warnings []string
	// Graphs are the pipeline graphs analyzed, when Options.KeepGraphs.
	Graphs []*pipeline.Graph
}

// UsageError is an error in what the user asked for (a missing path, a bad
// configuration or baseline), as opposed to a finding about an input.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// MaxWalkFiles bounds how many files a directory walk visits.
const MaxWalkFiles = 1_000_000

// Run analyzes opts.Paths.
func Run(opts Options) (*Result, error) {
	if len(opts.Paths) == 0 {
		opts.Paths = []string{"."}
	}
	for _, p := range opts.Paths {
		if _, err := os.Stat(p); err != nil {
			return nil, &UsageError{fmt.Errorf("cannot read %s: %w", p, errors.Unwrap(err))}
		}
	}
	cfg, err := loadConfig(opts)
	if err != nil {
		return nil, &UsageError{err}
	}
	var base map[string]bool
	if opts.Baseline != "" {
		if base, err = config.LoadBaseline(opts.Baseline); err != nil {
			return nil, &UsageError{err}
		}
	}
	if err := pipeline.CheckOptions(pipeline.Options{RuleOptions: cfg.RuleOptions}); err != nil {
		where := "rule options"
		if cfg.Path != "" {
			where = cfg.Path + ": rules.options"
		}
		return nil, &UsageError{fmt.Errorf("%s: %w", where, err)}
	}
	if opts.Analyzers == 0 {
		opts.Analyzers = All
	}
	w := &walker{cfg: cfg, analyzers: opts.Analyzers}
	for _, root := range opts.Paths {
		if err := w.walk(root); err != nil {
			return nil, &UsageError{err}
		}
	}
	rep := &report.Report{Tool: opts.Tool, Inputs: w.unreadable}
	var all []finding.Finding
	var sups []config.Suppression
	var kept []*pipeline.Graph
	// Every rule runs; the configuration drops disabled rules' findings after
	// suppressions are matched, so a suppression of a disabled rule is not
	// reported as unused.
	popts := pipeline.Options{Enabled: func(*finding.Rule) bool { return true }, RuleOptions: func(id string) map[string]any {
		if len(cfg.Options[id]) == 0 {
			return nil // rules only read their options; skip copying nothing for every rule and file
		}
		return cfg.RuleOptions(id)
	}}
	sopts := opts.Scan
	if allow, ok := cfg.RuleOptions(scan.PickleUnknownGlobal.ID)["allow"].([]any); ok {
		for _, a := range allow {
			if s, ok := a.(string); ok {
				sopts.Allow = append(sopts.Allow, s)
			}
		}
	}
	// Candidates are independent: recognise and analyze them on one worker
	// per core (reading a file's head to recognise it is as much work as
	// the walk itself) and collect the results in walk order, so the
	// report does not depend on scheduling.
	type result struct {
		kind   inputKind
		fs     []finding.Finding
		in     report.Input
		sups   []config.Suppression
		graphs []*pipeline.Graph
		err    error
	}
	total := len(w.cands)
	results := make([]result, total)
	var mu sync.Mutex
	done := 0
	work := func(i int) {
		c := &w.cands[i]
		if opts.Progress != nil {
			mu.Lock()
			opts.Progress(done, total, c.path)
			done++
			mu.Unlock()
		}
		r := &results[i]
		var src []byte
		r.kind, c.adapter, src = classify(c, opts.Analyzers)
		switch r.kind {
		case kindPipeline:
			r.fs, r.in, r.sups, r.graphs, r.err = analyzePipeline(c, src, popts)
			if !opts.KeepGraphs {
				// A graph holds its file's whole YAML tree; keeping 1,000
				// of them until the end only makes the collector's work.
				r.graphs = nil
			}
		case kindModel:
			r.in, r.fs = analyzeModel(c.path, sopts)
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(total, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				work(i)
			}
		}()
	}
	for i := range total {
		next <- i
	}
	close(next)
	wg.Wait()
	inputs := 0
	for _, r := range results {
		if r.err != nil {
			return nil, &UsageError{r.err}
		}
		if r.kind != kindNone {
			inputs++
		}
	}
	if inputs == 0 && len(w.unreadable) == 0 && opts.RequireInputs {
		return nil, &UsageError{fmt.Errorf("%s: %w", strings.Join(opts.Paths, ", "), ErrNoInputs)}
	}
	// Pipeline definitions first, then model artifacts, each in walk order.
	for _, kind := range []inputKind{kindPipeline, kindModel} {
		for _, r := range results {
			if r.kind != kind {
				continue
			}
			if opts.KeepGraphs {
				kept = append(kept, r.graphs...)
			}
			rep.Inputs = append(rep.Inputs, r.in)
			all = append(all, r.fs...)
			sups = append(sups, r.sups...)
		}
	}
	for _, in := range w.unreadable {
		all = append(all, invalidFinding(in.Path, errors.New(in.Error)))
	}
	// Suppressions first, so a suppression of a rule that the configuration
	// disables is not reported as unused; then the configuration, over the
	// kept findings and the findings about suppressions alike.
	all, suppressed, extra := config.ApplySuppressions(all, sups)
	all = cfg.Apply(append(all, extra...))
	rep.Suppressed = suppressed
	finding.AssignFingerprints(all, fingerprintPath(cfg, opts.Paths[0]))
	if base != nil {
		all, rep.Baselined = config.ApplyBaseline(all, base)
	}
	if opts.Progress != nil {
		opts.Progress(total, total, "")
	}
	finding.Sort(all)
	rep.Findings = all
	return &Result{Report: rep, Config: cfg, Warnings: w.warnings(), Graphs: kept}, nil
}

// fingerprintPath returns the function that turns a finding's file into the
// form its fingerprint uses: relative to the directory of .mlgate.yaml, else
// to the repository root, else to the working directory, with forward
// slashes. So `mlgate audit .` from the root and `mlgate audit sub` from
// elsewhere give the same fingerprints, and a baseline keeps matching.
func fingerprintPath(cfg *config.Config, first string) func(string) string {
	base := ""
	if cfg != nil && cfg.Path != "" {
		base = cfg.Dir
	}
	if base == "" {
		base = config.RepoRoot(first)
	}
	if base == "" {
		base, _ = os.Getwd()
	}
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	// Findings come many to a file; filepath.Abs asks the kernel for the
	// working directory on every call, so each file is resolved once.
	memo := map[string]string{}
	return func(file string) string {
		if file == "" {
			return ""
		}
		if k, ok := memo[file]; ok {
			return k
		}
		k := filepath.ToSlash(file)
		if abs, err := filepath.Abs(file); err == nil {
			k = filepath.ToSlash(abs)
			if rel, err := filepath.Rel(base, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				k = filepath.ToSlash(rel)
			}
		}
		memo[file] = k
		return k
	}
}

func loadConfig(opts Options) (*config.Config, error) {
	if opts.NoConfig {
		return config.Default(), nil
	}
	path := opts.Config
	if path == "" {
		found, err := config.Find(opts.Paths[0])
		if err != nil {
			return nil, err
		}
		path = found
	}
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// candidate is a file the walk found that an analyzer may recognise.
type candidate struct {
	path     string
	rel      string // slash-separated, relative to the walk root
	root     string // the repository (or walk) root, for includes
	explicit bool   // named on the command line
	// adapter is the pipeline adapter that recognised the path; nil until
	// the content is looked at.
	adapter *pipeline.Adapter
}

// walker expands the targets into the files an analyzer may recognise.
type walker struct {
	cfg        *config.Config
	analyzers  Analyzers
	cands      []candidate
	index      map[string]int // real path -> candidate
	visited    int
	unreadable []report.Input // directories that could not be read
	skipped    []string       // symlinks not followed
	cwd        string
}

// inputKind is what a candidate turned out to be.
type inputKind uint8

const (
	kindNone inputKind = iota
	kindPipeline
	kindModel
)

// add records p as a candidate when an analyzer may recognise it: a
// pipeline definition by path (.github/workflows/*.yml, .gitlab-ci.yml,
// mlgate-pipeline.yaml) or, for YAML and JSON files, by content (Kubeflow
// IR, Argo); a model artifact by content; anything named explicitly. key
// is p's real path when the caller knows it. One file reached through two
// names is analyzed once, under the name whose path an adapter matches if
// only one does, and as named explicitly if either was.
func (w *walker) add(p, rel, root string, explicit bool, key string) {
	if w.index == nil {
		w.index = map[string]int{}
	}
	p = filepath.Clean(p)
	if key == "" {
		key = p
		if real, err := filepath.EvalSymlinks(p); err == nil {
			key = real
		}
	}
	var a *pipeline.Adapter
	if w.analyzers&Pipelines != 0 {
		a = pipeline.MatchPath(rel)
	}
	if a == nil && !explicit && w.analyzers&Models == 0 && !pipeline.MaySniff(rel) {
		return
	}
	if i, ok := w.index[key]; ok {
		c := &w.cands[i]
		if c.adapter == nil && a != nil {
			c.path, c.rel, c.root, c.adapter = p, rel, root, a
		}
		c.explicit = c.explicit || explicit
		return
	}
	w.index[key] = len(w.cands)
	w.cands = append(w.cands, candidate{path: p, rel: rel, root: root, explicit: explicit, adapter: a})
}

// classify says what c is: a pipeline definition (with its adapter and,
// when reading its head read all of it, its content), a model artifact,
// or nothing mlgate analyzes. A file named explicitly that nothing
// recognises is read as a stage spec, so a misnamed or broken definition
// is reported, not skipped.
func classify(c *candidate, analyzers Analyzers) (inputKind, *pipeline.Adapter, []byte) {
	if c.adapter != nil {
		return kindPipeline, c.adapter, nil
	}
	if analyzers&Pipelines != 0 && (pipeline.MaySniff(c.rel) || c.explicit) {
		head, whole := readHead(c.path)
		if a := pipeline.Sniff(head); a != nil {
			if !whole {
				head = nil
			}
			return kindPipeline, a, head
		}
	}
	if analyzers&Models != 0 && (scan.Detect(c.path) != "" || c.explicit && analyzers == Models) {
		return kindModel, nil, nil
	}
	if c.explicit && analyzers&Pipelines != 0 {
		return kindPipeline, pipeline.AdapterFor(spec.Format), nil
	}
	return kindNone, nil, nil
}

// readHead returns the first pipeline.SniffSize bytes of a regular file,
// and whether that is the whole file.
func readHead(p string) ([]byte, bool) {
	// Check before opening: opening a FIFO for reading blocks until a
	// writer appears.
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	buf := make([]byte, pipeline.SniffSize+1)
	n, err := io.ReadFull(f, buf)
	if n <= pipeline.SniffSize && (err == io.EOF || err == io.ErrUnexpectedEOF) {
		return buf[:n], true
	}
	return buf[:min(n, pipeline.SniffSize)], false
}

// abs is filepath.Abs with the working directory looked up once per walk.
func (w *walker) abs(p string) (string, error) {
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	if w.cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		w.cwd = wd
	}
	return filepath.Join(w.cwd, p), nil
}

// walk adds root: a file named explicitly is analyzed whatever its name; a
// directory (or a symlink to one, named explicitly) is walked in a stable
// order. Inside the walk, .git/.hg/.svn and ignored paths are skipped,
// symlinked spec files are analyzed when they resolve to a regular file
// inside the root, other symlinks are not followed and are listed in the
// warnings, and unreadable directories become input errors.
func (w *walker) walk(root string) error {
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", root, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		// A file named explicitly is recognised by its path inside the
		// repository (so .github/workflows/ci.yml works from anywhere).
		repo := config.RepoRoot(root)
		rel := filepath.ToSlash(filepath.Clean(root))
		if repo != "" {
			if abs, err := filepath.Abs(root); err == nil {
				if r, err := filepath.Rel(repo, abs); err == nil && !strings.HasPrefix(r, "..") {
					rel = filepath.ToSlash(r)
				}
			}
		} else {
			repo = filepath.Dir(root)
		}
		w.add(root, rel, repo, true, "")
		return nil
	}
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", root, err)
	}
	// found holds each file as shown (below root) and its real path.
	type file struct{ shown, real string }
	var found []file
	err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		shown := p
		if real != root {
			if rel, e := filepath.Rel(real, p); e == nil {
				shown = filepath.Join(root, rel)
			}
		}
		if err != nil {
			if d != nil && d.IsDir() && p != real {
				w.unreadable = append(w.unreadable, report.Input{Path: shown, Format: "directory", Status: report.StatusError,
					Error: fmt.Sprintf("%s: directory could not be read: %v", shown, errors.Unwrap(err))})
				return filepath.SkipDir
			}
			return fmt.Errorf("walk %s: %w", shown, err)
		}
		w.visited++
		if w.visited > MaxWalkFiles {
			return fmt.Errorf("walk %s: more than %d files; name the pipeline files or directories to audit", root, MaxWalkFiles)
		}
		if d.IsDir() {
			if p != real && (d.Name() == ".git" || d.Name() == ".hg" || d.Name() == ".svn" || w.cfg.Ignored(shown)) {
				return filepath.SkipDir
			}
			return nil
		}
		if w.cfg.Ignored(shown) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Followed when it resolves to a regular file inside the root
			// (Hugging Face caches link snapshots to blobs this way).
			target, err := filepath.EvalSymlinks(p)
			inside := err == nil && (target == real || strings.HasPrefix(target, real+string(filepath.Separator)))
			if t, e := os.Stat(p); inside && e == nil && t.Mode().IsRegular() {
				found = append(found, file{shown, target})
			} else if e == nil && (t.IsDir() || pipeline.MatchPath(filepath.ToSlash(p)) != nil) || !inside {
				w.skipped = append(w.skipped, shown)
			}
			return nil
		}
		if d.Type().IsRegular() {
			// Below the resolved root and not a symlink: p is real.
			found = append(found, file{shown, p})
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(found, func(i, j int) bool { return found[i].shown < found[j].shown })
	// Paths are matched relative to the repository root when the walk is
	// inside one (so `mlgate audit .github` still sees
	// .github/workflows/x.yml), else relative to the walk root; includes are
	// resolved from the same base.
	base := config.RepoRoot(root)
	if base == "" {
		base = root
	}
	absBase, err := w.abs(base)
	if err != nil {
		absBase = base
	}
	for _, f := range found {
		rel := f.shown
		if abs, err := w.abs(f.shown); err == nil {
			if r, err := filepath.Rel(absBase, abs); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				rel = r
			}
		}
		w.add(f.shown, filepath.ToSlash(rel), absBase, false, f.real)
	}
	return nil
}

func (w *walker) warnings() []string {
	if len(w.skipped) == 0 {
		return nil
	}
	sort.Strings(w.skipped)
	shown := w.skipped
	if len(shown) > 5 {
		shown = shown[:5]
	}
	msg := fmt.Sprintf("not followed: %d symlink(s) to directories or to files outside the audited tree: %s",
		len(w.skipped), strings.Join(shown, ", "))
	if len(w.skipped) > len(shown) {
		msg += ", ..."
	}
	return []string{msg}
}

// analyzePipeline parses one pipeline definition with its adapter and runs
// the pipeline rules over every graph in it. It returns the file's
// suppressions, keeping only those that are real YAML comments. A file that
// cannot be parsed yields an error input and a pipeline/invalid-definition
// finding, and its suppressions are not used; only a failing rule option is
// an error. src is the file's content when the caller already read it
// all, else nil.
func analyzePipeline(f *candidate, src []byte, opts pipeline.Options) ([]finding.Finding, report.Input, []config.Suppression, []*pipeline.Graph, error) {
	path := f.path
	in := report.Input{Path: path, Format: f.adapter.Format, Status: report.StatusAnalyzed}
	fail := func(err error) ([]finding.Finding, report.Input, []config.Suppression, []*pipeline.Graph, error) {
		in.Status = report.StatusError
		in.Error = err.Error()
		return []finding.Finding{invalidFinding(path, err)}, in, nil, nil, nil
	}
	if src == nil {
		var err error
		if src, err = config.ReadRegular(path, pipeline.MaxSourceSize); err != nil {
			return fail(err)
		}
	}
	graphs, err := f.adapter.Parse(&pipeline.Source{File: path, Rel: f.rel, Src: src, ReadFile: readWithin(f.root), RuleOptions: opts.RuleOptions})
	if err != nil {
		return fail(err)
	}
	var all []finding.Finding
	var comments []string
	stages := 0
	for _, g := range graphs {
		if err := g.Build(); err != nil {
			return fail(fmt.Errorf("%s: %w", path, err))
		}
		fs, err := pipeline.Analyze(g, opts)
		if err != nil {
			return nil, in, nil, nil, err
		}
		all = append(all, fs...)
		comments = append(comments, g.Comments...)
		stages += len(g.Stages)
	}
	if f.adapter.Format != spec.Format {
		in.Details = map[string]any{"graphs": len(graphs), "stages": stages}
	}
	sups := config.FilterSuppressions(config.ParseSuppressions(path, src), comments)
	return all, in, sups, graphs, nil
}

// readWithin returns a pipeline.Source.ReadFile that reads files below
// root only: no "..", no absolute paths, no symlink leading out, regular
// files of at most pipeline.MaxSourceSize bytes.
func readWithin(root string) func(string) ([]byte, error) {
	if abs, err := filepath.Abs(root); err == nil {
		root = abs // a relative root would make every resolved path look outside it
	}
	// Resolved on the first include, then reused: most pipelines read none.
	var realRoot string
	var rootErr error
	resolved := false
	return func(rel string) ([]byte, error) {
		clean := filepath.Clean(filepath.FromSlash(strings.TrimPrefix(rel, "/")))
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s: path leaves the repository", rel)
		}
		if !resolved {
			realRoot, rootErr = filepath.EvalSymlinks(root)
			resolved = true
		}
		if rootErr != nil {
			return nil, rootErr
		}
		target, err := filepath.EvalSymlinks(filepath.Join(realRoot, clean))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, errors.Unwrap(err))
		}
		if target != realRoot && !strings.HasPrefix(target, realRoot+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s: symlink leads out of the repository", rel)
		}
		return config.ReadRegular(target, pipeline.MaxSourceSize)
	}
}

// analyzeModel scans one model artifact.
func analyzeModel(path string, opts scan.Options) (report.Input, []finding.Finding) {
	in := report.Input{Path: path, Format: "model", Status: report.StatusAnalyzed}
	art, err := scan.File(path, opts)
	if err != nil {
		in.Status = report.StatusError
		in.Error = err.Error()
		return in, []finding.Finding{scan.UnreadableFinding(path, err)}
	}
	in.Format = art.Format
	if len(art.Pickles) > 0 {
		in.Details = map[string]any{"pickles": art.Pickles}
	}
	fs := art.Findings
	if art.Format == "unknown" {
		fs = append(fs, scan.UnknownFormatFinding(path))
	}
	return in, fs
}

func invalidFinding(path string, err error) finding.Finding {
	loc := finding.Location{File: path, Logical: "file"}
	msg := err.Error()
	evidence := msg
	var list pipeline.SourceErrors
	if errors.As(err, &list) && len(list) > 0 {
		loc.Line, loc.Column = list[0].Line, list[0].Column
		evidence = list[0].Msg
		lines := make([]string, 0, len(list))
		for _, e := range list {
			lines = append(lines, e.Error())
		}
		msg = fmt.Sprintf("%d problem(s): %s", len(list), strings.Join(lines, "; "))
	}
	return pipeline.InvalidDefinition.New(loc, "The pipeline definition could not be analyzed: "+msg, evidence)
}
