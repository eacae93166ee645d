package pipeline

import "github.com/mlgate/mlgate/finding"

// UnsignedModelRelease reports registration/deploy stages that no signing
// stage precedes.
var UnsignedModelRelease = register(finding.Rule{
	ID:       "pipeline/unsigned-model-release",
	Title:    "Model released without a signing stage",
	Severity: finding.High,
	Doc: "A stage that registers, publishes or deploys a model (role register or deploy) has no signing " +
		"stage among the stages it depends on, so what it releases carries no provenance: consumers cannot " +
		"tell the pipeline's model from one substituted mid-pipeline or pushed from a compromised account. " +
		"The check is on the dependency graph: some ancestor of the release stage must have role sign. It " +
		"does not prove that the signed artifact is the one released; keep signing and release of the same " +
		"artifact adjacent.",
	Remediation: "Add a signing stage (e.g. `mlgate sign`, OpenSSF Model Signing or cosign) after the last " +
		"stage that changes the model, and make the registration/deploy stage consume its output and verify " +
		"the signature.",
}, func(p *Pass) {
	g := p.Graph
	for _, s := range g.Stages {
		if !s.HasRole(RoleRegister) && !s.HasRole(RoleDeploy) {
			continue
		}
		if s.HasRole(RoleSign) {
			continue
		}
		signed := false
		for _, a := range g.Ancestors(s) {
			if a.HasRole(RoleSign) {
				signed = true
				break
			}
		}
		if signed {
			continue
		}
		var ins []string
		for _, in := range s.Inputs {
			ins = append(ins, in.Artifact)
		}
		p.Report(s, s.FieldPos("role", "name"),
			"Stage '"+s.Name+"' releases "+describeInputs(ins)+" but no signing stage runs before it.",
			"release-without-signing")
	}
})

func describeInputs(ins []string) string {
	if len(ins) == 0 {
		return "artifacts"
	}
	return quoteList(ins)
}
