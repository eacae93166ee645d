// Package gha reads GitHub Actions workflows (.github/workflows/*.yml) and
// action definitions (action.yml with runs:) into the stage graph, and holds
// the rules that only make sense for GitHub Actions (pipeline/gha-*).
//
// Each job becomes a stage; an action becomes one stage. What is inferred
// from which keys is documented in docs/adapters/github-actions.md. Parsing
// is lenient about keys GitHub may add, strict about structure (a `jobs`
// that is not a mapping is an error), bounded (yamlsrc limits, MaxJobs,
// MaxSteps, an alias budget) and never panics.
package gha

import (
	"bytes"
	"errors"
	"path"
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// Format is the name graphs from this adapter carry.
const Format = "github-actions"

func init() {
	pipeline.RegisterAdapter(&pipeline.Adapter{
		Format:    Format,
		Title:     "GitHub Actions workflow",
		MatchPath: IsWorkflowPath,
		Sniff:     Sniff,
		Parse: func(src *pipeline.Source) ([]*pipeline.Graph, error) {
			g, err := Parse(src.File, src.Rel, src.Src)
			if err != nil {
				return nil, err
			}
			return []*pipeline.Graph{g}, nil
		},
	})
}

var workflowPath = regexp.MustCompile(`(^|/)\.github/workflows/[^/]+\.ya?ml$`)

// IsWorkflowPath reports whether rel (slash-separated) is a workflow file:
// a .yml or .yaml directly in a .github/workflows directory, at any depth.
// Action definitions (action.yml) are recognised by content (Sniff), since
// many projects have files of that name that are not actions.
func IsWorkflowPath(rel string) bool { return workflowPath.MatchString(rel) }

var (
	sniffJobs   = regexp.MustCompile(`(?m)^jobs[ \t]*:`)
	sniffOn     = regexp.MustCompile(`(?m)^(on|"on"|'on'|true)[ \t]*:`)
	sniffRuns   = regexp.MustCompile(`(?m)^runs[ \t]*:`)
	sniffUsing  = regexp.MustCompile(`(?m)^[ \t]+using[ \t]*:[ \t]*['"]?(composite|docker|node\d+)['"]?[ \t]*(#.*)?\r?$`)
	sniffOnKeys = regexp.MustCompile(`(?m)^[ \t]+(push|pull_request|pull_request_target|workflow_dispatch|schedule|workflow_call|workflow_run|release|issue_comment|issues)[ \t]*:`)
)

// Sniff recognises a workflow (top-level `on:` and `jobs:`) or an action
// (top-level `runs:` with a `using:` of composite, docker or nodeNN) from
// the start of a file.
func Sniff(head []byte) bool {
	if sniffJobs.Match(head) && sniffOn.Match(head) {
		return true
	}
	// `on:` may be written as a list on one line or further down than the
	// sniffed head; jobs plus a typical trigger key also identify it.
	if sniffJobs.Match(head) && sniffOnKeys.Match(head) && bytes.Contains(head, []byte("runs-on")) {
		return true
	}
	return isActionHead(head)
}

func isActionHead(head []byte) bool {
	return sniffRuns.Match(head) && sniffUsing.Match(head)
}

// Parse parses a workflow or action file. file is used in positions; rel
// (slash-separated, may be empty) decides between workflow and action
// when the content is ambiguous. The graph is built.
func Parse(file, rel string, src []byte) (*pipeline.Graph, error) {
	docs, err := yamlsrc.Decode(file, src)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, pipeline.SourceErrors{{File: file, Msg: "file is empty: a workflow needs `on:` and `jobs:`"}}
	}
	if len(docs) > 1 {
		return nil, pipeline.SourceErrors{{File: file, Line: docs[1].Line, Column: docs[1].Column,
			Msg: "a workflow is a single YAML document; found a second one"}}
	}
	doc := docs[0]
	p := &parser{file: file, lines: yamlsrc.NewLines(src), b: yamlsrc.NewBudget(doc)}
	var w *Workflow
	root := doc
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if isAction(p, root, rel) {
		base := path.Base(strings.ReplaceAll(rel, "\\", "/"))
		name := "action"
		if dir := path.Dir(strings.ReplaceAll(rel, "\\", "/")); dir != "." && dir != "/" && base != "" {
			name = path.Base(dir)
		}
		w = p.action(root, name)
	} else {
		w = p.workflow(root)
	}
	if p.b.Exceeded && len(p.errs) == 0 {
		p.errorf(root, "%s", yamlsrc.ErrBudgetMsg)
	}
	if len(p.errs) > 0 {
		sortErrs(p.errs)
		return nil, p.errs
	}
	g := &pipeline.Graph{File: file, Format: Format, Doc: w, Comments: yamlsrc.Comments(doc)}
	infer(w, g)
	if err := buildWithFallback(g); err != nil {
		return nil, pipeline.SourceErrors{{File: file, Msg: err.Error()}}
	}
	return g, nil
}

// isAction decides whether a document is an action definition: a mapping
// with `runs:` and no `jobs:`.
func isAction(p *parser, root *yaml.Node, rel string) bool {
	if root == nil {
		return false
	}
	if k, _ := yamlsrc.GetKey(root, "jobs"); k != nil {
		return false
	}
	if k, _ := yamlsrc.GetKey(root, "runs"); k != nil {
		return true
	}
	base := strings.ToLower(path.Base(rel))
	return (base == "action.yml" || base == "action.yaml") && !IsWorkflowPath(rel)
}

// buildWithFallback builds the graph; when cache edges (which cross runs)
// close a cycle with artifact edges, the cache inputs are dropped, and
// then artifact inputs, so a strange workflow still gets analysed.
func buildWithFallback(g *pipeline.Graph) error {
	err := g.Build()
	var ce *pipeline.CycleError
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	for _, s := range g.Stages {
		s.Inputs = filterInputs(s.Inputs, func(a string) bool { return !strings.HasPrefix(a, "cache:") })
	}
	if err = g.Build(); err == nil || !errors.As(err, &ce) {
		return err
	}
	for _, s := range g.Stages {
		s.Inputs = nil
	}
	return g.Build()
}

func filterInputs(in []pipeline.Input, keep func(string) bool) []pipeline.Input {
	out := in[:0]
	for _, x := range in {
		if keep(x.Artifact) {
			out = append(out, x)
		}
	}
	return out
}
