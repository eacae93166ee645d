package yamlsrc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline/k8s/k8stest"
	"go.yaml.in/yaml/v3"
)

// diffTrees describes the first difference between two node trees in what
// the fast path promises to reproduce (everything but where comments are
// attached), or returns "".
func diffTrees(a, b *yaml.Node, path string) string {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Sprintf("%s: fast kind=%d style=%d tag=%s value=%q at %d:%d with %d children; yaml.v3 kind=%d style=%d tag=%s value=%q at %d:%d with %d children",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if d := diffTrees(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); d != "" {
			return d
		}
	}
	return ""
}

// containsAll reports whether the sorted multiset super holds every
// element of the sorted multiset sub.
func containsAll(super, sub []string) bool {
	i := 0
	for _, x := range sub {
		for i < len(super) && super[i] < x {
			i++
		}
		if i == len(super) || super[i] != x {
			return false
		}
		i++
	}
	return true
}

func allComments(docs []*yaml.Node) []string {
	var out []string
	for _, d := range docs {
		out = append(out, Comments(d)...)
	}
	slices.Sort(out)
	return out
}

// compareWithV3 checks src on both parsers. It returns whether the fast
// path took it, and fails t when the fast path took it and disagrees.
func compareWithV3(t testing.TB, name string, src []byte) bool {
	t.Helper()
	if CheckText(name, src) != nil {
		return false
	}
	fast, comments, ok := func() (d []*yaml.Node, c []string, ok bool) {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("%s: fast path panicked: %v\n%s", name, r, src)
			}
		}()
		return fastDecode(src)
	}()
	if !ok {
		return false
	}
	var fastDocs []*yaml.Node
	for _, d := range fast {
		fastDocs, _ = keepDocument(name, fastDocs, d)
	}
	if len(fastDocs) > 0 {
		fastDocs[0].HeadComment = strings.Join(comments, "\n")
	}
	ref, err := decodeV3(name, src)
	if err != nil {
		t.Fatalf("%s: the fast path accepted what yaml.v3 rejects (%v):\n%s", name, err, src)
	}
	if len(fastDocs) != len(ref) {
		t.Fatalf("%s: fast path found %d documents, yaml.v3 %d:\n%s", name, len(fastDocs), len(ref), src)
	}
	for i := range ref {
		if d := diffTrees(fastDocs[i], ref[i], "doc"+fmt.Sprint(i)); d != "" {
			t.Fatalf("%s: %s\n--- source:\n%s", name, d, src)
		}
	}
	// yaml.v3 drops some comments (those it cannot attach to a node, such
	// as comment blocks between entries of a flow-heavy mapping); the fast
	// path keeps every one, so it must see at least what yaml.v3 sees.
	if f, r := allComments(fastDocs), allComments(ref); !containsAll(f, r) {
		t.Fatalf("%s: comments differ:\nfast:    %q\nyaml.v3: %q\n--- source:\n%s", name, f, r, src)
	}
	return true
}

// fastCases are in the fast path's subset: each must be taken and agree.
var fastCases = []string{
	"a: 1\n",
	"a:\nb: 1\n",
	"on:\n  push:\n    branches: [main, 'release/*']\n  workflow_dispatch:\njobs: {}\n",
	"a: x\na: y\n",
	"# c0\na: |  # c1\n  x\n  y\n\nb: >-\n  p q\n  r\n\n  s\n# c2\n",
	"x: [a, 'b', {c: d, \"e\": [f]}]\n",
	"\n\n  a: 1\n",
	"a: yes\nb: on\nc: 0x1F\nd: 1e3\ne: ~\nf: 2001-12-14\ng: .inf\nh: 0o17\ni: 012\nj: -.5\nk: +1\nl: 1_000\nm: 3.10\nn: -0b101\no: 2001-12-14 21:59:43.10\np: 1.\nq: True\nr: NULL\n",
	"a:\n- x\n- y\nb: 2\n",
	"a: \"é\" # ü\nb: ü\nçç: [é, ü]\n",
	"a: # c\nb:\n-\n- # d\n-   x\n",
	"a:   \n  - b\n",
	"k:\n  v  # c\n",
	"a: >\n  x\n\n\n  y\n  z\n",
	"a: |-\n  x\n\n",
	"a: |\n  x\n\n\nb: 1\n",
	"a: |\n\nb: 1\n",
	"x: 1\n---\ny: 2\n",
	"---\n# only a comment\n---\nz: 3\n",
	"- a: 1\n  b: 2\n- c\n",
	"a  : b\n'q': \"r\\tz\\u00e9\\x41\\\\\\\"\"\n",
	"a: x y  \n",
	"jobs:\n  build:\n    runs-on: ${{ matrix.os }}\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: |\n          pip install -r requirements.txt  # mlgate: ignore[x] reason\n          python -c 'print(1)'\n",
	"url: http://example.com:8080/x#frag\nc: a#b\n",
	"'it''s': 'a ''b'''\n",
	"e: ''\nf: \"\"\n",
	"k: v\n# trailing\n",
	"a: 1\nb: 2",
	"steps:\n- - name: a\n    template: t\n  - name: b\n- - name: c\n",
	"- - a\n  - b\n- c\n",
	"a: multi\n  line\n\n\n  more   \n  && end\nb: 1\n",
	"a: \"multi\n  line\"\n",
	"a: \"esc\\\n   aped \\t\n\n\n  x  \"  # c\n",
	"- 'single\n  ''quoted''\n\n  lines'\n- x\n",
	"k:\n  plain on\n  two lines\n",
	"- x\n- y\n",
	"a:\n  b:\n    c:\n      - d\n      - e: f\n        g: h\n",
}

func TestFastPathAgreesWithYAMLv3(t *testing.T) {
	for i, c := range fastCases {
		if !compareWithV3(t, fmt.Sprintf("case %d", i), []byte(c)) {
			t.Errorf("case %d: fast path did not take %q", i, c)
		}
	}
}

// fallbackCases are outside the subset (or invalid): the fast path must
// leave them to yaml.v3.
var fallbackCases = []string{
	"a: &x 1\nb: *x\n",
	"a: !!str 1\n",
	"%YAML 1.2\n---\na: 1\n",
	"a:\n\tb: 1\n",
	"a: [1,\n  2]\n",
	"a: |2\n   x\n",
	"a: |+\n  x\n\n",
	"? complex\n: key\n",
	"a: 1\r\nb: 2\r\n",
	"<<: {a: 1}\n",
	"a: b: c\n",
	"a: 1\n...\n",
	"a:\n  b: 1\n c: 2\n",
	"x: [a:b]\n",
	"\xef\xbb\xbfa: 1\n",
	"a: 1\nb: |\n  no final newline",
}

func TestFastPathFallsBack(t *testing.T) {
	for i, c := range fallbackCases {
		if compareWithV3(t, fmt.Sprintf("fallback %d", i), []byte(c)) {
			t.Errorf("fallback %d: fast path took %q", i, c)
		}
	}
}

// TestFastPathOnCorpora runs both parsers over every YAML file of the
// shared corpora and the repository's own examples and test data.
func TestFastPathOnCorpora(t *testing.T) {
	var roots []string
	if dir := sharedCorpora(); dir != "" {
		roots = append(roots, dir)
	}
	roots = append(roots, "../../examples", "../../internal/cli/templates", "..")
	files, taken := 0, 0
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			ext := filepath.Ext(p)
			if ext != ".yml" && ext != ".yaml" && !strings.Contains(p, "gitlab-ci") {
				return nil
			}
			src, err := os.ReadFile(p)
			if err != nil || len(src) > 4<<20 {
				return nil
			}
			files++
			if compareWithV3(t, p, src) {
				taken++
			}
			return nil
		})
	}
	if files == 0 {
		t.Fatal("no YAML file found")
	}
	t.Logf("fast path took %d of %d YAML files (%.1f%%)", taken, files, 100*float64(taken)/float64(files))
}

func sharedCorpora() string { return k8stest.SharedDir("corpora/pipelines") }

func FuzzFastPath(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c))
	}
	for _, c := range fallbackCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 || bytes.Count(src, []byte("\n")) > 2000 {
			return
		}
		compareWithV3(t, "fuzz", src)
	})
}

func BenchmarkDecodeCorpus(b *testing.B) {
	dir := sharedCorpora()
	if dir == "" {
		b.Skip("corpora not present")
	}
	var srcs [][]byte
	paths, _ := filepath.Glob(filepath.Join(dir, "gha-realworld", "*.y*ml"))
	for _, p := range paths {
		if src, err := os.ReadFile(p); err == nil {
			srcs = append(srcs, src)
		}
	}
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			for _, s := range srcs {
				_, _ = Decode("x", s)
			}
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		for b.Loop() {
			for _, s := range srcs {
				_, _ = decodeV3("x", s)
			}
		}
	})
}

// TestFastPathFallbackReasons logs where the fast path gives up on the
// corpora, most frequent first (run with -v to see them).
func TestFastPathFallbackReasons(t *testing.T) {
	dir := sharedCorpora()
	if dir == "" {
		t.Skip("corpora not present")
	}
	counts := map[string]int{}
	fallbackHook = func() {
		_, file, line, _ := runtime.Caller(2)
		counts[fmt.Sprintf("%s:%d", filepath.Base(file), line)]++
	}
	defer func() { fallbackHook = nil }()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if src, err := os.ReadFile(p); err == nil && CheckText(p, src) == nil {
				fastDecode(src)
			}
		}
		return nil
	})
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range counts {
		all = append(all, kv{k, n})
	}
	slices.SortFunc(all, func(a, b kv) int { return b.n - a.n })
	for _, x := range all {
		t.Logf("%5d %s", x.n, x.k)
	}
}

// TestFastPathLinearOnLongLines: a one-line flow sequence of 200,000
// items after a non-ASCII character must not make column counting
// quadratic (it took minutes before columns were counted incrementally).
func TestFastPathLinearOnLongLines(t *testing.T) {
	var b strings.Builder
	b.WriteString("é: [")
	for i := range 200_000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("ü")
	}
	b.WriteString("]\n")
	docs, _, ok := fastDecode([]byte(b.String()))
	if !ok || len(docs[0].Content[0].Content[1].Content) != 200_000 {
		t.Fatal("long flow sequence not parsed")
	}
	if last := docs[0].Content[0].Content[1].Content[199_999]; last.Column != 5+3*199_999 {
		t.Fatalf("last item at column %d", last.Column)
	}
}
