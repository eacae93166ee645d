package argo

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// RunAsRoot reports templates that explicitly run as root.
var RunAsRoot = pipeline.Register(finding.Rule{
	ID:       "pipeline/argo-run-as-root",
	Title:    "Argo template explicitly runs as root",
	Severity: finding.Medium,
	Doc: "A template or the workflow's pod security context sets `runAsUser: 0` or `runAsNonRoot: false`. Root " +
		"in the container is root on any host path, shared volume or device mounted into it, and is one kernel bug " +
		"or misconfiguration away from root on the node. Only explicit settings are reported: many images run as " +
		"root by default, which the workflow file cannot show (set `runAsNonRoot: true` to make the cluster refuse them).",
	Remediation: "Set `securityContext: {runAsNonRoot: true, runAsUser: <non-zero>}` on the workflow (spec.securityContext) " +
		"or the template, and build images with a non-root USER.",
}, func(p *pipeline.Pass) {
	d, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		pod := d.Pod(s)
		if pod.RunAsRoot.Set && seen.First(pod.RunAsRoot.Pos, "") {
			p.Report(s, pod.RunAsRoot.Pos, "Stage '"+s.Name+"' runs as root ("+pod.RunAsRoot.Value+").", pod.RunAsRoot.Value)
		}
	}
})
