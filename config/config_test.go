package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
)

// Test rules, registered once for the whole test binary.
var (
	testAlpha = finding.Register(&finding.Rule{
		ID: "test/alpha", Title: "Alpha", Severity: finding.Medium,
		Doc: "Alpha is a test rule with options.", Remediation: "None.",
		Options: map[string]string{"allowed_hosts": "hosts", "max": "a limit", "nested": "a mapping"},
	})
	testBeta = finding.Register(&finding.Rule{
		ID: "test/beta", Title: "Beta", Severity: finding.Low,
		Doc: "Beta is a test rule that is off by default.", Remediation: "None.",
		DefaultDisabled: true,
	})
	testGamma = finding.Register(&finding.Rule{
		ID: "test/gamma", Title: "Gamma", Severity: finding.High,
		Doc: "Gamma is a test rule without options.", Remediation: "None.",
	})
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	writeFile(t, filepath.Join(deep, "pipeline.yaml"), "x: 1\n")
	writeFile(t, filepath.Join(root, FileName), "")
	writeFile(t, filepath.Join(root, "a", AltFileName), "")
	writeFile(t, filepath.Join(root, "both", FileName), "")
	writeFile(t, filepath.Join(root, "both", AltFileName), "")
	writeFile(t, filepath.Join(root, "weird", FileName, "x"), "")

	tests := []struct {
		name    string
		start   string
		want    string
		wantErr string
	}{
		{"directory walks up to .yml", deep, filepath.Join(root, "a", AltFileName), ""},
		{"file walks up", filepath.Join(deep, "pipeline.yaml"), filepath.Join(root, "a", AltFileName), ""},
		{"own directory", filepath.Join(root, "a"), filepath.Join(root, "a", AltFileName), ""},
		{"root config", root, filepath.Join(root, FileName), ""},
		{"config file itself", filepath.Join(root, FileName), filepath.Join(root, FileName), ""},
		{"both names", filepath.Join(root, "both"), "", "both"},
		{"not a regular file", filepath.Join(root, "weird"), "", "not a regular file"},
		{"missing start", filepath.Join(root, "nope"), "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Find(tt.start)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Find(%q) error = %v, want one containing %q", tt.start, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Find(%q): %v", tt.start, err)
			}
			if got != tt.want {
				t.Errorf("Find(%q) = %q, want %q", tt.start, got, tt.want)
			}
		})
	}

	t.Run("relative start", func(t *testing.T) {
		t.Chdir(deep)
		got, err := Find(".")
		if err != nil || got != filepath.Join(root, "a", AltFileName) {
			t.Errorf("Find(\".\") = %q, %v", got, err)
		}
	})

	t.Run("none found", func(t *testing.T) {
		empty := t.TempDir()
		got, err := Find(empty)
		if err != nil {
			t.Fatal(err)
		}
		// An ancestor of the temporary directory might hold a
		// configuration; it must not be inside empty.
		if got != "" && strings.HasPrefix(got, empty+string(filepath.Separator)) {
			t.Errorf("Find(%q) = %q, want none below it", empty, got)
		}
	})
}

const fullConfig = `# full example
fail_on: high
rules:
  disable: [test/gamma]
  enable:
    - test/beta
  severity:
    test/alpha: critical
    test/gamma: INFO
  options:
    test/alpha:
      allowed_hosts: [rekor.sigstore.dev, "example.com"]
      max: 3
      nested: {a: 1.5, b: true, c: ~, d: 2001-12-14}
    test/gamma: {}
ignore:
  - "vendor/**"
  - "**/testdata/**"
`

func TestParseFull(t *testing.T) {
	path := filepath.Join("proj", FileName)
	c, err := Parse(path, []byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	absDir, _ := filepath.Abs("proj")
	high := finding.High
	want := &Config{
		Path:    path,
		Dir:     absDir,
		Disable: []string{"test/gamma"},
		Enable:  []string{"test/beta"},
		Severity: map[string]finding.Severity{
			"test/alpha": finding.Critical,
			"test/gamma": finding.Info,
		},
		Ignore: []string{"vendor/**", "**/testdata/**"},
		Options: map[string]map[string]any{
			"test/alpha": {
				"allowed_hosts": []any{"rekor.sigstore.dev", "example.com"},
				"max":           3,
				"nested":        map[string]any{"a": 1.5, "b": true, "c": nil, "d": "2001-12-14"},
			},
			"test/gamma": {},
		},
		FailOn: &high,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse =\n%#v\nwant\n%#v", c, want)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "~\n", "---\n", "fail_on:\nrules:\nignore:\n", "rules:\n  disable:\n  options:\n"} {
		c, err := Parse("x.yaml", []byte(src))
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		if c.FailOn != nil || len(c.Disable)+len(c.Enable)+len(c.Ignore)+len(c.Severity)+len(c.Options) != 0 {
			t.Errorf("Parse(%q) = %+v, want defaults", src, c)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		pos  string // "line:col"
		msg  string
	}{
		{"unknown top key", "fail_on: high\nfoo: 1\n", "2:1", `unknown key "foo"`},
		{"unknown rules key", "rules:\n  disabel: []\n", "2:3", `unknown key "disabel" in rules`},
		{"root not mapping", "- a\n", "1:1", "must be a mapping, found a sequence"},
		{"non-string key", "1: x\n", "1:1", "must be a string, found an integer"},
		{"duplicate key", "fail_on: high\nfail_on: low\n", "2:1", `duplicate key "fail_on"`},
		{"disable not sequence", "rules:\n  disable: test/gamma\n", "2:12", "rules.disable must be a sequence, found a string"},
		{"ignore not sequence", "ignore: 5\n", "1:9", "ignore must be a sequence, found an integer"},
		{"ignore item not string", "ignore:\n  - [a]\n", "2:5", "must be a string, found a sequence"},
		{"rules not mapping", "rules: [a]\n", "1:8", "rules must be a mapping"},
		{"severity not mapping", "rules:\n  severity: [a]\n", "2:13", "rules.severity must be a mapping"},
		{"fail_on invalid", "fail_on: severe\n", "1:10", `unknown severity "severe"`},
		{"fail_on not string", "fail_on: 3\n", "1:10", "fail_on must be a string, found an integer"},
		{"rule severity invalid", "rules:\n  severity:\n    test/alpha: urgent\n", "3:17", `unknown severity "urgent"`},
		{"glob bad class", "ignore:\n  - \"[a-\"\n", "2:5", `invalid ignore pattern "[a-"`},
		{"glob dotdot", "ignore: [\"../x\"]\n", "1:10", `".." elements are not allowed`},
		{"glob empty", "ignore: [\"\"]\n", "1:10", "empty pattern"},
		{"glob double slash", "ignore: [\"a//b\"]\n", "1:10", "empty path element"},
		{"unknown rule in disable", "rules:\n  disable: [test/gamma, test/nope]\n", "2:25", `unknown rule "test/nope"`},
		{"malformed rule id", "rules:\n  enable: [Nope]\n", "2:12", "rule IDs look like domain/rule-name"},
		{"unknown rule in severity", "rules:\n  severity:\n    test/nope: high\n", "3:5", `unknown rule "test/nope"`},
		{"unknown rule in options", "rules:\n  options:\n    test/nope: {}\n", "3:5", `unknown rule "test/nope"`},
		{"unknown option", "rules:\n  options:\n    test/alpha:\n      bogus: 1\n", "4:7", `unknown option "bogus" for rule test/alpha (known: allowed_hosts, max, nested)`},
		{"rule without options", "rules:\n  options:\n    test/gamma:\n      x: 1\n", "4:7", "rule test/gamma takes no options"},
		{"options not mapping", "rules:\n  options:\n    test/alpha: [1]\n", "3:17", "the options of test/alpha must be a mapping"},
		{"option bad tag", "rules:\n  options:\n    test/alpha:\n      max: !foo x\n", "4:12", `unsupported value tagged "!foo"`},
		{"option bad int", "rules:\n  options:\n    test/alpha:\n      max: !!int abc\n", "4:12", "invalid int value"},
		{"option map non-string key", "rules:\n  options:\n    test/alpha:\n      nested: {[1]: 2}\n", "4:16", "must be a string, found a sequence"},
		{"enabled and disabled", "rules:\n  disable: [test/beta]\n  enable: [test/beta]\n", "3:12", "rule test/beta is both enabled and disabled (also disabled at line 2)"},
		{"disabled after enabled", "rules:\n  enable: [test/beta]\n  disable:\n    - test/beta\n", "4:7", "both enabled and disabled (also enabled at line 2)"},
		{"alias", "rules:\n  disable: &x [test/gamma]\n  enable: *x\n", "3:11", `YAML aliases ("*x") are not supported`},
		{"merge key", "rules:\n  <<: {disable: []}\n", "2:3", "YAML merge keys (<<) are not supported"},
		{"syntax error", "rules:\n  disable: [test/gamma\n", "", "invalid YAML"},
		{"bad indentation", "fail_on: high\n rules: x\n", "2:1", "invalid YAML"},
		{"two documents", "fail_on: high\n---\nfail_on: low\n", "2:1", "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("dir/cfg.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error", tt.src, c)
			}
			msg := err.Error()
			prefix := "dir/cfg.yaml:" + tt.pos
			if tt.pos == "" {
				prefix = "dir/cfg.yaml:"
			} else {
				prefix += ": "
			}
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q does not contain %q", msg, tt.msg)
			}
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, "dir/cfg.yaml:") {
					t.Errorf("error line %q lacks the file:line:col prefix", line)
				}
			}
		})
	}
}

func TestParseReportsAllErrors(t *testing.T) {
	src := "foo: 1\nrules:\n  disable: [test/nope]\nfail_on: bad\n"
	_, err := Parse("c.yaml", []byte(src))
	if err == nil {
		t.Fatal("want error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"c.yaml:1:1: ", "c.yaml:3:13: ", "c.yaml:4:10: "}
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestParseBounds(t *testing.T) {
	big := make([]byte, MaxFileSize+1)
	for i := range big {
		big[i] = '\n'
	}
	if _, err := Parse("big.yaml", big); err == nil || !strings.HasPrefix(err.Error(), "big.yaml:1:1: ") {
		t.Errorf("oversized input: err = %v", err)
	}

	// A billion-laughs document is rejected at the first alias, quickly.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 30; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]\n")
	}
	_, err := Parse("laughs.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Errorf("billion laughs: err = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	writeFile(t, path, "fail_on: low\nignore: [\"gen/**\"]\n")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != path || c.Dir != dir || c.FailOn == nil || *c.FailOn != finding.Low {
		t.Errorf("Load = %+v", c)
	}
	if !c.Ignored(filepath.Join(dir, "gen", "x.yaml")) {
		t.Error("gen/x.yaml not ignored")
	}

	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "\n\nfail_on: [x]\n")
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":3:10: ") {
		t.Errorf("Load(bad) error = %v", err)
	}

	missing := filepath.Join(dir, "missing.yaml")
	if _, err := Load(missing); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), missing+": ") {
		t.Errorf("Load(missing) error = %v", err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("Load(directory) succeeded")
	}

	big := filepath.Join(dir, "big.yaml")
	writeFile(t, big, strings.Repeat("#\n", MaxFileSize/2+1))
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big) error = %v", err)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c.Path != "" || c.FailOn != nil || c.Severity == nil || c.Options == nil {
		t.Errorf("Default() = %+v", c)
	}
	if !c.RuleEnabled(testAlpha) || c.RuleEnabled(testBeta) {
		t.Error("Default() rule enablement wrong")
	}
	if c.Ignored("anything.yaml") {
		t.Error("Default() ignores a path")
	}
}

func TestRuleEnabled(t *testing.T) {
	tests := []struct {
		name string
		cfg  *Config
		rule *finding.Rule
		want bool
	}{
		{"default on", Default(), testAlpha, true},
		{"default off", Default(), testBeta, false},
		{"disabled", &Config{Disable: []string{"test/alpha"}}, testAlpha, false},
		{"enabled default-off", &Config{Enable: []string{"test/beta"}}, testBeta, true},
		{"enable and disable", &Config{Enable: []string{"test/beta"}, Disable: []string{"test/beta"}}, testBeta, false},
		{"enable a default-on rule", &Config{Enable: []string{"test/alpha"}}, testAlpha, true},
		{"nil config", nil, testAlpha, true},
		{"nil config default off", nil, testBeta, false},
		{"nil rule", Default(), nil, false},
	}
	for _, tt := range tests {
		if got := tt.cfg.RuleEnabled(tt.rule); got != tt.want {
			t.Errorf("%s: RuleEnabled = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRuleOptions(t *testing.T) {
	c, err := Parse("c.yaml", []byte("rules:\n  options:\n    test/alpha:\n      max: 7\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RuleOptions("test/alpha"); !reflect.DeepEqual(got, map[string]any{"max": 7}) {
		t.Errorf("RuleOptions(test/alpha) = %#v", got)
	}
	got := c.RuleOptions("test/gamma")
	if got == nil || len(got) != 0 {
		t.Errorf("RuleOptions(test/gamma) = %#v, want empty non-nil", got)
	}
	got["x"] = 1
	if len(c.RuleOptions("test/gamma")) != 0 {
		t.Error("RuleOptions result aliases the configuration")
	}
	var nilCfg *Config
	if nilCfg.RuleOptions("test/alpha") == nil {
		t.Error("nil config RuleOptions is nil")
	}
}

func TestIgnored(t *testing.T) {
	dir := t.TempDir()
	j := func(parts ...string) string { return filepath.Join(append([]string{dir}, parts...)...) }
	tests := []struct {
		pattern string
		path    string
		want    bool
	}{
		{"vendor/**", j("vendor", "a.yaml"), true},
		{"vendor/**", j("vendor", "x", "y", "z.yaml"), true},
		{"vendor/**", j("src", "vendor", "a.yaml"), false},
		{"vendor/**", j("vendorx", "a.yaml"), false},
		{"**/testdata/**", j("testdata", "a.yaml"), true},
		{"**/testdata/**", j("a", "b", "testdata", "c", "d.yaml"), true},
		{"**/testdata/**", j("a", "testdatax", "d.yaml"), false},
		{"a/**/z.yaml", j("a", "z.yaml"), true},
		{"a/**/z.yaml", j("a", "b", "c", "z.yaml"), true},
		{"a/**/z.yaml", j("a", "b", "c", "y.yaml"), false},
		{"a/**/**/z.yaml", j("a", "z.yaml"), true},
		{"**", j("anything", "at", "all"), true},
		{"vendor", j("vendor", "a.yaml"), true},
		{"vendor/", j("vendor", "sub", "a.yaml"), true},
		{"/vendor", j("vendor", "a.yaml"), true},
		{"./vendor/*.yaml", j("vendor", "a.yaml"), true},
		{"vendor/*.yaml", j("vendor", "sub", "a.json"), false},
		{"vendor/*", j("vendor", "sub", "a.json"), true},
		{"*.yaml", j("deep", "down", "x.yaml"), true},
		{"*.yaml", j("deep", "down", "x.json"), false},
		{"x?.json", j("x1.json"), true},
		{"x?.json", j("x12.json"), false},
		{"x[0-9].json", j("x7.json"), true},
		{"x[!0-9].json", j("x7.json"), false},
		{"x[!0-9].json", j("xa.json"), true},
		{"x[^0-9].json", j("xa.json"), true},
		{`x\*.json`, j("x*.json"), true},
		{`x\*.json`, j("xa.json"), false},
		{"src/*", j("src", "a", "b.yaml"), true},
		{"src/*.py", j("src", "a", "b.py"), false},
		{"**/gen", j("p", "gen", "f.yaml"), true},
		{"testdata", j("a", "testdata", "f.yaml"), true},
		{"vendor/**", dir, false},
		{"vendor/**", "", false},
		// Paths outside Dir: only slash-free patterns, against the base name.
		{"*.yaml", filepath.Join(filepath.Dir(dir), "other", "x.yaml"), true},
		{"**/*.yaml", filepath.Join(filepath.Dir(dir), "other", "x.yaml"), false},
		{"other", filepath.Join(filepath.Dir(dir), "other", "x.yaml"), false},
		{"**", filepath.Join(filepath.Dir(dir), "other", "x.yaml"), false},
	}
	for _, tt := range tests {
		c := &Config{Dir: dir, Ignore: []string{tt.pattern}}
		if got := c.Ignored(tt.path); got != tt.want {
			t.Errorf("Ignored(%q) with %q = %v, want %v", tt.path, tt.pattern, got, tt.want)
		}
	}

	t.Run("relative paths", func(t *testing.T) {
		t.Chdir(dir)
		c := &Config{Dir: dir, Ignore: []string{"**/testdata/**"}}
		if !c.Ignored(filepath.Join("x", "testdata", "a.yaml")) {
			t.Error("relative path under testdata not ignored")
		}
		if c.Ignored(filepath.Join("x", "a.yaml")) {
			t.Error("relative path ignored")
		}
		sub := j("x")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(sub)
		if !c.Ignored(filepath.Join("testdata", "a.yaml")) {
			t.Error("path relative to a subdirectory of Dir not ignored")
		}
	})

	t.Run("invalid pattern set by hand", func(t *testing.T) {
		c := &Config{Dir: dir, Ignore: []string{"[", "../x", "ok/**"}}
		if c.Ignored(j("[")) || !c.Ignored(j("ok", "a")) {
			t.Error("hand-set patterns misbehave")
		}
	})
}

func TestApply(t *testing.T) {
	dir := t.TempDir()
	c := &Config{
		Dir:      dir,
		Disable:  []string{"test/gamma"},
		Severity: map[string]finding.Severity{"test/alpha": finding.Critical},
		Ignore:   []string{"vendor/**"},
	}
	mk := func(r *finding.Rule, file string) finding.Finding {
		return r.New(finding.Location{File: file, Line: 1}, "m", "e")
	}
	unknown := finding.Finding{RuleID: "test/unregistered", Severity: finding.Low, Location: finding.Location{File: filepath.Join(dir, "a.yaml")}}
	in := []finding.Finding{
		mk(testAlpha, filepath.Join(dir, "a.yaml")),           // kept, severity raised
		mk(testGamma, filepath.Join(dir, "a.yaml")),           // disabled
		mk(testBeta, filepath.Join(dir, "a.yaml")),            // default-disabled, not enabled
		mk(testAlpha, filepath.Join(dir, "vendor", "v.yaml")), // ignored
		unknown,           // unknown rule: kept
		mk(testAlpha, ""), // no file: kept
	}
	orig := append([]finding.Finding(nil), in...)
	out := c.Apply(in)
	if !reflect.DeepEqual(in, orig) {
		t.Error("Apply modified its input")
	}
	if len(out) != 3 {
		t.Fatalf("Apply kept %d findings, want 3: %+v", len(out), out)
	}
	if out[0].RuleID != "test/alpha" || out[0].Severity != finding.Critical || out[0].Fingerprint != in[0].Fingerprint {
		t.Errorf("out[0] = %+v", out[0])
	}
	if out[1].RuleID != "test/unregistered" || out[1].Severity != finding.Low {
		t.Errorf("out[1] = %+v", out[1])
	}
	if out[2].Location.File != "" || out[2].Severity != finding.Critical {
		t.Errorf("out[2] = %+v", out[2])
	}

	c.Enable = []string{"test/beta"}
	if got := c.Apply(in[2:3]); len(got) != 1 {
		t.Errorf("enabled default-off rule dropped")
	}
	var nilCfg *Config
	if got := nilCfg.Apply(in); len(got) != len(in)-1 {
		t.Errorf("nil config Apply kept %d, want %d", len(got), len(in)-1)
	}
}
