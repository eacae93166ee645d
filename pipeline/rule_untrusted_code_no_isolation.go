package pipeline

import "github.com/mlgate/mlgate/finding"

// UntrustedCodeNoIsolation is the seed mapper's untrusted_code_no_isolation vector.
var UntrustedCodeNoIsolation = register(finding.Rule{
	ID:       "pipeline/untrusted-code-no-isolation",
	Title:    "Untrusted code runs without isolation",
	Severity: finding.Critical,
	Doc: "A stage that runs untrusted code (user-provided scripts, training code from a pull request, " +
		"a pickled model or dataset loader) has isolation_level none. Any code in model files, training " +
		"scripts or dependencies then executes with the full permissions of the pipeline: the runner's " +
		"credentials, its network, its caches and every other job that later runs on it. This is the " +
		"first vector of the seed attack-surface mapper and the root of the Hugging Face cross-tenant " +
		"CI/CD compromise." +
		" When a pipeline format cannot say whether a stage runs untrusted code (Kubeflow and Argo files, CI jobs whose trigger depends on an expression), such stages are reported together, once per pipeline, at a lower severity, with the assumption spelled out.",
	Remediation: "Run in isolated container with no network access, no secrets, and restricted filesystem. " +
		"Use gVisor or Firecracker for stronger isolation.",
}, func(p *Pass) {
	var unsure assumedStages
	for _, s := range p.Graph.Stages {
		if !s.RunsUntrustedCode.MaybeTrue() {
			continue
		}
		if s.Isolation != IsolationNone && s.Isolation != IsolationUnknown {
			continue
		}
		if s.RunsUntrustedCode == Unknown || s.Isolation == IsolationUnknown {
			unsure.add(s)
			continue
		}
		msg := "Stage '" + s.Name + "' runs untrusted code without isolation. Any code in model files, " +
			"training scripts, or dependencies can execute with full pipeline permissions."
		if s.Isolation == IsolationUnknown {
			msg += " (its isolation level could not be determined; assumed none)"
		}
		p.Report(s, s.FieldPos("isolation_level", "runs_untrusted_code"), msg,
			"runs_untrusted_code="+s.RunsUntrustedCode.String()+" isolation_level="+s.Isolation.String())
	}
	unsure.reportAs(p, "may run untrusted code without isolation", "whether they run untrusted code, or how they are isolated,", finding.Medium)
})
