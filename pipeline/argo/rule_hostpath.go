package argo

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// HostPathVolume reports hostPath volumes mounted into steps.
var HostPathVolume = pipeline.Register(finding.Rule{
	ID:       "pipeline/argo-host-path-volume",
	Title:    "Argo step mounts a host path",
	Severity: finding.High,
	Doc: "A template mounts a `hostPath` volume: a directory of the Kubernetes node itself. Every workflow " +
		"and pod scheduled on that node that mounts the same path shares it, so a step can plant files that " +
		"later steps or other teams' jobs load (a model or dataset cache poisoned for the next training run), " +
		"and read what they left. Sensitive paths — `/`, the container runtime socket (`/var/run/docker.sock`), " +
		"`/proc`, `/sys`, `/etc`, `/var/lib/kubelet`, `/root`, `/home`, `/dev` — give control of the node and " +
		"are reported High; other host paths (shared caches, scratch disks) Medium. Read-only mounts of " +
		"non-sensitive paths are Low.",
	Remediation: "Use a PersistentVolumeClaim scoped to the workflow (volumeClaimTemplates) or an emptyDir; " +
		"never mount the runtime socket — build images with a rootless builder instead; if a node cache is " +
		"unavoidable, mount it read-only and populate it from a verified source.",
}, func(p *pipeline.Pass) {
	_, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		for _, v := range s.Volumes {
			if v.Kind != "hostPath" || !seen.First(v.Pos, v.Name) {
				continue
			}
			path := strings.TrimPrefix(v.Name, "hostPath:")
			sensitive := k8s.SensitiveHostPath(path)
			msg := "Stage '" + s.Name + "' mounts host path '" + path + "'"
			if v.Path != "" {
				msg += " at " + v.Path
			}
			if sensitive {
				msg += "; it exposes the node itself."
			} else {
				msg += "; other workloads on the node share what is written there."
			}
			f := p.Report(s, v.Pos, msg, v.Name)
			switch {
			case sensitive:
			case v.ReadOnly == pipeline.True:
				f.Severity = finding.Low
			default:
				f.Severity = finding.Medium
			}
		}
	}
})
