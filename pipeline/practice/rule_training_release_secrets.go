package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// TrainingReleaseSecrets reports training stages that hold credentials for
// signing, publishing or deploying.
var TrainingReleaseSecrets = pipeline.Register(finding.Rule{
	ID:       "pipeline/training-release-secrets",
	Title:    "Training stage holds registry, signing or deploy credentials",
	Severity: finding.High,
	Doc: "A stage that trains a model (role train) can read credentials that publish or vouch for models: " +
		"signing keys (SIGNING_KEY, COSIGN_PRIVATE_KEY), model-hub or package-registry tokens (HF_TOKEN, " +
		"HUGGINGFACE_*, PYPI_*, TWINE_*, NPM_TOKEN, DOCKER*/REGISTRY*/GHCR*/QUAY*/ECR* passwords and tokens), or " +
		"cloud deploy credentials (AWS_SECRET_ACCESS_KEY, GCP/GOOGLE credentials, AZURE_CREDENTIALS, " +
		"KUBECONFIG). Training runs third-party code on untrusted data; code that runs there can use the token " +
		"to push a backdoored model under the project's name. The seed's hardened workflow gives training no " +
		"secrets except an experiment-tracking key. An HF_TOKEN that is read-only (for gated downloads) is " +
		"less dangerous; the pipeline file cannot show its scope, so it is reported too. A training stage that " +
		"runs or may run untrusted code is reported by `pipeline/secrets-in-untrusted-stage` instead (for " +
		"every secret it holds), so one stage never gets both findings; this rule covers training the " +
		"pipeline trusts, which still must not hold release credentials.",
	Remediation: "Remove the credential from the training stage: download gated inputs in an earlier stage, " +
		"hand the trained model to a separate publish or signing stage as an artifact, and give only that " +
		"stage the token (or use trusted publishing / OIDC there).",
}, func(p *pipeline.Pass) {
	for _, s := range p.Graph.Stages {
		// Secrets in a stage that runs (or may run) untrusted code are
		// pipeline/secrets-in-untrusted-stage's finding already.
		if !s.HasRole(pipeline.RoleTrain) || s.RunsUntrustedCode.MaybeTrue() {
			continue
		}
		seen := map[string]bool{}
		report := func(sec pipeline.Secret, kind string) {
			if seen[sec.Name] {
				return
			}
			seen[sec.Name] = true
			p.Report(s, sec.Pos, "Training stage '"+s.Name+"' can read "+sec.Name+" ("+kind+"): code that runs "+
				"during training can use it to publish or sign a tampered model.", "secret="+sec.Name)
		}
		for _, sec := range s.Secrets {
			if kind := releaseSecretKind(sec.Name); kind != "" {
				report(sec, kind)
			}
		}
		for i := range s.Steps {
			for _, sec := range s.Steps[i].Secrets {
				if kind := releaseSecretKind(sec.Name); kind != "" {
					report(sec, kind)
				}
			}
		}
	}
})

// releaseSecretKind says what a credential named name releases with, or ""
// when its name does not say.
func releaseSecretKind(name string) string {
	if pipeline.IsSigningKeyName(name) {
		return "a signing key"
	}
	up := strings.ToUpper(name)
	ws := strings.FieldsFunc(up, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') })
	has := func(xs ...string) bool {
		for _, w := range ws {
			for _, x := range xs {
				if w == x {
					return true
				}
			}
		}
		return false
	}
	cred := has("TOKEN", "PASSWORD", "PASS", "PAT", "KEY", "SECRET", "CREDENTIALS", "CREDS", "AUTH")
	switch {
	case up == "KUBECONFIG" || has("KUBECONFIG"):
		return "cluster deploy credentials"
	case cred && has("HF", "HUGGINGFACE", "HUGGING", "HUB"):
		return "a model-hub token"
	case cred && has("PYPI", "TWINE", "NPM", "DOCKER", "DOCKERHUB", "REGISTRY", "GHCR", "QUAY", "ECR", "ACR", "GAR", "MLFLOW"):
		return "registry credentials"
	case up == "AWS_SECRET_ACCESS_KEY" || cred && has("GCP", "GCLOUD", "GOOGLE", "AZURE", "SAGEMAKER", "VERTEX") ||
		has("DEPLOY") && cred:
		return "cloud or deploy credentials"
	}
	return ""
}

// list joins names for messages.
func list(xs []string) string {
	if len(xs) > 10 {
		return strings.Join(xs[:10], ", ") + ", ..."
	}
	return strings.Join(xs, ", ")
}
