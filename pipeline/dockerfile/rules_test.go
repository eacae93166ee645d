package dockerfile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/config"
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/dockerfile"
	_ "github.com/mlgate/mlgate/pipeline/practice" // the cross-format script rules
)

func analyze(t *testing.T, src string) []finding.Finding {
	t.Helper()
	g, err := dockerfile.ToGraph("Dockerfile", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	fs, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// at returns "line:col" of the findings of rule id.
func at(fs []finding.Finding, id string) string {
	var out []string
	for _, f := range fs {
		if f.RuleID == id {
			out = append(out, fmt.Sprintf("%d:%d", f.Location.Line, f.Location.Column))
		}
	}
	return strings.Join(out, " ")
}

type dcase struct {
	name, src, want string
}

func runCases(t *testing.T, id string, cases []dcase) {
	t.Helper()
	pos, neg := false, false
	for _, c := range cases {
		if c.want != "" {
			pos = true
		} else {
			neg = true
		}
		t.Run(c.name, func(t *testing.T) {
			fs := analyze(t, c.src)
			if got := at(fs, id); got != c.want {
				t.Errorf("%s: got %q, want %q\n%s", id, got, c.want, c.src)
				for _, f := range fs {
					t.Logf("  %s %d:%d %s", f.RuleID, f.Location.Line, f.Location.Column, f.Message)
				}
			}
		})
	}
	if !pos || !neg {
		t.Errorf("%s needs both triggering cases and look-alikes", id)
	}
}

func TestRootUser(t *testing.T) {
	runCases(t, dockerfile.RootUser.ID, []dcase{
		{"no user", "FROM python:3.11\nRUN echo\n", "1:1"},
		{"user root last", "FROM python:3.11\nUSER app\nRUN x\nUSER root\n", "4:1"},
		{"uid 0 with group", "FROM python:3.11\nUSER 0:0\n", "2:1"},
		{"root final after non-root builder", "FROM a AS b\nUSER app\nFROM python:3.11\nCOPY --from=b /x /x\n", "3:1"},
		{"nonroot final after root builder", "FROM python:3.11 AS build\nRUN pip install --require-hashes -r r.txt\nFROM python:3.11-slim\nUSER 10001\n", ""},
		{"inherits user from parent stage", "FROM python:3.11 AS base\nUSER app\nFROM base\nRUN echo\n", ""},
		{"distroless nonroot", "FROM gcr.io/distroless/python3:nonroot\nCOPY a /a\n", ""},
	})
}

func TestNetworkTools(t *testing.T) {
	runCases(t, dockerfile.NetworkTools.ID, []dcase{
		{"curl left", "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates\nUSER app\n", "2:66"},
		{"apk netcat", "FROM alpine\nRUN apk add --no-cache netcat-openbsd\nUSER app\n", "2:24"},
		{"purged later", "FROM debian\nRUN apt-get install -y curl wget\nRUN apt-get purge -y --auto-remove curl wget\nUSER app\n", ""},
		{"removed by rm", "FROM debian\nRUN apt-get install -y curl && do-things && rm -f /usr/bin/curl\nUSER app\n", ""},
		{"only in builder", "FROM debian AS b\nRUN apt-get install -y curl\nFROM debian\nCOPY --from=b /o /o\nUSER app\n", ""},
		{"echo", "FROM debian\nRUN echo apt-get install curl\nUSER app\n", ""},
	})
}

func TestSecretInArgEnv(t *testing.T) {
	runCases(t, dockerfile.SecretInArgEnv.ID, []dcase{
		{"literal token", "FROM a\nENV HF_TOKEN=hf_abc123\n", "2:1"},
		{"arg default", "FROM a\nARG API_KEY=\"abcd\"\n", "2:1"},
		{"arg without default", "FROM a\nARG GITHUB_TOKEN\n", "2:1"},
		{"env from arg", "ARG NPM_TOKEN\nFROM a\nENV NPM_TOKEN=$NPM_TOKEN\n", "1:1 3:1"},
		{"key-like value", "FROM a\nENV SOMETHING ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n", "2:1"},
		{"secret mount", "FROM a\nRUN --mount=type=secret,id=hf_token HF_TOKEN=$(cat /run/secrets/hf_token) python dl.py\n", ""},
		{"gpg key fingerprint", "FROM a\nENV GPG_KEY 7169605F62C751356D054A26A821E680E5FA6305\n", ""},
		{"token file path", "FROM a\nENV HF_TOKEN_PATH=/run/secrets/hf\n", ""},
		{"public key", "FROM a\nARG COSIGN_PUBLIC_KEY=abc\n", ""},
	})
	fs := analyze(t, "FROM a\nARG GITHUB_TOKEN\nENV PASSWORD=x\n")
	var sev []string
	for _, f := range fs {
		if f.RuleID == dockerfile.SecretInArgEnv.ID {
			sev = append(sev, f.Severity.String())
		}
	}
	if strings.Join(sev, ",") != "medium,high" {
		t.Errorf("severities %v", sev)
	}
}

func TestRemoteAdd(t *testing.T) {
	runCases(t, dockerfile.RemoteAdd.ID, []dcase{
		{"https", "FROM a\nADD https://x.example/m.tar.gz /m/\n", "2:1"},
		{"git branch", "FROM a\nADD https://github.com/o/r.git#main /src\n", "2:1"},
		{"checksum", "FROM a\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://x/m.tar.gz /m/\n", ""},
		{"git commit", "FROM a\nADD https://github.com/o/r.git#0123456789abcdef0123456789abcdef01234567 /src\n", ""},
		{"local", "FROM a\nADD model.tar.gz /m/\n", ""},
	})
}

// The cross-format script rules see RUN instructions with exact positions.
func TestScriptRulesOnDockerfile(t *testing.T) {
	src := "FROM python:3.11-slim@sha256:abc\n" +
		"RUN pip install --no-cache-dir \\\n" +
		"      torch \\\n" +
		"    # pinned later\n" +
		"      transformers\n" +
		"RUN curl -fsSL https://ollama.com/install.sh | sh\n" +
		"RUN <<EOF\n" +
		"python -c \"import torch; torch.load('m.pt')\"\n" +
		"EOF\n" +
		"RUN pip install --require-hashes -r r.txt\n" +
		"USER app\n"
	fs := analyze(t, src)
	for id, want := range map[string]string{
		"pipeline/unpinned-dependency-install": "2:5",
		"pipeline/remote-script-execution":     "6:5",
		"pipeline/torch-load-unsafe":           "8:26",
		"pipeline/unpinned-image":              "",
		"pipeline/no-dependency-scan":          "",
	} {
		if got := at(fs, id); got != want {
			t.Errorf("%s: got %q, want %q", id, got, want)
		}
	}
	// The continuation with a comment inside is one command: torch and
	// transformers are both in the message.
	for _, f := range fs {
		if f.RuleID == "pipeline/unpinned-dependency-install" && !strings.Contains(f.Message, "torch transformers") {
			t.Errorf("message %q", f.Message)
		}
	}
	fs = analyze(t, "FROM python:3.11\nUSER app\n")
	if got := at(fs, "pipeline/unpinned-image"); got != "1:6" {
		t.Errorf("unpinned FROM: %q", got)
	}
	fs = analyze(t, "ARG V=3.11\nFROM python:${V} AS b\nFROM b\nUSER app\n")
	if got := at(fs, "pipeline/unpinned-image"); got != "2:6" {
		t.Errorf("unpinned FROM via ARG, stage reuse not reported: %q", got)
	}
}

// Suppression comments in Dockerfiles are honoured through Graph.Comments,
// but text in a heredoc body is not a comment.
func TestSuppressionComments(t *testing.T) {
	src := "FROM python:3.11\n" +
		"# mlgate: ignore[pipeline/remote-script-execution] vendor installer, checked by hand\n" +
		"RUN curl -fsSL https://x | sh\n" +
		"RUN <<EOF\n" +
		"# mlgate: ignore[pipeline/unpinned-dependency-install] not a comment\n" +
		"pip install x\n" +
		"EOF\n"
	g, err := dockerfile.ToGraph("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sups := config.FilterSuppressions(config.ParseSuppressions("Dockerfile", []byte(src)), g.Comments)
	if len(sups) != 1 || sups[0].Line != 2 {
		t.Errorf("suppressions %+v (comments %q)", sups, g.Comments)
	}
}

// Blanks after a continuation backslash are accepted by Docker; the script
// must still read as one command.
func TestContinuationWithTrailingBlanks(t *testing.T) {
	fs := analyze(t, "FROM a@sha256:0\nRUN   \\  \n  pip install \\ \t\n    torch\nUSER app\n")
	if got := at(fs, "pipeline/unpinned-dependency-install"); got != "3:3" {
		t.Errorf("got %q", got)
	}
	for _, f := range fs {
		if f.RuleID == "pipeline/unpinned-dependency-install" && !strings.Contains(f.Message, "(torch)") {
			t.Errorf("message %q", f.Message)
		}
	}
}
