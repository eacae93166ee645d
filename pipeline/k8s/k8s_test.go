package k8s_test

import (
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline/k8s"
	"go.yaml.in/yaml/v3"
)

// checkLocate decodes src (a mapping with key v) and checks that every
// byte of the value that is a letter or digit maps back to the same byte
// in the source.
func checkLocate(t *testing.T, src string) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Skip(err)
	}
	n := doc.Content[0].Content[1]
	text := k8s.NewText([]byte(src))
	lines := strings.Split(src, "\n")
	for off := 0; off < len(n.Value); off++ {
		c := n.Value[off]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			continue
		}
		p := text.Locate(n, off)
		if p.Line < 1 || p.Line > len(lines) || p.Column < 1 {
			t.Fatalf("offset %d (%q): position %+v out of range\n%s", off, c, p, src)
		}
		runes := []rune(lines[p.Line-1])
		if p.Column > len(runes) {
			t.Fatalf("offset %d (%q): position %+v past the line\n%s", off, c, p, src)
		}
		if got := runes[p.Column-1]; got != rune(c) {
			t.Fatalf("offset %d (%q of %q): position %d:%d holds %q\n%s", off, c, n.Value, p.Line, p.Column, got, src)
		}
	}
}

func TestLocate(t *testing.T) {
	for _, src := range []string{
		"v: \"\\nif ! [ -x \\\"$(command -v pip)\\\" ]; then\\n    python3 -m ensurepip ||\\\n  \\ python3 -m ensurepip --user\\nfi\\n\\nPIP=1\\\n  \\ python3 -m pip install 'kfp==2.14' && \\\"$0\\\"\\n\"\n",
		"v: 'program_path=$(mktemp -d)\n\n\n  printf \"%s\" \"$0\" > x.py\n\n  python3 -m kfp.dsl.executor_main   --path  \"$@\"\n\n  '\n",
		"v: plain words\n  continue here\n\n  and after a blank\n",
		"v: |\n  line one\n    indented two\n  three\n",
		"v: >\n  folded one\n  folded two\n",
		"v: \"caf\\u00e9 ok\\x2B and \\t tab\"\n",
		"v: 'it''s quoted'\n",
		"- x\n",
	} {
		if strings.HasPrefix(src, "- ") {
			continue
		}
		if strings.Contains(src, ">\n") {
			continue // folded blocks map to line starts only
		}
		checkLocate(t, src)
	}
}

func FuzzLocate(f *testing.F) {
	f.Add("pip install 'kfp==2.1' --trusted-host x\n\n  next", 0)
	f.Add("a\\b \"q\" \t tab", 1)
	f.Add("line1\nline2\n\n\nline5", 2)
	f.Fuzz(func(t *testing.T, value string, style int) {
		styles := []yaml.Style{yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle, yaml.LiteralStyle, 0}
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: value, Style: styles[(style%4+4)%4]}
		doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "v"}, n}}
		out, err := yaml.Marshal(doc)
		if err != nil {
			return
		}
		var back yaml.Node
		if err := yaml.Unmarshal(out, &back); err != nil || len(back.Content) == 0 || len(back.Content[0].Content) < 2 {
			return
		}
		m := back.Content[0].Content[1]
		if m.Style&yaml.FoldedStyle != 0 {
			return
		}
		checkLocate(t, string(out))
	})
}

func TestCommands(t *testing.T) {
	cmds := k8s.Commands("A=1 pip install 'x==1' \"y\" && curl -s https://a | sudo bash # c | sh\necho 'a;b'")
	var got []string
	for _, c := range cmds {
		var ws []string
		for _, w := range c {
			ws = append(ws, w.Text)
		}
		got = append(got, strings.Join(ws, " "))
	}
	want := "A=1 pip install x==1 y|curl -s https://a ||sudo bash|echo a;b"
	if strings.Join(got, "|") != want {
		t.Errorf("got %q", strings.Join(got, "|"))
	}
}

func TestHelpers(t *testing.T) {
	for ref, tag := range map[string]string{"busybox": "", "busybox:1": "1", "reg:5000/a/b": "", "reg:5000/a/b:v2@sha256:00": "v2"} {
		if got := k8s.ImageTag(ref); got != tag {
			t.Errorf("ImageTag(%q) = %q", ref, got)
		}
	}
	for p, want := range map[string]bool{"/": true, "/var/run/docker.sock": true, "/var": true, "/proc/1": true, "/mnt/cache": false, "/data/hf": false} {
		if k8s.SensitiveHostPath(p) != want {
			t.Errorf("SensitiveHostPath(%q) != %v", p, want)
		}
	}
	for n, want := range map[string]bool{"nvidia.com/gpu": true, "nvidia.com/mig-1g.5gb": true, "google.com/tpu": true, "cpu": false, "memory": false} {
		if k8s.IsGPUResource(n) != want {
			t.Errorf("IsGPUResource(%q) != %v", n, want)
		}
	}
	if k8s.ExternalScheme("gs://b/o") != "gs" || k8s.ExternalScheme("/local/path") != "" || k8s.ExternalScheme("a b://x") != "" {
		t.Error("ExternalScheme")
	}
}
