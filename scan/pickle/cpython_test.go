package pickle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCPythonFixtures runs the VM over pickles CPython wrote
// (testdata/cpython/gen.py): every protocol of plain data must be clean and
// complete; every payload must be reported as the call CPython encoded.
func TestCPythonFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/cpython/*.pkl")
	if len(files) < 15 {
		t.Fatalf("only %d fixtures", len(files))
	}
	want := map[string]string{
		// Protocols 0-2 carry Python 2 names (commands, __builtin__) that
		// the unpickler maps back; the message shows the name as written.
		"evil_os_system":  "posix.system('echo pwned')",
		"evil_subprocess": "check_output(['id'])",
		"evil_eval":       "eval('__import__(\\'os\\').system(\\'id\\')')",
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			r, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			res := Analyze(r, &Policy{}, DefaultLimits)
			if res.Stats.Pickles != 1 || !res.Stats.Complete {
				t.Errorf("stats %+v", res.Stats)
			}
			if strings.HasPrefix(name, "plain_") {
				for _, is := range res.Issues {
					t.Errorf("benign fixture: %s: %s", is.Kind, is.Message)
				}
				return
			}
			prefix := name[:strings.LastIndex(name, "_p")]
			call := want[prefix]
			if !has(res, IssueDangerousGlobal, call) {
				t.Errorf("want a dangerous-global naming %s, got %v", call, res.Issues)
			}
		})
	}
}
