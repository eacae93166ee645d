package pipeline

import "github.com/mlgate/mlgate/finding"

// NetworkAccessUntrusted is the seed mapper's network_access_untrusted vector.
var NetworkAccessUntrusted = register(finding.Rule{
	ID:       "pipeline/network-access-untrusted",
	Title:    "Network access while running untrusted code",
	Severity: finding.High,
	Doc: "A stage that runs untrusted code can reach the network. That is the channel for exfiltrating " +
		"data, models and credentials, for command and control, and for pulling second-stage payloads such " +
		"as cryptominers onto GPU runners. An egress allow-list narrows the channel but does not close it: " +
		"an allowed hub or package index also accepts uploads, so the rule still reports it and names the list. A fresh hosted VM (isolation vm, ephemeral runner) that holds " +
		"no secrets and no GPU is not reported: untrusted code there has nothing to take but its own source." +
		" When a pipeline format cannot say whether a stage runs untrusted code (Kubeflow and Argo files, CI jobs whose trigger depends on an expression), such stages are reported together, once per pipeline, at a lower severity, with the assumption spelled out.",
	Remediation: "Block all outbound network access during untrusted stages. Pre-download all dependencies in a " +
		"separate, earlier stage.",
}, func(p *Pass) {
	var unsure assumedStages
	for _, s := range p.Graph.Stages {
		if !s.Network.Access.MaybeTrue() || !s.RunsUntrustedCode.MaybeTrue() || nothingToTake(s) {
			continue
		}
		if s.RunsUntrustedCode == Unknown {
			unsure.add(s)
			continue
		}
		msg := "Stage '" + s.Name + "' has network access while running untrusted code. Enables data " +
			"exfiltration and command-and-control."
		evidence := "has_network_access=" + s.Network.Access.String()
		if len(s.Network.Allow) > 0 {
			msg += " Egress is limited to " + nameList(s.Network.Allow) + ", which still carries data out."
			evidence = "has_network_access=" + evidenceList(s.Network.Allow)
		}
		msg += assumed(s.Network.Access, "network access")
		p.Report(s, s.FieldPos("has_network_access"), msg, evidence)
	}
	unsure.report(p, "may have network access while running untrusted code", finding.Low)
})

// nothingToTake reports whether untrusted code in s, network or not, has
// nothing beyond its own source to steal or abuse: a fresh hosted VM
// (isolation vm or stronger, ephemeral runner) with no secrets and no GPU.
// Fork pull requests on hosted runners are the common case; the seed's
// vector is about stages that hold something.
func nothingToTake(s *Stage) bool {
	return s.Isolation >= IsolationVM && s.Runner == RunnerEphemeral && len(s.Secrets) == 0 && s.GPU == False
}
