// Package gen generates large synthetic stage specs for benchmarks and scale
// tests: N stages made of repeated ML sub-pipelines (preprocess, train,
// evaluate, scan, sign, register, plus a shared-runner fetch and a
// deploy), wired to a few pipeline-wide artifacts so the graph is connected
// the way real monorepo pipelines are. Every rule has something to find.
package gen

import (
	"bufio"
	"fmt"
	"io"
)

// groupSize is the number of stages in one generated sub-pipeline.
const groupSize = 8

// Spec writes a stage spec with at least n stages (rounded up to a whole
// number of sub-pipelines) to w.
func Spec(w io.Writer, n int) error {
	b := bufio.NewWriter(w)
	b.WriteString("version: 1\nname: generated\nstages:\n")
	groups := (n + groupSize - 1) / groupSize
	for i := 0; i < groups; i++ {
		writeGroup(b, i)
	}
	return b.Flush()
}

func writeGroup(b *bufio.Writer, i int) {
	p := fmt.Sprintf("g%d_", i)
	stage := func(name string, lines ...string) {
		b.WriteString("  - name: " + p + name + "\n")
		for _, l := range lines {
			b.WriteString("    " + l + "\n")
		}
	}
	runner := "ephemeral"
	if i%4 == 0 {
		runner = "shared"
	}
	stage("fetch",
		"inputs: [lockfile]",
		"outputs: ["+p+"deps]",
		"runs_untrusted_code: false",
		"has_network_access: [pypi.org]",
		"has_gpu_access: false",
		"secrets_available: [INDEX_TOKEN]",
		"runner: "+runner)
	stage("preprocess",
		"inputs: [{name: shared_raw_dataset, trust: untrusted}, "+p+"deps]",
		"outputs: ["+p+"data]",
		"runs_untrusted_code: true",
		"has_network_access: true",
		"has_gpu_access: false",
		"secrets_available: [DATA_STORE_KEY]",
		"isolation_level: container",
		"runner: "+runner)
	stage("train",
		"inputs: ["+p+"data, {name: base_model, trust: untrusted}]",
		"outputs: ["+p+"model]",
		"runs_untrusted_code: true",
		"has_network_access: false",
		"has_gpu_access: true",
		"isolation_level: vm")
	stage("evaluate",
		"inputs: ["+p+"model, eval_dataset]",
		"outputs: ["+p+"metrics]",
		"runs_untrusted_code: true",
		"has_network_access: false",
		"has_gpu_access: true",
		"isolation_level: hardware")
	if i%2 == 0 {
		stage("scan",
			"inputs: ["+p+"model, "+p+"metrics]",
			"outputs: ["+p+"scan_report]",
			"runs_untrusted_code: false",
			"has_network_access: false",
			"has_gpu_access: false",
			"isolation_level: vm")
	} else {
		stage("lint",
			"inputs: ["+p+"metrics]",
			"outputs: ["+p+"scan_report]",
			"runs_untrusted_code: false",
			"has_network_access: false",
			"has_gpu_access: false")
	}
	stage("signing",
		"inputs: ["+p+"model, "+p+"metrics, "+p+"scan_report]",
		"outputs: ["+p+"signed]",
		"runs_untrusted_code: false",
		"has_network_access: false",
		"has_gpu_access: false",
		"secrets_available: [SIGNING_KEY]",
		"isolation_level: vm")
	stage("register",
		"inputs: ["+p+"signed]",
		"outputs: ["+p+"registered]",
		"runs_untrusted_code: false",
		"has_network_access: [registry.example]",
		"has_gpu_access: false",
		"secrets_available: [REGISTRY_TOKEN]")
	stage("deploy",
		"inputs: ["+p+"model]",
		"runs_untrusted_code: false",
		"has_network_access: true",
		"has_gpu_access: false",
		"secrets_available: [DEPLOY_TOKEN]")
}

// Chain writes a stage spec shaped to punish super-linear algorithms: one
// untrusted stage followed by a chain of n-1 trusted stages, each holding a
// secret on a shared runner, with network access and a release role
// (push_N), passing a tainted artifact on; every tenth link is a scan gate
// beside the chain. Every graph rule then walks long ancestries and long
// taint chains.
func Chain(w io.Writer, n int) error {
	b := bufio.NewWriter(w)
	b.WriteString("stages:\n")
	b.WriteString("  - {name: origin, outputs: [a0], runs_untrusted_code: true, has_network_access: false, has_gpu_access: false, isolation_level: vm, runner: shared}\n")
	for i := 1; i < n; i++ {
		if i%10 == 0 {
			fmt.Fprintf(b, "  - {name: scan_%d, role: scan, inputs: [a%d], outputs: [r%d], runs_untrusted_code: false, has_network_access: false, has_gpu_access: false}\n", i, i-1, i)
			fmt.Fprintf(b, "  - {name: push_%d, inputs: [a%d, r%d], outputs: [a%d], runs_untrusted_code: false, has_network_access: true, has_gpu_access: false, secrets_available: [K], runner: shared}\n", i, i-1, i, i)
		} else {
			fmt.Fprintf(b, "  - {name: push_%d, inputs: [a%d], outputs: [a%d, model_%d], runs_untrusted_code: false, has_network_access: true, has_gpu_access: false, secrets_available: [K], runner: shared}\n", i, i-1, i, i)
		}
	}
	return b.Flush()
}
