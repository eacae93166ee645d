package pipeline

import "github.com/mlgate/mlgate/finding"

// SecretsInUntrustedStage is the seed mapper's secrets_in_untrusted_stage vector.
var SecretsInUntrustedStage = register(finding.Rule{
	ID:       "pipeline/secrets-in-untrusted-stage",
	Title:    "Secrets available to a stage that runs untrusted code",
	Severity: finding.Critical,
	Doc: "A stage that runs untrusted code has secrets in its environment or filesystem. Code in a " +
		"malicious model, dataset loader or pull request reads them as easily as the legitimate code does, " +
		"and can exfiltrate or abuse them: registry tokens let an attacker push backdoored models under a " +
		"trusted name (the NullBulge pattern), hub tokens expose private models, cloud keys expose data." +
		" When a pipeline format cannot say whether a stage runs untrusted code (Kubeflow and Argo files, CI jobs whose trigger depends on an expression), such stages are reported together, once per pipeline, at a lower severity, with the assumption spelled out.",
	Remediation: "Remove all secrets from stages that process untrusted inputs. Use a separate, privileged stage " +
		"for operations that require secrets (e.g., artifact signing, registry push).",
}, func(p *Pass) {
	var unsure assumedStages
	for _, s := range p.Graph.Stages {
		if len(s.Secrets) == 0 || !s.RunsUntrustedCode.MaybeTrue() {
			continue
		}
		if s.RunsUntrustedCode == Unknown {
			unsure.add(s)
			continue
		}
		names := s.SecretNames()
		p.Report(s, s.FieldPos("secrets_available"),
			"Stage '"+s.Name+"' has access to secrets ("+nameList(names)+") while running untrusted "+
				"code. Compromised code can exfiltrate secrets.",
			"secrets="+evidenceList(names))
	}
	unsure.report(p, "hold secrets", finding.Medium)
})
