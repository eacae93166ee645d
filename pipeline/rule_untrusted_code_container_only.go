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
		"but not a boundary for hostile code; the seed mapper grades this medium.",
	Remediation: "Add gVisor/Firecracker sandboxing. Remove network access and secrets from the container.",
}, func(p *Pass) {
	for _, s := range p.Graph.Stages {
		if !s.RunsUntrustedCode.MaybeTrue() || s.Isolation != IsolationContainer {
			continue
		}
		p.Report(s, s.FieldPos("isolation_level", "runs_untrusted_code"),
			"Stage '"+s.Name+"' runs untrusted code in a container. Container escapes are possible."+
				assumed(s.RunsUntrustedCode, "whether it runs untrusted code"),
			"runs_untrusted_code="+s.RunsUntrustedCode.String()+" isolation_level=container")
	}
})
