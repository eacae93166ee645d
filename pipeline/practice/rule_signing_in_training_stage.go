package practice

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// SigningInTrainingStage reports stages that both train and sign.
var SigningInTrainingStage = pipeline.Register(finding.Rule{
	ID:       "pipeline/signing-in-training-stage",
	Title:    "Model signed in the same stage that trains it",
	Severity: finding.High,
	Doc: "One stage both trains a model (role train) and signs (role sign: cosign, model_signing, `mlgate " +
		"sign`, an attestation action, or a signing-key secret). Training runs third-party code on untrusted " +
		"data; anything that runs there can alter the model after training and before signing, or sign " +
		"something else with the pipeline's identity, so the signature proves nothing about what training " +
		"produced. The seed's hardened workflow signs in a dedicated stage on a dedicated runner, after a " +
		"model scan, and that stage is the only one holding the signing key.",
	Remediation: "Move signing into its own stage that receives the trained model as an artifact, verifies " +
		"its checksums and scan result, and runs only the signing tool; give the signing key (or the OIDC " +
		"permission for keyless signing) to that stage alone.",
}, func(p *pipeline.Pass) {
	for _, s := range p.Graph.Stages {
		if !s.HasRole(pipeline.RoleTrain) || !s.HasRole(pipeline.RoleSign) {
			continue
		}
		pos := s.Pos
		for i := range s.Steps {
			st := &s.Steps[i]
			if hasRole(pipeline.StepRoles(st), pipeline.RoleSign) {
				pos = st.Pos
				break
			}
		}
		p.Report(s, pos, "Stage '"+s.Name+"' trains a model and signs in the same job: code that runs during "+
			"training can change what gets signed.", "train+sign")
	}
})

func hasRole(rs []pipeline.Role, r pipeline.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
