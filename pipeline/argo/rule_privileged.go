package argo

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// dangerousCaps are capabilities that amount to root on the node or let a
// container escape or spy on others.
var dangerousCaps = map[string]bool{
	"ALL": true, "SYS_ADMIN": true, "SYS_PTRACE": true, "SYS_MODULE": true, "DAC_READ_SEARCH": true,
	"SYS_RAWIO": true, "BPF": true, "NET_ADMIN": true, "SYS_BOOT": true, "MAC_ADMIN": true,
}

// PrivilegedContainer reports templates that run privileged containers or
// add capabilities that break container isolation.
var PrivilegedContainer = pipeline.Register(finding.Rule{
	ID:       "pipeline/argo-privileged-container",
	Title:    "Argo template runs a privileged container",
	Severity: finding.High,
	Doc: "A template's container, init container or sidecar sets `securityContext.privileged: true` (also when " +
		"written in `podSpecPatch`), or adds a capability that breaks container isolation (SYS_ADMIN, SYS_PTRACE, " +
		"SYS_MODULE, NET_ADMIN, BPF, ALL...). A privileged container has all devices of the node and can mount its " +
		"disks, load kernel modules and reach every other pod's processes: code running in it — a step's script, a " +
		"dependency, a model file that executes on load — owns the node, its GPUs and every secret of the pods " +
		"scheduled there. Docker-in-Docker sidecars for image builds are the usual cause. The stage's isolation is " +
		"recorded as none.",
	Remediation: "Drop `privileged` and the added capabilities; build images with a rootless builder (BuildKit " +
		"rootless, kaniko) and run GPU work with the device plugin's resources rather than privileged access.",
}, func(p *pipeline.Pass) {
	d, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		pod := d.Pod(s)
		if pod.Privileged.Set && seen.First(pod.Privileged.Pos, "privileged") {
			p.Report(s, pod.Privileged.Pos, "Stage '"+s.Name+"' (template '"+x.Templates[s].Name+"') runs a privileged "+
				"container ("+pod.Privileged.Value+"): code in it controls the node.", "privileged")
		}
		for _, c := range pod.AddedCapabilities {
			if dangerousCaps[c.Name] && seen.First(c.Pos, c.Name) {
				p.Report(s, c.Pos, "Stage '"+s.Name+"' adds capability "+c.Name+", which lets code in the container "+
					"escape it or reach other workloads on the node.", "capability="+c.Name)
			}
		}
	}
})
