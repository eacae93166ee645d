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
		"an allowed hub or package index also accepts uploads, so the rule still reports it and names the list.",
	Remediation: "Block all outbound network access during untrusted stages. Pre-download all dependencies in a " +
		"separate, earlier stage.",
}, func(p *Pass) {
	for _, s := range p.Graph.Stages {
		if !s.Network.Access.MaybeTrue() || !s.RunsUntrustedCode.MaybeTrue() {
			continue
		}
		msg := "Stage '" + s.Name + "' has network access while running untrusted code. Enables data " +
			"exfiltration and command-and-control."
		evidence := "has_network_access=" + s.Network.Access.String()
		if len(s.Network.Allow) > 0 {
			msg += " Egress is limited to " + nameList(s.Network.Allow) + ", which still carries data out."
			evidence = "has_network_access=" + evidenceList(s.Network.Allow)
		}
		msg += assumed(s.Network.Access, "network access") + assumed(s.RunsUntrustedCode, "whether it runs untrusted code")
		p.Report(s, s.FieldPos("has_network_access"), msg, evidence)
	}
})
