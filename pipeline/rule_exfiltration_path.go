package pipeline

import "github.com/mlgate/mlgate/finding"

// ExfiltrationPath reports stages that combine secrets, network access and
// untrusted input.
var ExfiltrationPath = register(finding.Rule{
	ID:       "pipeline/exfiltration-path",
	Title:    "Exfiltration path: secrets, network and untrusted input in one stage",
	Severity: finding.High,
	Doc: "A stage holds secrets, can reach the network, and consumes an untrusted artifact that no gate " +
		"checked (declared `trust: untrusted`, or produced — directly or transitively — by a stage that runs " +
		"untrusted code). Untrusted inputs are how attacker-controlled bytes reach code: a pickled model, a " +
		"dataset loader, a config that selects a remote code path. With secrets and network in the same stage " +
		"the whole exfiltration chain is present, even when the stage's own code is trusted.",
	Remediation: "Split the stage: process untrusted inputs with no secrets and no network, and hand only " +
		"verified results to a separate stage that holds the secrets. Or scan/verify the input in a gate " +
		"stage first.",
}, func(p *Pass) {
	g := p.Graph
	for _, s := range g.Order() {
		if len(s.Secrets) == 0 || !s.Network.Access.MaybeTrue() {
			continue
		}
		for _, in := range g.UncheckedTaintedInputs(s) {
			why, _ := g.Taint(in.Artifact)
			p.Report(s, in.Pos,
				"Stage '"+s.Name+"' holds secrets ("+nameList(s.SecretNames())+"), has network access, "+
					"and consumes untrusted artifact '"+in.Artifact+"' ("+why+")."+assumed(s.Network.Access, "network access"),
				"artifact="+in.Artifact+" secrets="+evidenceList(s.SecretNames()))
		}
	}
})
