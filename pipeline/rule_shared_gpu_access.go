package pipeline

import "github.com/mlgate/mlgate/finding"

// SharedGPUAccess is the seed mapper's shared_gpu_access vector.
var SharedGPUAccess = register(finding.Rule{
	ID:       "pipeline/shared-gpu-access",
	Title:    "GPU used without hardware isolation",
	Severity: finding.Medium,
	Doc: "A stage uses a GPU with isolation_level none or container. GPU memory is not reliably cleared " +
		"between jobs, so a later job on the same device can read weights, activations and data left by an " +
		"earlier one, and a hostile job can probe a concurrent one. Only VM-level or hardware isolation " +
		"(dedicated nodes, MIG partitions) keeps tenants apart.",
	Remediation: "Clear GPU memory between jobs. Use MIG (Multi-Instance GPU) or dedicated GPU nodes for " +
		"sensitive workloads.",
}, func(p *Pass) {
	var unsure assumedStages
	for _, s := range p.Graph.Stages {
		if !s.GPU.MaybeTrue() {
			continue
		}
		switch s.Isolation {
		case IsolationNone, IsolationContainer, IsolationUnknown:
		default:
			continue
		}
		if s.GPU == Unknown {
			unsure.add(s)
			continue
		}
		msg := "Stage '" + s.Name + "' uses GPU without hardware isolation. GPU memory may retain data from " +
			"previous jobs."
		if s.Isolation == IsolationUnknown {
			msg += " (its isolation level could not be determined; assumed none)"
		}
		p.Report(s, s.FieldPos("has_gpu_access"), msg,
			"has_gpu_access="+s.GPU.String()+" isolation_level="+s.Isolation.String())
	}
	unsure.reportAs(p, "may use a GPU without hardware isolation", "whether they get a GPU (their runner)", finding.Low)
})
