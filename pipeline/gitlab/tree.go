package gitlab

import (
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/yamlsrc"
	"go.yaml.in/yaml/v3"
)

// kind is the shape of a value in the configuration tree.
type kind uint8

const (
	kNull kind = iota
	kScalar
	kMap
	kSeq
	kRef // an unresolved !reference [job, key, ...]
)

// value is one node of a GitLab configuration after YAML aliases and merge
// keys are expanded. Subtrees reached through an alias are shared, never
// copied, so conversion is linear in the size of the source; walkers charge
// a work budget for every node they visit instead.
type value struct {
	kind kind
	// Scalars.
	s   string
	tag string // YAML short tag: "!!str", "!!int", "!!bool", "!!float"
	y   *yaml.Node
	// Mappings: keys in order, without duplicates (the last one wins, as in
	// GitLab).
	keys   []string
	keyPos []pipeline.Pos
	vals   []*value
	// Sequences, and the path of a !reference.
	items []*value
	pos   pipeline.Pos
	file  int // index into parser.files
}

func (v *value) get(key string) *value {
	if v == nil || v.kind != kMap {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

func (v *value) getKey(key string) (pipeline.Pos, *value) {
	if v == nil || v.kind != kMap {
		return pipeline.Pos{}, nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.keyPos[i], v.vals[i]
		}
	}
	return pipeline.Pos{}, nil
}

func (v *value) has(key string) bool { return v.get(key) != nil }

// str returns a scalar's text and whether v is a scalar.
func (v *value) str() (string, bool) {
	if v == nil || v.kind != kScalar {
		return "", false
	}
	return v.s, true
}

// isTrue reports whether v is a YAML true.
func (v *value) isTrue() bool {
	s, ok := v.str()
	return ok && v.tag == "!!bool" && (s == "true" || s == "True" || s == "TRUE")
}

// set returns a copy of map m with key set to x (appended when new).
func (m *value) set(key string, x *value, at pipeline.Pos) *value {
	out := &value{kind: kMap, pos: m.pos, file: m.file}
	out.keys = append(make([]string, 0, len(m.keys)+1), m.keys...)
	out.keyPos = append(make([]pipeline.Pos, 0, len(m.keys)+1), m.keyPos...)
	out.vals = append(make([]*value, 0, len(m.keys)+1), m.vals...)
	for i, k := range out.keys {
		if k == key {
			out.vals[i] = x
			return out
		}
	}
	out.keys = append(out.keys, key)
	out.keyPos = append(out.keyPos, at)
	out.vals = append(out.vals, x)
	return out
}

// converter turns one file's YAML document into values.
type converter struct {
	p    *parser
	file int
	memo map[*yaml.Node]*value
	busy map[*yaml.Node]bool
}

func (c *converter) pos(n *yaml.Node) pipeline.Pos {
	p := yamlsrc.Pos(n)
	p.File = c.p.files[c.file].posFile
	return p
}

// conv converts n. Aliases share the converted target; merge keys (<<) are
// expanded with explicit keys taking precedence, as YAML specifies.
func (c *converter) conv(n *yaml.Node, depth int) *value {
	if n == nil {
		return &value{kind: kNull}
	}
	if !c.p.charge(1) {
		return &value{kind: kNull, pos: c.pos(n), file: c.file}
	}
	if depth > maxNesting {
		c.p.errorf(c.file, n, "the document nests deeper than %d levels", maxNesting)
		return &value{kind: kNull, pos: c.pos(n), file: c.file}
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return &value{kind: kNull, pos: c.pos(n), file: c.file}
		}
		return c.conv(n.Alias, depth+1)
	}
	if v, ok := c.memo[n]; ok {
		return v
	}
	if c.busy[n] {
		c.p.errorf(c.file, n, "a YAML alias refers to a node that contains it")
		return &value{kind: kNull, pos: c.pos(n), file: c.file}
	}
	c.busy[n] = true
	defer delete(c.busy, n)
	v := &value{pos: c.pos(n), file: c.file}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			v.kind = kNull
		} else {
			v = c.conv(n.Content[0], depth+1)
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			v.kind = kNull
			break
		}
		v.kind, v.s, v.tag, v.y = kScalar, n.Value, n.ShortTag(), n
	case yaml.SequenceNode:
		if n.Tag == "!reference" {
			v.kind = kRef
		} else {
			v.kind = kSeq
		}
		v.items = make([]*value, 0, len(n.Content))
		for _, it := range n.Content {
			v.items = append(v.items, c.conv(it, depth+1))
		}
	case yaml.MappingNode:
		v.kind = kMap
		c.mapping(v, n, depth)
	default:
		v.kind = kNull
	}
	c.memo[n] = v
	return v
}

// mapping fills map v from n, expanding merge keys.
func (c *converter) mapping(v *value, n *yaml.Node, depth int) {
	var merged []*value
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, x := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			src := c.conv(x, depth+1)
			switch src.kind {
			case kMap:
				merged = append(merged, src)
			case kSeq:
				// Earlier maps in the list take precedence.
				for j := len(src.items) - 1; j >= 0; j-- {
					if src.items[j].kind == kMap {
						merged = append(merged, src.items[j])
					} else {
						c.p.errorf(c.file, x, "a merge key (<<) needs a mapping or a list of mappings")
					}
				}
			case kNull:
			default:
				c.p.errorf(c.file, x, "a merge key (<<) needs a mapping or a list of mappings, got %s", yamlsrc.KindName(x))
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.p.errorf(c.file, k, "mapping keys must be scalars")
			continue
		}
		c.put(v, k.Value, c.pos(k), c.conv(x, depth+1), true)
	}
	// Merged keys fill in what the mapping does not set itself; later merge
	// sources override earlier ones.
	for _, m := range merged {
		for i, key := range m.keys {
			if !c.p.charge(1) {
				return
			}
			c.put(v, key, m.keyPos[i], m.vals[i], false)
		}
	}
}

// put sets key in v. Explicit keys replace earlier explicit ones (GitLab
// keeps the last duplicate); merged keys never replace explicit ones.
func (c *converter) put(v *value, key string, at pipeline.Pos, x *value, explicit bool) {
	for i, k := range v.keys {
		if k == key {
			if explicit {
				v.vals[i], v.keyPos[i] = x, at
			}
			return
		}
	}
	v.keys = append(v.keys, key)
	v.keyPos = append(v.keyPos, at)
	v.vals = append(v.vals, x)
}

// charge spends n units of the work budget; false once it is exhausted
// (the error is recorded once).
func (p *parser) charge(n int) bool {
	p.work -= n
	if p.work < 0 {
		if !p.overBudget {
			p.overBudget = true
			at := p.at
			if at.Line == 0 {
				at = pipeline.Pos{Line: 1, Column: 1}
			}
			p.errorAt(0, at, "the configuration expands beyond the work limit (YAML aliases, merge keys, extends, !reference, includes); limit %d nodes", p.budget)
		}
		return false
	}
	return true
}
