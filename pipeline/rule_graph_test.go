package pipeline_test

import (
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

func TestUnscannedArtifactToPrivilegedStage(t *testing.T) {
	train := stg("train", "runs_untrusted_code: true", "isolation_level: vm", "outputs: [model]")
	runRuleCases(t, pipeline.UnscannedArtifactToPrivilegedStage, []ruleCase{
		{name: "untrusted-code output straight to signing", stages: []string{"sign"},
			src: specOf(train, stg("sign", "inputs: [model]", "secrets_available: [SIGNING_KEY]", "isolation_level: vm"))},
		{name: "declared untrusted input to a push stage", stages: []string{"push"},
			src: specOf(stg("push", "inputs: [{name: hub_model, trust: untrusted}]", "secrets_available: [REGISTRY_TOKEN]"))},
		{name: "transitively derived through a trusted stage", stages: []string{"sign"},
			src: specOf(train, stg("convert", "inputs: [model]", "outputs: [st_model]"),
				stg("sign", "inputs: [st_model]", "secrets_available: [SIGNING_KEY]"))},
		{name: "scan gate before signing", src: specOf(train,
			stg("scan", "inputs: [model]", "outputs: [report]"),
			stg("sign", "inputs: [model, report]", "secrets_available: [SIGNING_KEY]"))},
		{name: "gate output feeds signing", src: specOf(train,
			stg("verify", "inputs: [model]", "outputs: [verified_model]"),
			stg("sign", "inputs: [verified_model]", "secrets_available: [SIGNING_KEY]"))},
		{name: "keyless signing of an unscanned model", stages: []string{"model_signing"},
			src: specOf(train, stg("model_signing", "inputs: [model]", "has_network_access: [rekor.sigstore.dev]"))},
		{name: "a signer named verify does not check its own input", stages: []string{"sign_and_verify"},
			src: specOf(train, stg("sign_and_verify", "inputs: [model]", "outputs: [signed]", "secrets_available: [SIGNING_KEY]"))},
		{name: "unprivileged stage without secrets", src: specOf(train, stg("package", "inputs: [model]"))},
		{name: "trusted artifact to signing", src: specOf(stg("build", "outputs: [model]"), stg("sign", "inputs: [model]", "secrets_available: [SIGNING_KEY]"))},
	})
	// Look-alikes of a gate that must not count as one.
	runRuleCases(t, pipeline.UnscannedArtifactToPrivilegedStage, []ruleCase{
		{name: "scanner that runs untrusted code is no gate", stages: []string{"sign", "sign"}, src: specOf(train,
			stg("scan", "runs_untrusted_code: true", "isolation_level: vm", "inputs: [model]", "outputs: [report]"),
			stg("sign", "inputs: [model, report]", "secrets_available: [SIGNING_KEY]"))},
		{name: "scan of another artifact is no gate", stages: []string{"sign"}, src: specOf(train,
			stg("scan", "inputs: [dataset]", "outputs: [report]"),
			stg("sign", "inputs: [model, report]", "secrets_available: [SIGNING_KEY]"))},
		{name: "scan that runs after signing is no gate", stages: []string{"sign"}, src: specOf(train,
			stg("sign", "inputs: [model]", "outputs: [sig]", "secrets_available: [SIGNING_KEY]"),
			stg("scan", "inputs: [model, sig]"))},
		{name: "gate named by role, not name", src: specOf(train,
			stg("inspect", "role: verify", "inputs: [model]", "outputs: [ok]"),
			stg("sign", "inputs: [model, ok]", "secrets_available: [SIGNING_KEY]"))},
	})
}

func TestSigningStageExposed(t *testing.T) {
	runRuleCases(t, pipeline.SigningStageExposed, []ruleCase{
		{name: "signing with network", stages: []string{"model_signing"},
			src: specOf(stg("model_signing", "has_network_access: true", "secrets_available: [SIGNING_KEY]"))},
		{name: "signing with untrusted code", stages: []string{"release"},
			src: specOf(stg("release", "runs_untrusted_code: true", "isolation_level: vm", "secrets_available: [COSIGN_PRIVATE_KEY]"))},
		{name: "allow-list outside allowed_hosts", stages: []string{"sign"},
			src:  specOf(stg("sign", "has_network_access: [rekor.sigstore.dev, evil.example]")),
			opts: map[string]map[string]any{"pipeline/signing-stage-exposed": {"allowed_hosts": []any{"rekor.sigstore.dev"}}}},
		{name: "allow-list within allowed_hosts",
			src:  specOf(stg("sign", "has_network_access: [rekor.sigstore.dev]")),
			opts: map[string]map[string]any{"pipeline/signing-stage-exposed": {"allowed_hosts": []any{"rekor.sigstore.dev", "fulcio.sigstore.dev"}}}},
		{name: "offline signing", src: specOf(stg("model_signing", "secrets_available: [SIGNING_KEY]", "isolation_level: vm"))},
		{name: "design stage is not signing", src: specOf(stg("design_review", "has_network_access: true"))},
		{name: "network stage with unrelated key", src: specOf(stg("push", "has_network_access: true", "secrets_available: [REGISTRY_TOKEN]"))},
	})
}

func TestUnsignedModelRelease(t *testing.T) {
	runRuleCases(t, pipeline.UnsignedModelRelease, []ruleCase{
		{name: "register without signing", stages: []string{"model_registration"},
			src: specOf(stg("train", "outputs: [model]"), stg("model_registration", "inputs: [model]"))},
		{name: "deploy after an unrelated signing branch", stages: []string{"deploy"},
			src: specOf(stg("train", "outputs: [model]"), stg("sign", "inputs: [data]", "outputs: [sig]"), stg("deploy", "inputs: [model]"))},
		{name: "signature over the SBOM does not cover the model", stages: []string{"push_to_registry"},
			src: specOf(stg("train", "outputs: [model, sbom]"), stg("sbom_signing", "inputs: [sbom]", "outputs: [sbom_sig]"),
				stg("push_to_registry", "inputs: [model, sbom_sig]"))},
		{name: "declared release role with no signed input", stages: []string{"ship"},
			src: specOf(stg("build", "outputs: [bundle]"), stg("ship", "role: register", "inputs: [bundle]"))},
		{name: "register after signing",
			src: specOf(stg("train", "outputs: [model]"), stg("sign", "inputs: [model]", "outputs: [signed]"), stg("publish", "inputs: [signed]"))},
		{name: "signing two hops upstream",
			src: specOf(stg("sign", "outputs: [signed_model]"), stg("verify", "inputs: [signed_model]", "outputs: [verified_model]"), stg("deploy", "inputs: [verified_model]"))},
		{name: "metrics dashboard upload is not a model release",
			src: specOf(stg("train", "outputs: [model, metrics]"), stg("upload_metrics_dashboard", "inputs: [metrics]"))},
		{name: "publishing docs with no inputs", src: specOf(stg("publish_docs"))},
		{name: "registry-looking name with explicit other role",
			src: specOf(stg("train", "outputs: [model]"), stg("registry_cleanup", "role: scan", "inputs: [model]"))},
		{name: "no release stage", src: specOf(stg("train", "outputs: [model]"))},
	})
}

func TestSharedRunnerSecretExposure(t *testing.T) {
	runRuleCases(t, pipeline.SharedRunnerSecretExposure, []ruleCase{
		{name: "secret stage then untrusted stage on shared runners", stages: []string{"fetch"},
			src: specOf(stg("fetch", "runner: shared", "secrets_available: [DATA_KEY]", "outputs: [data]"),
				stg("train", "runner: shared", "runs_untrusted_code: true", "isolation_level: vm", "inputs: [data]"))},
		{name: "unrelated untrusted stage runs alongside", stages: []string{"push"},
			src: specOf(stg("push", "runner: shared", "secrets_available: [TOKEN]"),
				stg("pr_tests", "runner: shared", "runs_untrusted_code: true", "isolation_level: vm"))},
		{name: "untrusted stage before can leave an implant", stages: []string{"push"},
			src: specOf(stg("train", "runner: shared", "runs_untrusted_code: true", "isolation_level: vm", "outputs: [model]"),
				stg("push", "runner: shared", "inputs: [model]", "secrets_available: [TOKEN]"))},
		{name: "untrusted stage with undeclared runner is assumed shared", stages: []string{"model_signing"},
			src: specOf(stg("model_signing", "runner: shared", "secrets_available: [SIGNING_KEY]"),
				stg("train", "runs_untrusted_code: true", "isolation_level: vm"))},
		{name: "secret stage on dedicated runner",
			src: specOf(stg("fetch", "runner: dedicated", "secrets_available: [DATA_KEY]", "outputs: [data]"),
				stg("train", "runner: shared", "runs_untrusted_code: true", "isolation_level: vm", "inputs: [data]"))},
		{name: "untrusted stage on ephemeral runner",
			src: specOf(stg("fetch", "runner: shared", "secrets_available: [DATA_KEY]", "outputs: [data]"),
				stg("train", "runner: ephemeral", "runs_untrusted_code: true", "isolation_level: vm", "inputs: [data]"))},
		{name: "only itself is untrusted on the shared runner",
			src: specOf(stg("train", "runner: shared", "runs_untrusted_code: true", "isolation_level: vm", "secrets_available: [K]"),
				stg("lint", "runner: shared"))},
	})
	fs := only(analyze(t, specOf(stg("s", "runner: shared", "secrets_available: [K]"), stg("u", "runs_untrusted_code: true", "isolation_level: vm"))), pipeline.SharedRunnerSecretExposure.ID)
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "1 of them do not declare a runner; assumed shared") {
		t.Errorf("undeclared runner must be named as an assumption: %+v", fs)
	}
}

func TestExfiltrationPath(t *testing.T) {
	runRuleCases(t, pipeline.ExfiltrationPath, []ruleCase{
		{name: "secrets network and untrusted input", stages: []string{"finetune"},
			src: specOf(stg("finetune", "inputs: [{name: base_model, trust: untrusted}]", "has_network_access: true", "secrets_available: [WANDB_API_KEY]"))},
		{name: "input from an untrusted-code stage", stages: []string{"upload"},
			src: specOf(stg("train", "runs_untrusted_code: true", "isolation_level: vm", "outputs: [model]"),
				stg("upload", "inputs: [model]", "has_network_access: [huggingface.co]", "secrets_available: [HF_TOKEN]"))},
		{name: "no network",
			src: specOf(stg("finetune", "inputs: [{name: base_model, trust: untrusted}]", "secrets_available: [WANDB_API_KEY]"))},
		{name: "no secrets",
			src: specOf(stg("finetune", "inputs: [{name: base_model, trust: untrusted}]", "has_network_access: true"))},
		{name: "trust: trusted does not launder a tainted artifact", stages: []string{"finetune"},
			src: specOf(stg("train", "runs_untrusted_code: true", "isolation_level: vm", "outputs: [base_model]"),
				stg("finetune", "inputs: [{name: base_model, trust: trusted}]", "has_network_access: true", "secrets_available: [K]"))},
		{name: "untrusted input checked by a gate first",
			src: specOf(stg("scan", "inputs: [{name: base_model, trust: untrusted}]", "outputs: [scan_ok]"),
				stg("finetune", "inputs: [base_model, scan_ok]", "has_network_access: true", "secrets_available: [K]"))},
	})
}

func TestRunnerUnspecified(t *testing.T) {
	if !pipeline.RunnerUnspecified.DefaultDisabled {
		t.Fatal("runner-unspecified must be disabled by default")
	}
	runRuleCases(t, pipeline.RunnerUnspecified, []ruleCase{
		{name: "secrets without runner", stages: []string{"push"}, src: specOf(stg("push", "secrets_available: [T]"))},
		{name: "untrusted without runner", stages: []string{"train"}, src: specOf(stg("train", "runs_untrusted_code: true", "isolation_level: vm"))},
		{name: "runner declared", src: specOf(stg("push", "secrets_available: [T]", "runner: dedicated"))},
		{name: "harmless stage", src: specOf(stg("lint"))},
	})
}

func TestSigningKeyNames(t *testing.T) {
	for name, want := range map[string]bool{
		"SIGNING_KEY": true, "MODEL_SIGNING_KEY": true, "COSIGN_PRIVATE_KEY": true, "COSIGN_PASSWORD": true,
		"cosign-key": true, "COSIGN_PUBLIC_KEY": false, "SLACK_SIGNING_SECRET": false, "SIGNING_PUB_KEY": false,
		"HF_TOKEN": false, "DESIGN_KEY": false, "SIGNING_VERIFY_KEY": false,
	} {
		if got := pipeline.IsSigningKeyName(name); got != want {
			t.Errorf("IsSigningKeyName(%q) = %v", name, got)
		}
	}
	// A public key alone does not make a deploy stage a signer, so the
	// missing signature is still reported and no exposed-signer finding is.
	fs := analyze(t, specOf(stg("train", "outputs: [model]"),
		stg("deploy_to_prod", "inputs: [model]", "has_network_access: true", "secrets_available: [COSIGN_PUBLIC_KEY]")))
	if len(only(fs, pipeline.SigningStageExposed.ID)) != 0 || len(only(fs, pipeline.UnsignedModelRelease.ID)) != 1 {
		t.Errorf("public key treated as signing key: %+v", fs)
	}
}

func TestModelArtifactNames(t *testing.T) {
	for name, want := range map[string]bool{
		"trained_model": true, "model.safetensors": true, "lora-adapter": true, "ckpt": true, "finalWeights": true,
		"metrics": false, "remodel_plan": false, "sbom": false, "docs": false,
	} {
		if got := pipeline.IsModelArtifact(name); got != want {
			t.Errorf("IsModelArtifact(%q) = %v", name, got)
		}
	}
}
