package kfp

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// PVCSharedWithUntrusted reports persistent volume claims that a task
// consuming an untrusted (imported) artifact shares with later tasks.
var PVCSharedWithUntrusted = pipeline.Register(finding.Rule{
	ID:       "pipeline/kfp-pvc-shared-with-untrusted",
	Title:    "PVC shared between a task that handles imported artifacts and later tasks",
	Severity: finding.High,
	Doc: "A task that consumes an untrusted artifact — one brought in by an importer from outside the pipeline " +
		"(`gs://`, `s3://`, `hf://`, `https://`), directly or through other tasks that no scan task checked — mounts " +
		"a persistent volume claim (`kubernetes.mount_pvc`) that later tasks also mount. Whatever the untrusted " +
		"artifact makes that task do (a pickle payload in a model, a path-traversal archive, a poisoned dataset " +
		"written to a cache) lands on the shared volume, where the later tasks — training, evaluation, registration — " +
		"pick it up as if it were their own files: model or dataset poisoning that never passes through an artifact " +
		"edge a scan task could check. The graph models the volume as an artifact passed in task order, so the " +
		"taint also reaches the later tasks in the other rules.",
	Remediation: "Give the task that handles the imported artifact its own volume (or an emptyDir), pass only " +
		"scanned, verified outputs on as KFP artifacts, and mount shared PVCs read-only where tasks only read.",
}, func(p *pipeline.Pass) {
	_, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	g := p.Graph
	mounts := map[string][]*pipeline.Stage{}
	var order []string
	for _, s := range g.Order() {
		for _, v := range s.Volumes {
			if v.Kind != "pvc" {
				continue
			}
			if len(mounts[v.Name]) == 0 {
				order = append(order, v.Name)
			}
			if l := mounts[v.Name]; len(l) == 0 || l[len(l)-1] != s {
				mounts[v.Name] = append(l, s)
			}
		}
	}
	for _, name := range order {
		list := mounts[name]
		for i, s := range list {
			if i == len(list)-1 {
				break
			}
			origin := untrustedOrigin(g, s)
			if origin == "" {
				continue
			}
			var later []string
			for _, l := range list[i+1:] {
				later = append(later, "'"+l.Name+"'")
			}
			pos := s.Pos
			for _, v := range s.Volumes {
				if v.Name == name {
					pos = v.Pos
					break
				}
			}
			p.Report(s, pos, "Task '"+s.Name+"' consumes an untrusted artifact ("+origin+") and mounts "+
				strings.TrimPrefix(name, "pvc:")+", which later task(s) "+listOr(later, "")+" also mount; what it "+
				"writes there reaches them unchecked.", "pvc="+name)
			break
		}
	}
})

// untrustedOrigin returns the taint origin of the first unchecked input of s
// that comes from an untrusted input (an importer), not from a stage merely
// assumed to run untrusted code, or "".
func untrustedOrigin(g *pipeline.Graph, s *pipeline.Stage) string {
	for _, in := range g.UncheckedTaintedInputs(s) {
		if strings.HasPrefix(in.Artifact, "volume ") {
			continue
		}
		if in.Trust == pipeline.TrustUntrusted {
			return "untrusted input " + in.Artifact
		}
		why, _ := g.Taint(in.Artifact)
		if strings.HasPrefix(why, "untrusted input") {
			return why
		}
	}
	return ""
}
