package pipeline

import "github.com/mlgate/mlgate/finding"

// RunnerUnspecified reports sensitive stages that do not say what runs them.
// Off by default: enable it in .mlgate.yaml.
var RunnerUnspecified = register(finding.Rule{
	ID:       "pipeline/runner-unspecified",
	Title:    "Sensitive stage does not declare its runner",
	Severity: finding.Info,
	Doc: "A stage that holds secrets or runs untrusted code does not declare its runner (shared, dedicated " +
		"or ephemeral), so the shared-runner rule cannot decide whether state leaks between stages. The seed " +
		"checklist's first item is that build runners are dedicated. Disabled by default; enable it to make " +
		"every sensitive stage state its runner.",
	Remediation:     "Declare `runner: dedicated` or `runner: ephemeral` (or `shared`, to be audited) on the stage.",
	DefaultDisabled: true,
}, func(p *Pass) {
	for _, s := range p.Graph.Stages {
		if s.Runner != RunnerUnknown {
			continue
		}
		if len(s.Secrets) == 0 && s.RunsUntrustedCode == False {
			continue
		}
		p.Report(s, s.Pos, "Stage '"+s.Name+"' holds secrets or runs untrusted code but does not declare its runner.",
			"runner=unknown")
	}
})
