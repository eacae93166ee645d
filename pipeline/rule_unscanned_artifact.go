package pipeline

import "github.com/mlgate/mlgate/finding"

// UnscannedArtifactToPrivilegedStage reports tainted artifacts that reach a
// trusted, secret-holding stage with no gate in between.
var UnscannedArtifactToPrivilegedStage = register(finding.Rule{
	ID:       "pipeline/unscanned-artifact-to-privileged-stage",
	Title:    "Untrusted artifact reaches a privileged stage unscanned",
	Severity: finding.High,
	Doc: "An artifact that is untrusted — declared `trust: untrusted`, produced by a stage that runs untrusted " +
		"code, or derived from one — reaches a stage that does not itself run untrusted code but holds secrets " +
		"(signing keys, registry tokens) or signs, registers or deploys (keyless signing needs no stored key), and no " +
		"scan or verify stage inspected it first. The privileged stage " +
		"signs, pushes or otherwise vouches for whatever it receives, and if it deserialises the artifact (a " +
		"pickle) the attacker's code runs next to its secrets: the safetensors-conversion hijack. A gate is a " +
		"stage with role scan or verify (declared, or inferred from its name) that consumes the same artifact, " +
		"runs no untrusted code itself, and runs before the privileged stage (is one of its ancestors).",
	Remediation: "Insert a scan/verify stage (e.g. `mlgate scan` on the model, checksum or signature " +
		"verification) that consumes the artifact and whose output the privileged stage depends on; never " +
		"deserialise untrusted artifacts in a stage that holds secrets.",
}, func(p *Pass) {
	g := p.Graph
	for _, s := range g.Order() {
		if s.RunsUntrustedCode != False || s.IsGate() || (len(s.Secrets) == 0 && !s.IsPrivileged()) {
			continue
		}
		what := "which holds secrets (" + nameList(s.SecretNames()) + ")"
		if len(s.Secrets) == 0 {
			what = "which " + privilegedVerb(s) + " what it receives (keyless signing and release need no stored secret)"
		}
		for _, in := range g.UncheckedTaintedInputs(s) {
			why, _ := g.Taint(in.Artifact)
			p.Report(s, in.Pos,
				"Artifact '"+in.Artifact+"' is untrusted ("+why+") and reaches stage '"+s.Name+"', "+what+
					", with no scan or verify stage before it.",
				"artifact="+in.Artifact)
		}
	}
})

// privilegedVerb says what a privileged stage does, for messages.
func privilegedVerb(s *Stage) string {
	switch {
	case s.HasRole(RoleSign):
		return "signs"
	case s.HasRole(RoleRegister):
		return "registers"
	default:
		return "deploys"
	}
}
