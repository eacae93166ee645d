package pipeline_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

func TestUntrustedCodeNoIsolation(t *testing.T) {
	runRuleCases(t, pipeline.UntrustedCodeNoIsolation, []ruleCase{
		{name: "explicit none", src: specOf(stg("train", "runs_untrusted_code: true", "isolation_level: none")), stages: []string{"train"}},
		{name: "default isolation is none", src: specOf(stg("train", "runs_untrusted_code: true")), stages: []string{"train"}},
		{name: "trusted code without isolation", src: specOf(stg("train", "runs_untrusted_code: false", "isolation_level: none"))},
		{name: "untrusted code in a vm", src: specOf(stg("train", "runs_untrusted_code: true", "isolation_level: vm"))},
		{name: "untrusted code in a container", src: specOf(stg("train", "runs_untrusted_code: true", "isolation_level: container"))},
	})
}

func TestUntrustedCodeContainerOnly(t *testing.T) {
	runRuleCases(t, pipeline.UntrustedCodeContainerOnly, []ruleCase{
		{name: "container", src: specOf(stg("eval", "runs_untrusted_code: true", "isolation_level: container")), stages: []string{"eval"}},
		{name: "trusted code in container", src: specOf(stg("eval", "runs_untrusted_code: false", "isolation_level: container"))},
		{name: "untrusted code in hardware isolation", src: specOf(stg("eval", "runs_untrusted_code: true", "isolation_level: hardware"))},
		{name: "none is the other rule", src: specOf(stg("eval", "runs_untrusted_code: true", "isolation_level: none"))},
	})
}

func TestSecretsInUntrustedStage(t *testing.T) {
	runRuleCases(t, pipeline.SecretsInUntrustedStage, []ruleCase{
		{name: "secrets with untrusted code", src: specOf(stg("train", "runs_untrusted_code: true", "isolation_level: vm", "secrets_available: [HF_TOKEN]")), stages: []string{"train"}},
		{name: "secrets in trusted stage", src: specOf(stg("sign", "runs_untrusted_code: false", "secrets_available: [SIGNING_KEY]"))},
		{name: "empty secrets list with untrusted code", src: specOf(stg("train", "runs_untrusted_code: true", "secrets_available: []"))},
	})
}

func TestNetworkAccessUntrusted(t *testing.T) {
	runRuleCases(t, pipeline.NetworkAccessUntrusted, []ruleCase{
		{name: "network true", src: specOf(stg("prep", "runs_untrusted_code: true", "has_network_access: true")), stages: []string{"prep"}},
		{name: "allow-list still counts", src: specOf(stg("prep", "runs_untrusted_code: true", "has_network_access: [huggingface.co]")), stages: []string{"prep"}},
		{name: "empty allow-list is no network", src: specOf(stg("prep", "runs_untrusted_code: true", "has_network_access: []"))},
		{name: "network for trusted code", src: specOf(stg("fetch", "runs_untrusted_code: false", "has_network_access: true"))},
		{name: "no network", src: specOf(stg("prep", "runs_untrusted_code: true", "has_network_access: false"))},
	})
}

func TestSharedGPUAccess(t *testing.T) {
	runRuleCases(t, pipeline.SharedGPUAccess, []ruleCase{
		{name: "gpu in container", src: specOf(stg("train", "has_gpu_access: true", "isolation_level: container")), stages: []string{"train"}},
		{name: "gpu without isolation even for trusted code", src: specOf(stg("train", "has_gpu_access: true")), stages: []string{"train"}},
		{name: "gpu in vm", src: specOf(stg("train", "has_gpu_access: true", "isolation_level: vm"))},
		{name: "gpu with hardware isolation", src: specOf(stg("train", "has_gpu_access: true", "isolation_level: hardware"))},
		{name: "no gpu in container", src: specOf(stg("train", "has_gpu_access: false", "isolation_level: container"))},
	})
}

// Findings stay small however many secrets a stage lists: messages name ten,
// evidence is replaced by a digest past 1 KiB.
func TestLongListsAreBoundedInFindings(t *testing.T) {
	var names []string
	for i := 0; i < 200; i++ {
		names = append(names, fmt.Sprintf("SECRET_NUMBER_%03d", i))
	}
	fs := only(analyze(t, specOf(stg("train", "runs_untrusted_code: true", "isolation_level: vm",
		"secrets_available: ["+strings.Join(names, ", ")+"]"))), pipeline.SecretsInUntrustedStage.ID)
	if len(fs) != 1 {
		t.Fatalf("%d findings", len(fs))
	}
	f := fs[0]
	if !strings.Contains(f.Message, "SECRET_NUMBER_009 and 190 more") || strings.Contains(f.Message, "SECRET_NUMBER_010") {
		t.Errorf("message: %s", f.Message)
	}
	if len(f.Evidence) > 1100 || !strings.Contains(f.Evidence, "200 names, sha256:") {
		t.Errorf("evidence (%d bytes): %s", len(f.Evidence), f.Evidence)
	}
}
