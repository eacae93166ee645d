package gha

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

// FuzzParse checks that no input makes the parser or the rules panic or
// hang, and that errors carry the file name.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "rules", "*", "*.yml"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b, ".github/workflows/x.yml")
		}
	}
	f.Add([]byte("runs:\n  using: composite\n  steps:\n    - run: echo ${{ inputs.x }}\n"), "action.yml")
	f.Add([]byte("on: [push]\njobs:\n  a:\n    runs-on: ${{ matrix.x.y }}\n    strategy: {matrix: {x: [{y: [a, gpu]}], include: [{x: {y: z}}]}}\n"), "")
	f.Add([]byte("on: issue_comment\njobs:\n  a:\n    if: (github.event_name == 'x' || (a && b)) && contains('a', github.ref)\n    steps:\n      - run: echo \"${{ secrets['A'] && toJSON(secrets) }}\"\n"), "")
	f.Fuzz(func(t *testing.T, src []byte, rel string) {
		g, err := Parse("f.yml", rel, src)
		if err != nil {
			se, ok := err.(pipeline.SourceErrors)
			if !ok || len(se) == 0 || se[0].File != "f.yml" {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		if _, err := pipeline.Analyze(g, allRules); err != nil {
			t.Fatalf("analyze: %v", err)
		}
	})
}
