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
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/config"
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/spec"
	"github.com/mlgate/mlgate/report"
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
}

// ErrNoInputs is returned (wrapped in a UsageError) when RequireInputs is
// set and the paths hold no file any analyzer recognises.
var ErrNoInputs = errors.New("no pipeline definitions found (stage specs are named mlgate-pipeline.yaml or *.mlgate-pipeline.yaml)")

// Result is a finished run.
type Result struct {
	Report *report.Report
	// Config is the configuration that applied (defaults when none was found).
	Config *config.Config
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
	files, err := collect(opts.Paths, cfg)
	if err != nil {
		return nil, &UsageError{err}
	}
	if len(files) == 0 && opts.RequireInputs {
		return nil, &UsageError{fmt.Errorf("%s: %w", strings.Join(opts.Paths, ", "), ErrNoInputs)}
	}

	rep := &report.Report{Tool: opts.Tool}
	var all []finding.Finding
	var sups []config.Suppression
	// Every rule runs; the configuration drops disabled rules' findings after
	// suppressions are matched, so a suppression of a disabled rule is not
	// reported as unused.
	popts := pipeline.Options{Enabled: func(*finding.Rule) bool { return true }, RuleOptions: cfg.RuleOptions}
	for _, f := range files {
		fs, in, src, err := analyzeSpec(f, popts)
		if err != nil {
			return nil, &UsageError{err}
		}
		rep.Inputs = append(rep.Inputs, in)
		all = append(all, fs...)
		if src != nil {
			sups = append(sups, config.ParseSuppressions(f, src)...)
		}
	}
	// Suppressions first, so a suppression of a rule that the configuration
	// disables is not reported as unused; then the configuration, over the
	// kept findings and the findings about suppressions alike.
	all, suppressed, extra := config.ApplySuppressions(all, sups)
	all = cfg.Apply(append(all, extra...))
	rep.Suppressed = suppressed
	if base != nil {
		all, rep.Baselined = config.ApplyBaseline(all, base)
	}
	finding.Sort(all)
	rep.Findings = all
	return &Result{Report: rep, Config: cfg}, nil
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

// collect expands directories into the files an analyzer recognises, in a
// stable order, skipping ignored paths, VCS directories and symlinks.
func collect(paths []string, cfg *config.Config) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	visited := 0
	for _, root := range paths {
		fi, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", root, err)
		}
		if !fi.IsDir() {
			add(root)
			continue
		}
		var found []string
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", p, err)
			}
			visited++
			if visited > MaxWalkFiles {
				return fmt.Errorf("walk %s: more than %d files; name the pipeline files or directories to audit", root, MaxWalkFiles)
			}
			if d.IsDir() {
				if p != root && (d.Name() == ".git" || d.Name() == ".hg" || d.Name() == ".svn" || cfg.Ignored(p)) {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || cfg.Ignored(p) {
				return nil
			}
			if spec.IsSpecPath(p) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		for _, p := range found {
			add(p)
		}
	}
	return out, nil
}

// analyzeSpec parses one stage spec and runs the pipeline rules. A file that
// cannot be parsed yields an error input and a pipeline/invalid-definition
// finding, not an error: only a failing rule option is an error.
func analyzeSpec(path string, opts pipeline.Options) ([]finding.Finding, report.Input, []byte, error) {
	in := report.Input{Path: path, Format: spec.Format, Status: report.StatusAnalyzed}
	g, src, err := spec.ParseFile(path)
	if err != nil {
		in.Status = report.StatusError
		in.Error = err.Error()
		return []finding.Finding{invalidFinding(path, err)}, in, src, nil
	}
	fs, err := pipeline.Analyze(g, opts)
	if err != nil {
		return nil, in, src, err
	}
	return fs, in, src, nil
}

func invalidFinding(path string, err error) finding.Finding {
	loc := finding.Location{File: path, Logical: "file"}
	msg := err.Error()
	evidence := msg
	var list spec.ErrorList
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
