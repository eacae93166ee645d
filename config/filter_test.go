package config

import (
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// yamlComments returns the comment lines of src as yaml.v3 reports them,
// split into lines and trimmed, as a caller of FilterSuppressions would.
func yamlComments(t *testing.T, src string) []string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for _, c := range []string{n.HeadComment, n.LineComment, n.FootComment} {
			for _, line := range strings.Split(c, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					out = append(out, line)
				}
			}
		}
		for _, k := range n.Content {
			walk(k)
		}
	}
	walk(&doc)
	return out
}

func supLines(sups []Suppression) []int {
	lines := []int{}
	for _, s := range sups {
		lines = append(lines, s.Line)
	}
	return lines
}

func TestFilterSuppressionsYAML(t *testing.T) {
	src := strings.Join([]string{
		"stages:", // 1
		"  # mlgate: ignore[test/alpha] real, own line",                    // 2
		"  - name: train   # mlgate: ignore[test/gamma] real, trailing   ", // 3
		"    description: |", // 4
		"      # mlgate: ignore[test/alpha] fake, in a block scalar", // 5
		"      more text", // 6
		"    notes: >-",   // 7
		"      # mlgate: ignore[test/gamma] fake, folded", // 8
		`    cmd: "run`, // 9
		`      # mlgate: ignore[test/alpha] fake, double-quoted"`, // 10
		"    other: 'a", // 11
		"      # mlgate: ignore[test/alpha] fake, single-quoted'",             // 12
		"    image: x # mlgate: ignore[test/beta] real, after a plain scalar", // 13
		"flow: [1, # mlgate: ignore[test/alpha] real, in a flow sequence",     // 14
		"  2]", // 15
		"# mlgate: ignore[test/gamma] real, at the end", // 16
		"",
	}, "\n")
	sups := ParseSuppressions("p.yaml", []byte(src))
	if got, want := supLines(sups), []int{2, 3, 5, 8, 10, 12, 13, 14, 16}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseSuppressions lines = %v, want %v", got, want)
	}
	orig := append([]Suppression(nil), sups...)
	got := FilterSuppressions(sups, yamlComments(t, src))
	if lines, want := supLines(got), []int{2, 3, 13, 14, 16}; !reflect.DeepEqual(lines, want) {
		t.Errorf("FilterSuppressions kept lines %v, want %v", lines, want)
	}
	for _, s := range got {
		if strings.Contains(s.Text, "fake") {
			t.Errorf("kept %+v", s)
		}
	}
	if !reflect.DeepEqual(sups, orig) {
		t.Error("input modified")
	}
}

func TestFilterSuppressions(t *testing.T) {
	sup := func(line int, text string) Suppression {
		return Suppression{File: "f", Line: line, Text: text, Rules: []string{"test/alpha"}}
	}
	const a, b = "# mlgate: ignore[test/alpha] a", "# mlgate: ignore[test/alpha] b"
	tests := []struct {
		name      string
		sups      []Suppression
		comments  []string
		wantLines []int
	}{
		{"no comments", []Suppression{sup(1, a)}, nil, []int{}},
		{"no suppressions", nil, []string{a}, []int{}},
		{"real comment kept", []Suppression{sup(1, a)}, []string{a}, []int{1}},
		{"fake dropped", []Suppression{sup(1, a), sup(2, b)}, []string{b}, []int{2}},
		{"duplicate with one comment", []Suppression{sup(1, a), sup(5, a)}, []string{a}, []int{1}},
		{"duplicate with two comments", []Suppression{sup(1, a), sup(5, a)}, []string{a, a}, []int{1, 5}},
		{"extra comments", []Suppression{sup(1, a)}, []string{a, a, b, "# other"}, []int{1}},
		{"surrounding space in comments ignored", []Suppression{sup(1, a)}, []string{"  " + a + " \t"}, []int{1}},
		{"no partial match", []Suppression{sup(1, a)}, []string{a + " more", "# mlgate: ignore[test/alpha]"}, []int{}},
		{"comments without # ignored", []Suppression{sup(1, a)}, []string{strings.TrimPrefix(a, "#")}, []int{}},
		{"empty text never matches", []Suppression{sup(1, "")}, []string{"", "#"}, []int{}},
		{"order of sups kept", []Suppression{sup(3, b), sup(1, a)}, []string{a, b}, []int{3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comments := append([]string(nil), tt.comments...)
			got := FilterSuppressions(tt.sups, tt.comments)
			if lines := supLines(got); !reflect.DeepEqual(lines, tt.wantLines) {
				t.Errorf("kept lines %v, want %v", lines, tt.wantLines)
			}
			if !reflect.DeepEqual(comments, tt.comments) {
				t.Error("comments modified")
			}
		})
	}
}

// TestFilterSuppressionsMalformed checks that malformed directives in real
// comments are kept (so that they are still reported) and fake ones are not.
func TestFilterSuppressionsMalformed(t *testing.T) {
	src := "a: 1 # mlgate: ignor[test/alpha]\nb: |\n  # mlgate: ignore[test/alpha\n"
	sups := ParseSuppressions("f", []byte(src))
	got := FilterSuppressions(sups, yamlComments(t, src))
	if len(sups) != 2 || len(got) != 1 || got[0].Line != 1 || got[0].Problem == "" {
		t.Errorf("sups = %+v, kept = %+v", sups, got)
	}
}
