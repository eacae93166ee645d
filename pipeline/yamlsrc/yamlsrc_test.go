package yamlsrc

import (
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
	"go.yaml.in/yaml/v3"
)

func TestTextStartMapsScriptOffsets(t *testing.T) {
	src := "jobs:\n  a:\n    run: |\n      echo one\n        indented two\n      pip install x\n    plain: echo   hi\n    quoted: \"pip install y\"\n    folded: >\n      a\n      b\n"
	docs, err := Decode("f.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := Get(Get(docs[0].Content[0], "jobs"), "a")
	lines := NewLines([]byte(src))
	cases := []struct {
		key, needle    string
		line, col      int
		literal, exact bool
	}{
		{"run", "echo one", 4, 7, true, true},
		{"run", "indented two", 5, 9, true, true},
		{"run", "pip install", 6, 7, true, true},
		{"plain", "hi", 7, 19, true, true},
		{"quoted", "install", 8, 18, true, true},
		{"folded", "b", 10, 7, false, false},
	}
	for _, c := range cases {
		n := Get(a, c.key)
		start, literal := lines.TextStart(n)
		if literal != c.literal {
			t.Errorf("%s: literal = %v, want %v", c.key, literal, c.literal)
		}
		st := pipeline.Step{Run: n.Value, RunPos: start, RunLiteral: literal}
		got := st.PosAt(strings.Index(n.Value, c.needle))
		if c.exact && (got.Line != c.line || got.Column != c.col) {
			t.Errorf("%s %q: at %d:%d, want %d:%d", c.key, c.needle, got.Line, got.Column, c.line, c.col)
		}
		if !c.exact && got.Line != c.line {
			t.Errorf("%s: line %d, want %d", c.key, got.Line, c.line)
		}
	}
}

func TestDecodeRejectsHostileText(t *testing.T) {
	for _, src := range []string{"a: \x00", "a: b\u2028c: d", "a: [", "a: \xff"} {
		if _, err := Decode("f.yml", []byte(src)); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
	docs, err := Decode("f.yml", []byte("---\na: 1\n---\n---\nb: 2\n"))
	if err != nil || len(docs) != 2 {
		t.Fatalf("multi-doc: %d docs, %v", len(docs), err)
	}
}

func TestBudgetStopsAliasBlowup(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for i := 0; i < 8; i++ {
		name := string(rune('b' + i))
		b.WriteString(name + ": &" + name + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	docs, err := Decode("f.yml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	bud := NewBudget(docs[0])
	var walk func(n *yaml.Node)
	visits := 0
	walk = func(n *yaml.Node) {
		n = bud.Resolve(n)
		if n == nil {
			return
		}
		visits++
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(docs[0])
	if !bud.Exceeded || visits > 2*AliasBudget {
		t.Fatalf("exceeded=%v visits=%d", bud.Exceeded, visits)
	}
}

func TestTextStartAfterPropertiesAndIndicators(t *testing.T) {
	src := "a: !!str pip install x\nb: &anchor \"pip install y\"\nc: |2\n     pip install z\nd:\n  - run: |1\n     pip install w\n"
	docs, err := Decode("f.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	m := docs[0].Content[0]
	lines := NewLines([]byte(src))
	check := func(n *yaml.Node, line, col int) {
		t.Helper()
		start, literal := lines.TextStart(n)
		st := pipeline.Step{Run: n.Value, RunPos: start, RunLiteral: literal}
		got := st.PosAt(strings.Index(n.Value, "pip"))
		if got.Line != line || got.Column != col {
			t.Errorf("%q: %d:%d, want %d:%d", n.Value, got.Line, got.Column, line, col)
		}
	}
	check(Get(m, "a"), 1, 10)
	check(Get(m, "b"), 2, 13)
	check(Get(m, "c"), 4, 6)
	check(Get(Get(m, "d").Content[0], "run"), 7, 6)
}

// FuzzTextStart decodes arbitrary YAML and maps every offset of every
// scalar: nothing may panic, and positions stay inside the file.
func FuzzTextStart(f *testing.F) {
	f.Add("a: |\n  x\n  y\nb: !!str &q z\nc: |2\n    w\n")
	f.Add("- run: >\n    folded\n    text\n- \"quoted\\nline\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		docs, err := Decode("f.yml", []byte(src))
		if err != nil {
			return
		}
		lines := NewLines([]byte(src))
		nlines := strings.Count(src, "\n") + 1
		for _, d := range docs {
			stack := []*yaml.Node{d}
			for len(stack) > 0 {
				n := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				stack = append(stack, n.Content...)
				if n.Kind != yaml.ScalarNode || len(n.Value) > 4096 {
					continue
				}
				start, literal := lines.TextStart(n)
				st := pipeline.Step{Run: n.Value, RunPos: start, RunLiteral: literal}
				for off := 0; off <= len(n.Value); off += 1 + len(n.Value)/16 {
					p := st.PosAt(off)
					if p.Line < 1 || p.Line > nlines+1 || p.Column < 1 {
						t.Fatalf("offset %d of %q: %d:%d", off, n.Value, p.Line, p.Column)
					}
				}
			}
		}
	})
}

func TestTextStartFoldedPlainScalarIsNotLiteral(t *testing.T) {
	src := "run: curl -s https://x.example/install.sh\n  | sh\nq: \"a\\tb pip\"\n"
	docs, err := Decode("f.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	lines := NewLines([]byte(src))
	for _, key := range []string{"run", "q"} {
		n := Get(docs[0].Content[0], key)
		start, literal := lines.TextStart(n)
		if literal {
			t.Errorf("%s: %q treated as literal", key, n.Value)
		}
		st := pipeline.Step{Run: n.Value, RunPos: start, RunLiteral: literal}
		if p := st.PosAt(len(n.Value) - 1); p != start {
			t.Errorf("%s: offset maps to %v, want the start %v", key, p, start)
		}
	}
}
