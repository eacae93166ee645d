package shell

import (
	"strings"
	"testing"
)

// render shows commands as "name arg arg" joined by " / " with the
// operators, for compact expectations.
func render(cmds []Cmd) string {
	var parts []string
	for _, c := range cmds {
		var ws []string
		for _, w := range c.Words {
			ws = append(ws, w.Val)
		}
		s := strings.Join(ws, " ")
		if c.Depth > 0 {
			s = strings.Repeat(">", c.Depth) + s
		}
		if c.Op != "" && c.Op != "\n" {
			s += " " + c.Op
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " / ")
}

func TestParse(t *testing.T) {
	cases := []struct{ in, want string }{
		{"pip install -r req.txt", "pip install -r req.txt"},
		{"pip install \\\n  torch \\\n  numpy", "pip install torch numpy"},
		{"a && b || c; d & e | f", "a && / b || / c ; / d & / e | / f"},
		{"# pip install x\necho hi # pip install y", "echo hi"},
		{`echo "pip install x" 'a b' $'c\'d'`, "echo pip install x a b c'd"},
		{"FOO=1 BAR=2 pip install x", "pip install x"},
		{"if true; then pip install x; fi", "true ; / pip install x ;"},
		{"curl -fsSL https://x/i.sh | sudo bash -s -- -y", "curl -fsSL https://x/i.sh | / sudo bash -s -- -y"},
		{"pip install x > log 2>&1 < in", "pip install x"},
		{"cat <<EOF > f\npip install inside\nEOF\npip install after", "cat / pip install after"},
		{"echo $(curl -s x | sh) done", "echo $(curl -s x | sh) done / >curl -s x | / >sh"},
		{"bash -c 'pip install x && curl y'", "bash -c pip install x && curl y / >pip install x && / >curl y"},
		{"(cd a && make)", "cd a && / make"},
		{"python -c \"import torch; torch.load('m.pt')\"", "python -c import torch; torch.load('m.pt')"},
		{"echo `which pip`", "echo `which pip` / >which pip"},
		{"bash <(curl -s https://x)", "bash <(curl -s https://x) / >curl -s https://x"},
		{"x=$((1+2)); echo ${x:-a b}", "echo ${x:-a b}"},
	}
	for _, c := range cases {
		got := render(Parse(c.in))
		if got != c.want {
			t.Errorf("Parse(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestOffsets(t *testing.T) {
	src := "echo a\n  pip   install 'torch'\nbash -c 'curl x'"
	cmds := Parse(src)
	for _, c := range cmds {
		for _, w := range c.Words {
			raw := src[w.Start:w.End]
			if strings.Trim(raw, "'") != w.Val {
				t.Errorf("word %q has raw text %q", w.Val, raw)
			}
		}
	}
	if got := cmds[len(cmds)-1]; !got.Exact || got.Depth != 1 || src[got.Words[0].Start:got.Words[0].End] != "curl" {
		t.Errorf("nested sh -c command: %+v", got)
	}
}

func TestHeredocBody(t *testing.T) {
	src := "python - <<'PY'\nimport torch\ntorch.load('x')\nPY\necho ok\n"
	cmds := Parse(src)
	if len(cmds) != 2 || len(cmds[0].Heredocs) != 1 {
		t.Fatalf("got %+v", cmds)
	}
	h := cmds[0].Heredocs[0]
	if body := src[h.Start:h.End]; body != "import torch\ntorch.load('x')\n" {
		t.Errorf("body %q", body)
	}
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"sudo -E -u root pip install x": "pip",
		"env -i A=1 /usr/bin/pip3 x":    "/usr/bin/pip3",
		"timeout 30 curl x":             "curl",
		"nohup time python train.py":    "python",
		"sudo":                          "",
	} {
		cmds := Parse(in)
		got := ""
		if len(cmds) > 0 {
			got, _ = cmds[0].Name()
		}
		if got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLimits(t *testing.T) {
	big := strings.Repeat("a;", MaxCommands*2)
	if n := len(Parse(big)); n != MaxCommands {
		t.Errorf("got %d commands, want %d", n, MaxCommands)
	}
	deep := strings.Repeat("$(", 100) + "x" + strings.Repeat(")", 100)
	for _, c := range Parse(deep) {
		if c.Depth > MaxDepth {
			t.Fatalf("depth %d", c.Depth)
		}
	}
	nestedSh := strings.Repeat("sh -c '", 1) + strings.Repeat("sh -c \"", 50) + "x"
	Parse(nestedSh)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"pip install -r req.txt && curl -s x | bash",
		"cat <<-EOF\n\tbody\n\tEOF\n",
		"bash -c \"$(curl -fsSL https://x)\"",
		"echo \"a\\\"b\" $'x\\'y' `z` ${a:-b} <(c) >(d) 2>&1 &>/dev/null",
		"((", "$(", "'", "\"", "\\", "<<", "sh -c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmds := Parse(s)
		if len(cmds) > MaxCommands {
			t.Fatalf("%d commands", len(cmds))
		}
		for _, c := range cmds {
			if len(c.Words) > MaxWords || c.Depth > MaxDepth {
				t.Fatalf("limits exceeded: %+v", c)
			}
			for _, w := range c.Words {
				if w.Start < 0 || w.End > len(s) || w.Start > w.End {
					t.Fatalf("bad offsets %d..%d in %d bytes", w.Start, w.End, len(s))
				}
			}
			for _, h := range c.Heredocs {
				if h.Start < 0 || h.End > len(s) || h.Start > h.End {
					t.Fatalf("bad heredoc %+v", h)
				}
			}
			c.Name()
		}
	})
}
