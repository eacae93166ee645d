package k8s

import (
	"strconv"

	"github.com/mlgate/mlgate/pipeline"
)

// ChainVolumes links stages that mount the same persistent volume (a PVC or
// host path), in
// stage order: the n-th mounting stage consumes version n-1 and, unless
// the mount is read-only, produces version n.
func ChainVolumes(stages []*pipeline.Stage) {
	last := map[string]string{}
	count := map[string]int{}
	for _, s := range stages {
		seen := map[string]bool{}
		for _, v := range s.Volumes {
			if v.Kind == "emptyDir" || seen[v.Name] {
				continue
			}
			seen[v.Name] = true
			if prev, ok := last[v.Name]; ok {
				s.Inputs = append(s.Inputs, pipeline.Input{Artifact: prev, Pos: v.Pos})
			}
			if v.ReadOnly == pipeline.True {
				continue
			}
			count[v.Name]++
			name := "volume " + v.Name + "#" + strconv.Itoa(count[v.Name])
			s.Outputs = append(s.Outputs, pipeline.Output{Artifact: name, Pos: v.Pos})
			last[v.Name] = name
		}
	}
}
