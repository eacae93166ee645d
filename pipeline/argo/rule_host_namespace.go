package argo

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// HostNamespace reports pods that share the node's network, PID or IPC
// namespace.
var HostNamespace = pipeline.Register(finding.Rule{
	ID:       "pipeline/argo-host-namespace",
	Title:    "Argo workflow shares the node's network, PID or IPC namespace",
	Severity: finding.High,
	Doc: "The workflow or a template sets `hostNetwork`, `hostPID` or `hostIPC` (also inside `podSpecPatch`). " +
		"With hostNetwork the pod bypasses NetworkPolicies and can reach the node's local services (kubelet, cloud " +
		"metadata endpoint, other pods' localhost ports); with hostPID it sees and can signal or trace every process " +
		"on the node; with hostIPC it shares the node's shared memory — where GPU frameworks such as NCCL exchange " +
		"tensors. Any code in the step can then read other workloads' data and credentials.",
	Remediation: "Remove hostNetwork/hostPID/hostIPC; for multi-node GPU training use the CNI and a dedicated " +
		"RDMA/network device plugin rather than the host namespaces.",
}, func(p *pipeline.Pass) {
	d, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		pod := d.Pod(s)
		for _, f := range []k8s.Flag{pod.HostNetwork, pod.HostPID, pod.HostIPC} {
			if f.Set && seen.First(f.Pos, f.Value) {
				ns := "network"
				switch {
				case strings.HasPrefix(f.Value, "hostPID"):
					ns = "process (PID)"
				case strings.HasPrefix(f.Value, "hostIPC"):
					ns = "IPC"
				}
				p.Report(s, f.Pos, "Stage '"+s.Name+"' runs with "+f.Value+": it shares the node's "+ns+
					" namespace with every other workload there.", f.Value)
			}
		}
	}
})
