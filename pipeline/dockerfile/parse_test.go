package dockerfile

import (
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

func TestMatchPath(t *testing.T) {
	for rel, want := range map[string]bool{
		"Dockerfile": true, "docker/Dockerfile": true, "Dockerfile.gpu": true, "train.Dockerfile": true,
		"serve.dockerfile": true, "Containerfile": true, "dockerfile": true, "Containerfile.cuda": true,
		"Dockerfile.j2": false, "Dockerfile.md": false, "docs/Dockerfile.template": false, ".dockerfile": false,
		"Dockerfiles/readme.txt": false, "my-dockerfile": false, ".dockerignore": false,
	} {
		if got := MatchPath(rel); got != want {
			t.Errorf("MatchPath(%q) = %v, want %v", rel, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	src := "# syntax=docker/dockerfile:1\n" +
		"ARG BASE=python:3.11-slim\n" +
		"FROM ${BASE} AS builder\n" +
		"# a comment\n" +
		"RUN --mount=type=cache,target=/root/.cache \\\n" +
		"    pip install \\\n" +
		"    # comment inside\n" +
		"    torch\n" +
		"RUN <<EOF\n" +
		"set -e\n" +
		"curl -fsSL https://x | sh\n" +
		"EOF\n" +
		"FROM builder\n" +
		"COPY --from=builder /a /b\n" +
		"RUN [\"python\", \"-c\", \"print(1)\"]\n" +
		"USER app\n"
	f, err := Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Directives["syntax"] != "docker/dockerfile:1" || len(f.Stages) != 2 {
		t.Fatalf("directives %v, %d stages", f.Directives, len(f.Stages))
	}
	b := f.Stages[0]
	if b.Image != "python:3.11-slim" || b.Name != "builder" || b.ImagePos != (pipeline.Pos{Line: 3, Column: 6}) {
		t.Errorf("stage 0: %+v", b)
	}
	if f.Stages[1].Parent != b || f.Stages[1].Image != "" {
		t.Errorf("stage 1 should build on builder: %+v", f.Stages[1])
	}
	run := b.Instructions[0]
	if len(run.Flags) != 1 || run.Flags[0].Name != "mount" || run.ArgsPos != (pipeline.Pos{Line: 6, Column: 5}) {
		t.Errorf("RUN flags %+v args at %+v", run.Flags, run.ArgsPos)
	}
	if run.Args != "pip install     torch" {
		t.Errorf("joined args %q", run.Args)
	}
	hd := b.Instructions[1]
	if len(hd.Heredocs) != 1 || hd.Heredocs[0].Body != "set -e\ncurl -fsSL https://x | sh\n" || hd.Heredocs[0].BodyPos.Line != 10 {
		t.Errorf("heredoc %+v", hd.Heredocs)
	}
	want := []string{"# syntax=docker/dockerfile:1", "# a comment", "# comment inside"}
	if strings.Join(f.Comments, "|") != strings.Join(want, "|") {
		t.Errorf("comments %q", f.Comments)
	}
	if js := f.Stages[1].Instructions[1].JSON; len(js) != 3 {
		t.Errorf("JSON form %q", js)
	}
}

func TestParseEscapeDirective(t *testing.T) {
	src := "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN powershell -Command `\n    Invoke-WebRequest x\n"
	f, err := Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Escape != '`' || len(f.Stages) != 1 || len(f.Stages[0].Instructions) != 1 {
		t.Fatalf("%+v", f)
	}
	if got := f.Stages[0].Instructions[0].Args; got != "powershell -Command     Invoke-WebRequest x" {
		t.Errorf("args %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"unknown instruction":  "FROM a\nFORM b\n",
		"before from":          "RUN x\nFROM a\n",
		"no from":              "# only a comment\n",
		"unterminated heredoc": "FROM a\nRUN <<EOF\necho\n",
	} {
		if _, err := Parse("Dockerfile", []byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		} else if _, ok := err.(pipeline.SourceErrors); !ok {
			t.Errorf("%s: error type %T", name, err)
		}
	}
	if _, err := Parse("Dockerfile", []byte("ARG V=1\nFROM a:${V}\n\n\nRUN echo\n")); err != nil {
		t.Errorf("ARG before FROM: %v", err)
	}
}

func TestToGraph(t *testing.T) {
	src := "FROM python:3.11 AS build\n" +
		"RUN --mount=type=secret,id=hf_token \\\n" +
		"    HF_TOKEN=$(cat /run/secrets/hf_token) pip install -r r.txt\n" +
		"FROM gcr.io/distroless/python3@sha256:abc\n" +
		"COPY --from=build /app /app\n"
	g, err := ToGraph("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Stages) != 2 || g.Format != Format {
		t.Fatalf("%+v", g)
	}
	s0, s1 := g.Stages[0], g.Stages[1]
	if s0.Kind != StageKind || len(s0.Steps) != 1 || s0.Network.Access != pipeline.True || s1.Network.Access != pipeline.False {
		t.Errorf("stages %+v %+v", s0, s1)
	}
	st := s0.Steps[0]
	if len(st.Secrets) != 1 || st.Secrets[0].Name != "hf_token" || len(s0.Secrets) != 0 {
		t.Errorf("secrets %+v / %+v", st.Secrets, s0.Secrets)
	}
	// The step's script maps back to the source.
	off := strings.Index(st.Run, "pip")
	if p := st.PosAt(off); p != (pipeline.Pos{Line: 3, Column: 43}) {
		t.Errorf("pip at %+v", p)
	}
	if len(s1.Inputs) != 1 || s1.Inputs[0].Artifact != "dockerfile-stage:build" {
		t.Errorf("COPY --from edge: %+v", s1.Inputs)
	}
	if err := g.Build(); err != nil || len(g.Ancestors(s1)) != 1 {
		t.Errorf("build: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"FROM a AS b\nRUN x \\\n # c\n y\nFROM b\nUSER 0\n",
		"# escape=`\nFROM a\nRUN a `\n b\n",
		"ARG X=1\nFROM ${X:-y}\nRUN <<-EOF cat <<'E2'\n\tbody\n\tEOF\nE2\n",
		"FROM a\nADD --checksum=sha256:0 https://x /y\nENV A=1 B=\"2 3\"\nENV C 4\n",
		"FROM a\nRUN [\"sh\", \"-c\", \"echo\"]\n",
		"\ufeffFROM a\r\nRUN b \\\r\n c\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ToGraph("Dockerfile", data)
		if err != nil {
			return
		}
		if err := g.Build(); err != nil {
			t.Fatalf("build: %v", err)
		}
		for _, s := range g.Stages {
			for i := range s.Steps {
				st := &s.Steps[i]
				for off := 0; off <= len(st.Run); off += 1 + len(st.Run)/8 {
					if p := st.PosAt(off); p.Line < 0 || p.Column < 0 {
						t.Fatalf("bad position %+v", p)
					}
				}
			}
		}
		if _, err := pipeline.Analyze(g, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
	})
}
