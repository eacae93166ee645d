package pipeline

import "github.com/mlgate/mlgate/finding"

// UntrustedCodeContainerOnly is the seed mapper's untrusted_code_container_only vector.
var UntrustedCodeContainerOnly = register(finding.Rule{
	ID:       "pipeline/untrusted-code-container-only",
	Title:    "Untrusted code isolated by a container only",
	Severity: finding.Medium,
	Doc: "A stage runs untrusted code inside an ordinary container (isolation_level container). A container " +
		"shares the host kernel: a kernel or runtime exploit, a privileged flag, a mounted Docker socket or a " +
		"writable host path turns code in a model file into code on the runner. Containers are a useful layer " +
		"but not a boundary for hostile code; the seed mapper grades this medium." +
		" When a pipeline format cannot say whether a stage runs untrusted code (Kubeflow and Argo files, CI jobs whose trigger depends on an expression), such stages are reported together, once per pipeline, at a lower severity, with the assumption spelled out.",
	Remediation: "Add gVisor/Firecracker sandboxing. Remove network access and secrets from the container.",
}, func(p *Pass) {
	var unsure assumedStages
	for _, s := range p.Graph.Stages {
		if !s.RunsUntrustedCode.MaybeTrue() || s.Isolation != IsolationContainer {
			continue
		}
		if s.RunsUntrustedCode == Unknown {
			unsure.add(s)
			continue
		}
		p.Report(s, s.FieldPos("isolation_level", "runs_untrusted_code"),
			"Stage '"+s.Name+"' runs untrusted code in a container. Container escapes are possible.",
			"runs_untrusted_code="+s.RunsUntrustedCode.String()+" isolation_level=container")
	}
	unsure.report(p, "run in containers only", finding.Low)
})
