// Package checklist evaluates a pipeline security checklist — by default
// the one in the source document (002_b970d429d15dfa0e.txt) — against what
// mlgate's analyzers found in a checkout. Each item ends as pass, fail (with
// the findings or stages that break it) or undetermined (the files cannot
// prove it either way; the result says what would). A posture score sums
// the passed items, critical ones counting double.
package checklist

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

//go:embed seed.yaml
var seedYAML []byte

// Item is one check.
type Item struct {
	ID        string `json:"id"`
	Category  string `json:"category"`
	Check     string `json:"check"`
	Critical  bool   `json:"critical"`
	Rationale string `json:"rationale,omitempty"`
	// Rules are extra rule IDs (or ID prefixes ending in "/") whose
	// findings make the item fail, on top of its built-in evidence.
	Rules []string `json:"rules,omitempty"`
}

// Limits on custom checklists.
const (
	maxItems   = 1000
	maxTextLen = 4096
)

var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Default returns the source document's checklist.
func Default() []Item {
	items, err := Parse("seed.yaml", seedYAML)
	if err != nil {
		panic("checklist: built-in checklist: " + err.Error())
	}
	return items
}

// Parse reads a checklist of the seed's shape:
//
//	pipeline_security_audit:
//	  CATEGORY:
//	    - check: "..."
//	      critical: true|false
//	      rationale: "..."
//	      id: optional-kebab-id      # reuse mlgate's evidence for that item
//	      rules: [rule/id, domain/]  # findings that make the item fail
//
// Items without an id get one from their category and position. Unknown
// keys and wrong types are errors with file:line:column.
func Parse(file string, src []byte) ([]Item, error) {
	docs, err := yamlsrc.Decode(file, src)
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 {
		return nil, pipeline.SourceErrors{{File: file, Msg: "a checklist is one YAML document"}}
	}
	p := &parser{file: file, b: yamlsrc.NewBudget(docs[0])}
	root := p.b.Resolve(docs[0].Content[0])
	top := p.mapping(root, "the checklist")
	var cats *yaml.Node
	for _, kv := range top {
		if kv[0].Value != "pipeline_security_audit" {
			p.errorf(kv[0], "unknown key %q (a checklist has one key, pipeline_security_audit)", kv[0].Value)
			continue
		}
		cats = kv[1]
	}
	if cats == nil && len(p.errs) == 0 {
		p.errorf(root, "missing key pipeline_security_audit")
	}
	var items []Item
	seen := map[string]bool{}
	for _, kv := range p.mapping(p.b.Resolve(cats), "pipeline_security_audit") {
		cat := kv[0].Value
		list := p.b.Resolve(kv[1])
		if list == nil || list.Kind != yaml.SequenceNode {
			p.errorf(kv[1], "category %q must be a list of checks", cat)
			continue
		}
		for i, n := range list.Content {
			it := p.item(p.b.Resolve(n), cat, i)
			if it == nil {
				continue
			}
			if seen[it.ID] {
				p.errorf(n, "duplicate item id %q", it.ID)
				continue
			}
			seen[it.ID] = true
			if len(items) == maxItems {
				p.errorf(n, "more than %d items", maxItems)
				break
			}
			items = append(items, *it)
		}
	}
	if p.b.Exceeded {
		p.errorf(root, "%s", yamlsrc.ErrBudgetMsg)
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	if len(items) == 0 {
		return nil, pipeline.SourceErrors{{File: file, Msg: "the checklist has no items"}}
	}
	return items, nil
}

type parser struct {
	file string
	b    *yamlsrc.Budget
	errs pipeline.SourceErrors
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= 50 {
		return
	}
	e := &pipeline.SourceError{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *parser) mapping(n *yaml.Node, what string) [][2]*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, got %s", what, yamlsrc.KindName(n))
		return nil
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			p.errorf(k, "%s keys must be strings", what)
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "duplicate key %q in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, n.Content[i+1]})
	}
	return out
}

func (p *parser) text(n *yaml.Node, what string) (string, bool) {
	n = p.b.Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		if n != nil {
			p.errorf(n, "%s must be a string, got %s", what, yamlsrc.KindName(n))
		}
		return "", false
	}
	if len(n.Value) > maxTextLen {
		p.errorf(n, "%s is longer than %d bytes", what, maxTextLen)
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

func (p *parser) item(n *yaml.Node, cat string, i int) *Item {
	if n == nil {
		return nil
	}
	it := &Item{Category: cat, ID: fmt.Sprintf("%s-%d", strings.ReplaceAll(strings.ToLower(cat), "_", "-"), i+1)}
	haveCheck := false
	for _, kv := range p.mapping(n, "a checklist item") {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "check":
			it.Check, haveCheck = p.text(v, "check")
		case "rationale":
			it.Rationale, _ = p.text(v, "rationale")
		case "id":
			if id, ok := p.text(v, "id"); ok {
				if !idRE.MatchString(id) {
					p.errorf(v, "id %q must be kebab-case (a-z, 0-9, -), at most 64 characters", id)
				} else {
					it.ID = id
				}
			}
		case "critical":
			v = p.b.Resolve(v)
			if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				if v != nil {
					p.errorf(v, "critical must be true or false, got %s", yamlsrc.KindName(v))
				}
				continue
			}
			it.Critical = v.Value == "true" || v.Value == "True" || v.Value == "TRUE"
		case "rules":
			v = p.b.Resolve(v)
			if v == nil || v.Kind != yaml.SequenceNode {
				p.errorf(k, "rules must be a list of rule IDs")
				continue
			}
			for _, r := range v.Content {
				if id, ok := p.text(r, "rule ID"); ok {
					it.Rules = append(it.Rules, id)
				}
			}
		default:
			p.errorf(k, "unknown key %q in a checklist item (allowed: check, critical, rationale, id, rules)", k.Value)
		}
	}
	if !haveCheck {
		p.errorf(n, "a checklist item needs a `check`")
		return nil
	}
	return it
}
