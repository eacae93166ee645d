package pipeline

import "github.com/mlgate/mlgate/finding"

// UnsignedModelRelease reports registration/deploy stages that no signing
// stage precedes.
var UnsignedModelRelease = register(finding.Rule{
	ID:       "pipeline/unsigned-model-release",
	Title:    "Model released without a signing stage",
	Severity: finding.High,
	Doc: "A stage that registers, publishes or deploys (role register or deploy) receives a model that did not " +
		"pass through a signing stage, so what it releases carries no provenance: consumers cannot tell the " +
		"pipeline's model from one substituted mid-pipeline or pushed from a compromised account. An artifact " +
		"carries a signature's provenance when a signing stage produced it, or a stage that runs no untrusted " +
		"code produced it from such an artifact (verify, package, convert). The rule reports each input whose " +
		"name says it is a model (model, weights, checkpoint, ckpt, adapter, lora, gguf, safetensors, onnx, pt, " +
		"bin) and lacks that provenance; when the release role is declared with `role:`, it also reports a stage " +
		"none of whose pipeline-made inputs carries it. A signature over something else (an SBOM, a report) " +
		"does not cover the model.",
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
		reported, anySigned, produced := false, false, 0
		for _, in := range s.Inputs {
			if g.Signed(in.Artifact) {
				anySigned = true
				continue
			}
			if len(g.producers[in.Artifact]) > 0 {
				produced++
			}
			if IsModelArtifact(in.Artifact) {
				reported = true
				p.Report(s, in.Pos,
					"Stage '"+s.Name+"' releases model '"+in.Artifact+"', which no signing stage produced or vouched for.",
					"artifact="+in.Artifact)
			}
		}
		if !reported && !anySigned && produced > 0 && !s.RolesInferred {
			p.Report(s, s.FieldPos("role", "name"),
				"Stage '"+s.Name+"' releases pipeline artifacts but none of its inputs passed through a signing stage.",
				"release-without-signing")
		}
	}
})
