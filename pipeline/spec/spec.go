// Package spec parses mlgate's native stage spec, mlgate-pipeline.yaml, into
// the stage graph. The format is documented in docs/stage-spec.md.
//
// Parsing is strict: unknown keys, wrong types, missing required keys,
// duplicate keys and duplicate stage names are errors that carry
// file:line:column. Inputs are bounded (MaxFileSize, MaxStages, an alias
// expansion budget) and the parser never panics.
package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// Format is the name graphs from this adapter carry.
const Format = "mlgate-pipeline"

// Limits on hostile input.
const (
	// MaxFileSize is the largest spec file accepted (a generated
	// 100,000-stage spec is about 22 MB).
	MaxFileSize = 32 << 20
	// MaxStages is the largest number of stages accepted.
	MaxStages = 250_000
	// maxErrors caps how many errors one file reports.
	maxErrors = 50
	// aliasBudget bounds the nodes visited through YAML aliases, so
	// "billion laughs" documents cannot blow up.
	aliasBudget = 100_000
	// MaxNameLen bounds identifiers: stage, artifact, secret, host and role
	// names. They are echoed in findings, so without a bound one long
	// scalar, aliased from every stage, would multiply the report's size.
	MaxNameLen = 256
	// maxTextLen bounds free-text fields (description).
	maxTextLen = 64 << 10
)

// Error is a problem at a position in a spec file.
type Error = pipeline.SourceError

// ErrorList is every problem found in one file, in source order.
type ErrorList = pipeline.SourceErrors

// IsSpecPath reports whether a file name is one the audit walk treats as a
// stage spec: mlgate-pipeline.yaml/.yml or *.mlgate-pipeline.yaml/.yml.
func IsSpecPath(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	for _, ext := range []string{".yaml", ".yml"} {
		if base == "mlgate-pipeline"+ext || strings.HasSuffix(base, ".mlgate-pipeline"+ext) {
			return true
		}
	}
	return false
}

// ParseFile reads and parses a spec file.
func ParseFile(path string) (*pipeline.Graph, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read stage spec: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read stage spec %s: %w", path, err)
	}
	g, err := Parse(path, src)
	return g, src, err
}

// Parse parses spec source; file is used in positions and in the graph.
// On success the graph is built (edges, order, taint).
func Parse(file string, src []byte) (g *pipeline.Graph, err error) {
	if len(src) > MaxFileSize {
		return nil, ErrorList{{File: file, Msg: fmt.Sprintf("file is larger than the %d MiB limit", MaxFileSize>>20)}}
	}
	if e := yamlsrc.CheckText(file, src); e != nil {
		return nil, ErrorList{e}
	}
	var doc yaml.Node
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = ErrorList{{File: file, Msg: fmt.Sprintf("YAML parser failed: %v", r)}}
			}
		}()
		dec := yaml.NewDecoder(bytes.NewReader(src))
		if e := dec.Decode(&doc); e != nil {
			if errors.Is(e, io.EOF) {
				err = ErrorList{{File: file, Msg: "file is empty: a stage spec needs a `stages` list"}}
				return
			}
			err = ErrorList{yamlsrc.Error(file, e)}
			return
		}
		var extra yaml.Node
		if e := dec.Decode(&extra); e == nil {
			err = ErrorList{{File: file, Line: extra.Line, Column: extra.Column, Msg: "a stage spec is a single YAML document; found a second one"}}
		} else if !errors.Is(e, io.EOF) {
			err = ErrorList{yamlsrc.Error(file, e)}
		}
	}()
	if err != nil {
		return nil, err
	}
	p := &parser{file: file, budget: 4*yamlsrc.CountNodes(&doc) + aliasBudget}
	g = p.document(&doc)
	g.Comments = yamlsrc.Comments(&doc)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			if p.errs[i].Line != p.errs[j].Line {
				return p.errs[i].Line < p.errs[j].Line
			}
			return p.errs[i].Column < p.errs[j].Column
		})
		return nil, p.errs
	}
	if e := g.Build(); e != nil {
		pos := g.Stages[0].Pos
		var ce *pipeline.CycleError
		if errors.As(e, &ce) && len(ce.Stages) > 0 {
			for _, s := range g.Stages {
				if s.Name == ce.Stages[0] {
					pos = s.Pos
					break
				}
			}
		}
		return nil, ErrorList{{File: file, Line: pos.Line, Column: pos.Column, Msg: e.Error()}}
	}
	return g, nil
}

type parser struct {
	file       string
	errs       ErrorList
	budget     int
	overBudget bool
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		return
	}
	e := &Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
	if len(p.errs) == maxErrors {
		p.errs = append(p.errs, &Error{File: p.file, Line: e.Line, Column: e.Column, Msg: "too many errors; stopping"})
	}
}

// resolve is called on every node the parser visits. It follows aliases and
// charges one unit of the visit budget per call; the budget is a small
// multiple of the document's own node count plus aliasBudget, so documents
// whose aliases multiply the work ("billion laughs") stop with an error
// instead of running away. nil means the budget ran out.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	p.budget--
	if p.budget < 0 {
		if !p.overBudget {
			p.overBudget = true
			p.errorf(n, "YAML aliases expand beyond the limit of %d extra nodes", aliasBudget)
		}
		return nil
	}
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			p.errorf(n, "YAML alias chain is too long")
			return nil
		}
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string { return yamlsrc.KindName(n) }

// mapping returns the key/value pairs of a mapping node, reporting duplicate
// and non-string keys; ok is false (and an error recorded) if n is not a
// mapping.
func (p *parser) mapping(n *yaml.Node, what string) (pairs [][2]*yaml.Node, ok bool) {
	n = p.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, got %s", what, kindName(n))
		return nil, false
	}
	seen := map[string]bool{}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			p.errorf(k, "merge keys (<<) are not supported in a stage spec")
			continue
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			p.errorf(k, "%s keys must be strings", what)
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "duplicate key %q in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, true
}

func (p *parser) sequence(n *yaml.Node, what string) []*yaml.Node {
	n = p.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, got %s", what, kindName(n))
		return nil
	}
	return n.Content
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	n = p.resolve(n)
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.errorf(n, "%s must be a string, got %s", what, kindName(n))
		return "", false
	}
	if strings.TrimSpace(n.Value) == "" {
		p.errorf(n, "%s must not be empty", what)
		return "", false
	}
	if len(n.Value) > MaxNameLen {
		p.errorf(n, "%s is %d bytes long; names are limited to %d bytes", what, len(n.Value), MaxNameLen)
		return "", false
	}
	return n.Value, true
}

// text reads a free-text string such as a description.
func (p *parser) text(n *yaml.Node, what string) {
	n = p.resolve(n)
	if n == nil {
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.errorf(n, "%s must be a string, got %s", what, kindName(n))
		return
	}
	if len(n.Value) > maxTextLen {
		p.errorf(n, "%s is longer than %d bytes", what, maxTextLen)
	}
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	n = p.resolve(n)
	if n == nil {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		p.errorf(n, "%s must be true or false, got %s", what, kindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.errorf(n, "%s: %v", what, err)
		return false, false
	}
	return b, true
}

func (p *parser) strList(n *yaml.Node, what string) []string {
	var out []string
	for _, item := range p.sequence(n, what) {
		if s, ok := p.str(item, what+" entry"); ok {
			out = append(out, s)
		}
	}
	return out
}

func pos(n *yaml.Node) pipeline.Pos { return pipeline.Pos{Line: n.Line, Column: n.Column} }

func (p *parser) document(doc *yaml.Node) *pipeline.Graph {
	g := &pipeline.Graph{File: p.file, Format: Format}
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errorf(root, "file is empty: a stage spec needs a `stages` list")
			return g
		}
		root = root.Content[0]
	}
	root = p.resolve(root)
	if root == nil {
		return g
	}
	var stagesNode *yaml.Node
	switch root.Kind {
	case yaml.SequenceNode:
		stagesNode = root
	case yaml.MappingNode:
		kvs, _ := p.mapping(root, "the stage spec")
		for _, kv := range kvs {
			k, v := kv[0], kv[1]
			switch k.Value {
			case "version":
				v2 := p.resolve(v)
				if v2 != nil && (v2.Kind != yaml.ScalarNode || v2.Value != "1") {
					p.errorf(v2, "unsupported stage spec version %s (this mlgate reads version 1)", kindName(v2))
				}
			case "name":
				p.str(v, "pipeline name")
			case "description":
				p.text(v, "description")
			case "stages":
				stagesNode = v
			default:
				p.errorf(k, "unknown key %q in the stage spec (allowed: version, name, description, stages)", k.Value)
			}
		}
		if stagesNode == nil {
			p.errorf(root, "missing required key `stages`")
			return g
		}
	default:
		p.errorf(root, "a stage spec must be a mapping with a `stages` list (or a list of stages), got %s", kindName(root))
		return g
	}
	items := p.sequence(stagesNode, "stages")
	if len(items) > MaxStages {
		p.errorf(stagesNode, "too many stages: %d (limit %d)", len(items), MaxStages)
		return g
	}
	if stagesNode != nil && len(items) == 0 && len(p.errs) == 0 {
		p.errorf(stagesNode, "`stages` is empty: nothing to audit")
	}
	names := map[string]*yaml.Node{}
	for _, item := range items {
		s := p.stage(item)
		if s == nil {
			continue
		}
		if prev, dup := names[s.Name]; dup {
			p.errorf(item, "duplicate stage name %q (first defined at line %d)", s.Name, prev.Line)
			continue
		}
		names[s.Name] = item
		g.Stages = append(g.Stages, s)
	}
	if len(g.Stages) == 0 && len(p.errs) == 0 {
		p.errorf(root, "no stages to audit")
	}
	return g
}

var stageKeys = []string{
	"name", "description", "inputs", "outputs", "runs_untrusted_code", "has_network_access",
	"has_gpu_access", "secrets_available", "isolation_level", "runner", "role",
}

func (p *parser) stage(n *yaml.Node) *pipeline.Stage {
	n = p.resolve(n)
	if n == nil {
		return nil
	}
	s := &pipeline.Stage{Pos: pos(n), Fields: map[string]pipeline.Pos{}, Isolation: pipeline.IsolationNone}
	kvs, ok := p.mapping(n, "a stage")
	if !ok {
		return nil
	}
	have := map[string]bool{}
	for _, kv := range kvs {
		k, v := kv[0], kv[1]
		have[k.Value] = true
		s.Fields[k.Value] = pos(k)
		switch k.Value {
		case "name":
			s.Name, _ = p.str(v, "stage name")
			s.Pos = pos(k)
		case "description":
			p.text(v, "description")
		case "inputs":
			s.Inputs = p.inputs(v)
		case "outputs":
			p.names(v, "outputs", "output", func(a string, at pipeline.Pos) {
				s.Outputs = append(s.Outputs, pipeline.Output{Artifact: a, Pos: at})
			})
		case "runs_untrusted_code":
			if b, ok := p.boolean(v, "runs_untrusted_code"); ok {
				s.RunsUntrustedCode = pipeline.TriOf(b)
			}
		case "has_gpu_access":
			if b, ok := p.boolean(v, "has_gpu_access"); ok {
				s.GPU = pipeline.TriOf(b)
			}
		case "has_network_access":
			s.Network = p.network(v)
		case "secrets_available":
			p.names(v, "secrets_available", "secret", func(name string, at pipeline.Pos) {
				s.Secrets = append(s.Secrets, pipeline.Secret{Name: name, Pos: at})
			})
		case "isolation_level":
			if str, ok := p.str(v, "isolation_level"); ok {
				if iso, ok := pipeline.ParseIsolation(str); ok {
					s.Isolation = iso
				} else {
					p.errorf(v, "isolation_level must be one of none, container, vm, hardware; got %q", str)
				}
			}
		case "runner":
			if str, ok := p.str(v, "runner"); ok {
				if r, ok := pipeline.ParseRunner(str); ok {
					s.Runner = r
				} else {
					p.errorf(v, "runner must be one of shared, dedicated, ephemeral; got %q", str)
				}
			}
		case "role":
			s.Roles = p.roles(v)
		default:
			p.errorf(k, "unknown key %q in a stage (allowed: %s)", k.Value, strings.Join(stageKeys, ", "))
		}
	}
	for _, req := range []string{"name", "runs_untrusted_code", "has_network_access", "has_gpu_access"} {
		if !have[req] {
			what := "stage"
			if s.Name != "" {
				what = "stage " + strconv.Quote(s.Name)
			}
			p.errorf(n, "%s is missing required key `%s`", what, req)
		}
	}
	if s.Name == "" {
		return nil
	}
	if !have["role"] {
		pipeline.InferRoles(s)
	}
	return s
}

// names reads a list of names (key is the list's key, what names one
// entry), reporting wrong types and duplicates, and calls add for each good
// entry with its position.
func (p *parser) names(n *yaml.Node, key, what string, add func(string, pipeline.Pos)) {
	seen := map[string]bool{}
	for _, item := range p.sequence(n, key) {
		if name, ok := p.str(item, what+" name"); ok && p.unique(seen, name, item, what) {
			add(name, pos(item))
		}
	}
}

// unique records name in seen and reports a duplicate list entry.
func (p *parser) unique(seen map[string]bool, name string, n *yaml.Node, what string) bool {
	if seen[name] {
		p.errorf(n, "duplicate %s %q in this stage", what, name)
		return false
	}
	seen[name] = true
	return true
}

func (p *parser) inputs(n *yaml.Node) []pipeline.Input {
	var out []pipeline.Input
	seen := map[string]bool{}
	for _, item := range p.sequence(n, "inputs") {
		item = p.resolve(item)
		if item == nil {
			continue
		}
		if item.Kind == yaml.ScalarNode {
			if a, ok := p.str(item, "input artifact"); ok && p.unique(seen, a, item, "input") {
				out = append(out, pipeline.Input{Artifact: a, Pos: pos(item)})
			}
			continue
		}
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "an input must be an artifact name or a mapping with `name` and `trust`, got %s", kindName(item))
			continue
		}
		in := pipeline.Input{Pos: pos(item)}
		kvs, _ := p.mapping(item, "an input")
		for _, kv := range kvs {
			k, v := kv[0], kv[1]
			switch k.Value {
			case "name":
				in.Artifact, _ = p.str(v, "input name")
			case "trust":
				if t, ok := p.str(v, "trust"); ok {
					switch t {
					case "untrusted":
						in.Trust = pipeline.TrustUntrusted
					case "trusted":
						in.Trust = pipeline.TrustTrusted
					default:
						p.errorf(v, "trust must be trusted or untrusted; got %q", t)
					}
				}
			case "description":
				p.text(v, "description")
			default:
				p.errorf(k, "unknown key %q in an input (allowed: name, trust, description)", k.Value)
			}
		}
		if in.Artifact == "" {
			p.errorf(item, "an input mapping needs a `name`")
			continue
		}
		if p.unique(seen, in.Artifact, item, "input") {
			out = append(out, in)
		}
	}
	return out
}

// network accepts a bool or an egress allow-list of hosts ([] means none).
func (p *parser) network(n *yaml.Node) pipeline.Network {
	n = p.resolve(n)
	if n == nil {
		return pipeline.Network{}
	}
	if n.Kind == yaml.SequenceNode {
		hosts := p.strList(n, "has_network_access allow-list")
		if len(hosts) == 0 {
			return pipeline.Network{Access: pipeline.False}
		}
		return pipeline.Network{Access: pipeline.True, Allow: hosts}
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		b, _ := p.boolean(n, "has_network_access")
		return pipeline.Network{Access: pipeline.TriOf(b)}
	}
	p.errorf(n, "has_network_access must be true, false or a list of allowed hosts, got %s", kindName(n))
	return pipeline.Network{}
}

func (p *parser) roles(n *yaml.Node) []pipeline.Role {
	n = p.resolve(n)
	if n == nil {
		return nil
	}
	var names []*yaml.Node
	if n.Kind == yaml.SequenceNode {
		names = n.Content
	} else {
		names = []*yaml.Node{n}
	}
	var out []pipeline.Role
	for _, item := range names {
		str, ok := p.str(item, "role")
		if !ok {
			continue
		}
		valid := false
		for _, r := range pipeline.Roles {
			if string(r) == str {
				out = append(out, r)
				valid = true
			}
		}
		if !valid {
			p.errorf(item, "unknown role %q (allowed: scan, verify, sign, register, deploy)", str)
		}
	}
	return out
}

func init() {
	pipeline.RegisterAdapter(&pipeline.Adapter{
		Format:    Format,
		Title:     "mlgate stage spec",
		MatchPath: IsSpecPath,
		Parse: func(src *pipeline.Source) ([]*pipeline.Graph, error) {
			g, err := Parse(src.File, src.Src)
			if err != nil {
				return nil, err
			}
			return []*pipeline.Graph{g}, nil
		},
	})
}
