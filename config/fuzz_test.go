package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		fullConfig,
		"",
		"fail_on: high\n",
		"rules:\n  disable: [test/beta]\n  enable: [test/beta]\n",
		"rules:\n  options:\n    test/alpha:\n      nested: {a: [1, 2.5, x, ~, !!int 3]}\n",
		"a: &x [1]\nb: *x\n",
		"ignore: [\"**/x/[a-z]*\", \"[!a]\", \"\\\\\"]\n",
		"--- 1\n--- 2\n",
		"{",
		"? [a]\n: b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("f.yaml", src)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml:") {
					t.Fatalf("error line %q lacks the position prefix", line)
				}
			}
			if c != nil {
				t.Fatal("non-nil config with an error")
			}
			return
		}
		if c == nil || c.Severity == nil || c.Options == nil {
			t.Fatalf("bad config %+v", c)
		}
		for _, pat := range c.Ignore {
			if _, err := compileGlob(pat); err != nil {
				t.Fatalf("accepted pattern %q does not compile: %v", pat, err)
			}
		}
		c.Ignored("some/path/x.yaml")
		for _, id := range append(append([]string{}, c.Disable...), c.Enable...) {
			r, ok := finding.Lookup(id)
			if !ok {
				t.Fatalf("accepted unknown rule %q", id)
			}
			if c.RuleOptions(id) == nil {
				t.Fatal("nil options")
			}
			if slices.Contains(c.Disable, id) && c.RuleEnabled(r) {
				t.Fatalf("disabled rule %q enabled", id)
			}
		}
	})
}

func FuzzParseSuppressions(f *testing.F) {
	for _, s := range []string{
		"# mlgate: ignore[test/alpha] reason\nx: 1\n",
		"a: \"# mlgate: ignore[x]\" # mlgate: ignore[test/alpha, test/gamma]\n",
		"#mlgate:ignore[",
		"# mlgate: ignor[x] y\r\n",
		"x: 'it''s' # mlgate: ignore[a/b,,c] r",
		"\xff# mlgate: ignore[\xfe] \xfd",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		sups := ParseSuppressions("f", src)
		lines := strings.Count(string(src), "\n") + 1
		for _, s := range sups {
			if s.Line < 1 || s.Line > lines || s.Column < 1 {
				t.Fatalf("bad position %+v", s)
			}
			if (s.Problem == "") == (len(s.Rules) == 0) {
				t.Fatalf("inconsistent suppression %+v", s)
			}
			if !strings.HasPrefix(s.Text, "#") {
				t.Fatalf("text %q", s.Text)
			}
		}
		kept, n, extra := ApplySuppressions(nil, sups)
		if len(kept) != 0 || n != 0 {
			t.Fatal("suppressed nothing yet reported some")
		}
		for _, e := range extra {
			if e.Fingerprint == "" || e.Location.Logical != "suppression" {
				t.Fatalf("bad extra finding %+v", e)
			}
		}
	})
}
