package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/mlgate/mlgate/finding"
)

// maxErrors bounds how many problems one Parse reports.
const maxErrors = 50

// yamlLineErr matches the position prefix of yaml.v3 syntax errors.
var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): `)

// decodeYAML parses src into a node tree and returns the root node of its
// only document, or nil for an empty stream. Panics in the YAML library are
// turned into errors.
func decodeYAML(name string, src []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root = nil
			err = fmt.Errorf("%s:1:1: YAML parser failed: %s", name, oneLine(fmt.Sprint(r)))
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(name, err)
	default:
		line, col := next.Line, next.Column
		if line <= 0 {
			line, col = 1, 1
		}
		return nil, fmt.Errorf("%s:%d:%d: more than one YAML document; the configuration must be a single document", name, line, col)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// yamlError converts a yaml.v3 error ("yaml: line 3: message") into the
// package's "name:line:col: message" form. yaml.v3 reports no column for
// syntax errors, so column 1 is used.
func yamlError(name string, err error) error {
	msg := err.Error()
	line := 1
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return fmt.Errorf("%s:%d:1: invalid YAML: %s", name, line, oneLine(msg))
}

// oneLine replaces control characters (newlines included) with spaces, so
// that every problem stays on its own line of the error message.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// maxQuoted bounds how much of a user-supplied string an error message
// repeats.
const maxQuoted = 80

// trunc shortens s to about maxQuoted bytes, marking the cut.
func trunc(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// clip quotes s for an error message, shortened by trunc.
func clip(s string) string { return strconv.Quote(trunc(s)) }

// posError is one problem found while parsing.
type posError struct {
	line, col int
	msg       string
}

// parser validates a node tree and fills a Config.
type parser struct {
	name string
	errs []posError
}

// errorf records a problem at the position of n.
func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
		if col <= 0 {
			col = 1
		}
	}
	p.errs = append(p.errs, posError{line, col, oneLine(fmt.Sprintf(format, args...))})
}

// err returns the recorded problems as one error, sorted by position.
func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.line != b.line {
			return a.line < b.line
		}
		return a.col < b.col
	})
	errs := make([]error, 0, min(len(p.errs), maxErrors)+1)
	for i, e := range p.errs {
		if i == maxErrors {
			errs = append(errs, fmt.Errorf("%s:%d:%d: too many errors", p.name, e.line, e.col))
			break
		}
		errs = append(errs, fmt.Errorf("%s:%d:%d: %s", p.name, e.line, e.col, e.msg))
	}
	return errors.Join(errs...)
}

// checkAliases rejects every alias in the tree. Aliases are the one YAML
// feature that lets a small file expand into a huge value, and a
// configuration file has no need for them.
func (p *parser) checkAliases(n *yaml.Node) {
	if n == nil || len(p.errs) >= maxErrors {
		return
	}
	if n.Kind == yaml.AliasNode {
		p.errorf(n, "YAML aliases (%s) are not supported; write the value out", clip("*"+n.Value))
		return
	}
	for _, c := range n.Content {
		p.checkAliases(c)
	}
}

// describe names the kind of value n holds, for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	case yaml.ScalarNode:
		switch t := n.ShortTag(); t {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		case "!!timestamp":
			return "a timestamp"
		default:
			return "a value tagged " + clip(t)
		}
	}
	return "an unknown node"
}

// isNull reports whether n is an explicit or implicit null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// str returns the string value of n, reporting an error if n is not a
// string scalar. what names the value for the message.
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.errorf(n, "%s must be a string, found %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

// mapping calls fn for each key/value pair of the mapping n, checking that
// keys are strings and unique. A null n is an empty mapping. what names the
// mapping for messages.
func (p *parser) mapping(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, found %s", what, describe(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			p.errorf(k, "YAML merge keys (<<) are not supported; write the keys out")
			continue
		}
		key, ok := p.str(k, "a key in "+what)
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			p.errorf(k, "duplicate key %s in %s (first at line %d)", clip(key), what, first.Line)
			continue
		}
		seen[key] = k
		fn(key, k, v)
	}
}

// sequence calls fn for each item of the sequence n. A null n is an empty
// sequence.
func (p *parser) sequence(n *yaml.Node, what string, fn func(item *yaml.Node)) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a sequence, found %s", what, describe(n))
		return
	}
	for _, item := range n.Content {
		fn(item)
	}
}

// severity parses a severity name.
func (p *parser) severity(n *yaml.Node, what string) (finding.Severity, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	sev, err := finding.ParseSeverity(s)
	if err != nil {
		p.errorf(n, "%s: unknown severity %s (want one of critical, high, medium, low, info)", what, clip(s))
		return 0, false
	}
	return sev, true
}

// rule resolves a rule ID against the registry.
func (p *parser) rule(n *yaml.Node, what string) (*finding.Rule, bool) {
	id, ok := p.str(n, what)
	if !ok {
		return nil, false
	}
	r, ok := finding.Lookup(id)
	if !ok {
		if !finding.ValidID(id) {
			p.errorf(n, "unknown rule %s (rule IDs look like domain/rule-name)", clip(id))
		} else {
			p.errorf(n, "unknown rule %s", clip(id))
		}
		return nil, false
	}
	return r, true
}

// top parses the document's root mapping into c.
func (p *parser) top(n *yaml.Node, c *Config) {
	p.mapping(n, "the configuration", func(key string, k, v *yaml.Node) {
		switch key {
		case "fail_on":
			if isNull(v) {
				return
			}
			if s, ok := p.severity(v, "fail_on"); ok {
				c.FailOn = &s
			}
		case "rules":
			p.rules(v, c)
		case "ignore":
			p.sequence(v, "ignore", func(item *yaml.Node) {
				pat, ok := p.str(item, "an ignore pattern")
				if !ok {
					return
				}
				if _, err := compileGlob(pat); err != nil {
					p.errorf(item, "invalid ignore pattern %s: %v", clip(pat), err)
					return
				}
				c.Ignore = append(c.Ignore, pat)
			})
		default:
			p.errorf(k, "unknown key %s (want fail_on, rules or ignore)", clip(key))
		}
	})
}

// rules parses the rules mapping into c.
func (p *parser) rules(n *yaml.Node, c *Config) {
	disabled := map[string]*yaml.Node{}
	enabled := map[string]*yaml.Node{}
	list := func(v *yaml.Node, what string, seen map[string]*yaml.Node, dst *[]string) {
		p.sequence(v, what, func(item *yaml.Node) {
			r, ok := p.rule(item, "a rule ID in "+what)
			if !ok {
				return
			}
			if _, dup := seen[r.ID]; dup {
				return
			}
			seen[r.ID] = item
			*dst = append(*dst, r.ID)
		})
	}
	p.mapping(n, "rules", func(key string, k, v *yaml.Node) {
		switch key {
		case "disable":
			list(v, "rules.disable", disabled, &c.Disable)
		case "enable":
			list(v, "rules.enable", enabled, &c.Enable)
		case "severity":
			p.mapping(v, "rules.severity", func(_ string, k, v *yaml.Node) {
				r, ok := p.rule(k, "a rule ID in rules.severity")
				if !ok {
					return
				}
				if s, ok := p.severity(v, "the severity of "+r.ID); ok {
					c.Severity[r.ID] = s
				}
			})
		case "options":
			p.mapping(v, "rules.options", func(_ string, k, v *yaml.Node) {
				r, ok := p.rule(k, "a rule ID in rules.options")
				if !ok {
					return
				}
				opts := map[string]any{}
				p.mapping(v, "the options of "+r.ID, func(name string, k, v *yaml.Node) {
					if _, ok := r.Options[name]; !ok {
						if len(r.Options) == 0 {
							p.errorf(k, "unknown option %s: rule %s takes no options", clip(name), r.ID)
						} else {
							p.errorf(k, "unknown option %s for rule %s (known: %s)", clip(name), r.ID, strings.Join(sortedKeys(r.Options), ", "))
						}
						return
					}
					if val, ok := p.value(v); ok {
						opts[name] = val
					}
				})
				c.Options[r.ID] = opts
			})
		default:
			p.errorf(k, "unknown key %s in rules (want disable, enable, severity or options)", clip(key))
		}
	})
	for id, dn := range disabled {
		en, ok := enabled[id]
		if !ok {
			continue
		}
		later, other, otherWhat := dn, en, "enabled"
		if en.Line > dn.Line || (en.Line == dn.Line && en.Column > dn.Column) {
			later, other, otherWhat = en, dn, "disabled"
		}
		p.errorf(later, "rule %s is both enabled and disabled (also %s at line %d)", id, otherWhat, other.Line)
	}
}

// value converts an option value node into a plain Go value: nil, bool,
// int, int64, uint64, float64, string, []any or map[string]any.
func (p *parser) value(n *yaml.Node) (any, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!str", "!!timestamp":
			return n.Value, true
		case "!!bool", "!!int", "!!float":
			v, err := decodeScalar(n)
			if err != nil {
				p.errorf(n, "invalid %s value %s: %s", strings.TrimPrefix(n.ShortTag(), "!!"), clip(n.Value), trunc(err.Error()))
				return nil, false
			}
			return v, true
		default:
			p.errorf(n, "unsupported value tagged %s", clip(n.ShortTag()))
			return nil, false
		}
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		ok := true
		for _, item := range n.Content {
			v, itemOK := p.value(item)
			ok = ok && itemOK
			out = append(out, v)
		}
		return out, ok
	case yaml.MappingNode:
		out := map[string]any{}
		ok := true
		p.mapping(n, "an option value", func(key string, _, v *yaml.Node) {
			val, valOK := p.value(v)
			ok = ok && valOK
			out[key] = val
		})
		return out, ok
	default:
		p.errorf(n, "unsupported value: %s", describe(n))
		return nil, false
	}
}

// decodeScalar decodes a bool, int or float scalar with the YAML library,
// turning a panic into an error.
func decodeScalar(n *yaml.Node) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("YAML decoder failed: %v", r)
		}
	}()
	if err := n.Decode(&v); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return v, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
