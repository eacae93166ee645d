package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func check(t *testing.T, name string) (*Info, []Problem) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Check(bytes.NewReader(b), int64(len(b)))
}

// Fixtures written by the real onnx package (testdata/gen.py).
func TestRealModels(t *testing.T) {
	for _, name := range []string{"benign_add.onnx", "benign_if.onnx", "benign_external.onnx"} {
		info, problems := check(t, name)
		for _, p := range problems {
			t.Errorf("%s: %s: %s", name, p.Kind, p.Msg)
		}
		if info.Nodes == 0 || info.Producer == "" && info.IRVersion == 0 {
			t.Errorf("%s: nothing parsed: %+v", name, info)
		}
	}
	info, _ := check(t, "benign_if.onnx")
	if info.Nodes != 3 {
		t.Errorf("subgraph nodes not walked: %d nodes", info.Nodes)
	}
	info, _ = check(t, "benign_external.onnx")
	if len(info.ExternalFiles) != 1 || info.ExternalFiles[0] != "weights.bin" {
		t.Errorf("external files %v", info.ExternalFiles)
	}
}

func TestExternalDataTraversal(t *testing.T) {
	_, problems := check(t, "evil_external_traversal.onnx")
	if len(problems) != 1 || problems[0].Kind != KindExternalData || !strings.Contains(problems[0].Msg, "../../../../etc/passwd") {
		t.Errorf("problems %+v", problems)
	}
}

func TestCustomDomain(t *testing.T) {
	_, problems := check(t, "custom_domain.onnx")
	if len(problems) != 1 || problems[0].Kind != KindCustomDomain || !strings.Contains(problems[0].Msg, "com.example.secret") {
		t.Errorf("problems %+v", problems)
	}
}

func TestMalformed(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "benign_add.onnx"))
	for name, bad := range map[string][]byte{
		"truncated":       b[:len(b)-3],
		"bad wire type":   append([]byte{0x0f}, b...),
		"length overflow": {0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"field number 0":  {0x00, 0x01},
	} {
		if _, problems := Check(bytes.NewReader(bad), int64(len(bad))); len(problems) == 0 || problems[0].Kind != KindMalformed {
			t.Errorf("%s: %+v", name, problems)
		}
	}
}

func TestAbsoluteAndWindowsPaths(t *testing.T) {
	c := &checker{info: &Info{}}
	for loc, bad := range map[string]bool{
		"weights.bin": false, "sub/dir/w.bin": false, "./w.bin": false, "a/../w.bin": false,
		"/etc/shadow": true, "../w.bin": true, "a/../../w.bin": true, `..\..\w.bin`: true, "C:/w.bin": true,
		"file:///etc/passwd": true, "": true,
	} {
		c.problems = nil
		c.externalData("t", loc, 0)
		if (len(c.problems) > 0) != bad {
			t.Errorf("%q: problems %v", loc, c.problems)
		}
	}
}

func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.onnx")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, problems := Check(bytes.NewReader(b), int64(len(b)))
		if len(problems) > maxProblems {
			t.Fatalf("%d problems", len(problems))
		}
		for _, p := range problems {
			if p.Msg == "" || len(p.Msg) > 8192 {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}
