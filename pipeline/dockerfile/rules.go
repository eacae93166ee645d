package dockerfile

import (
	"strings"

	"github.com/mlgate/mlgate/pipeline"
)

// fileOf returns the parsed Dockerfile of a graph, or nil for other
// formats.
func fileOf(g *pipeline.Graph) *File {
	if g.Format != Format {
		return nil
	}
	f, _ := g.Doc.(*File)
	return f
}

// lineage returns the final stage and the stages it builds FROM, final
// first.
func (f *File) lineage() []*BuildStage {
	if len(f.Stages) == 0 {
		return nil
	}
	var out []*BuildStage
	seen := map[*BuildStage]bool{}
	for s := f.Stages[len(f.Stages)-1]; s != nil && !seen[s]; s = s.Parent {
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// stageNamed returns the graph stage for a build stage.
func stageNamed(g *pipeline.Graph, name string) *pipeline.Stage {
	for _, s := range g.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}
