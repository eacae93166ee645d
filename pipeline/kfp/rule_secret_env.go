package kfp

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// SecretEnvUnpinnedCode reports tasks that get secrets as environment
// variables while their bootstrap installs code that is not pinned.
var SecretEnvUnpinnedCode = pipeline.Register(finding.Rule{
	ID:       "pipeline/kfp-secret-env-unpinned-code",
	Title:    "KFP task exposes secrets as env to unpinned package installs",
	Severity: finding.High,
	Doc: "A task gets Kubernetes secrets as environment variables (`kubernetes.use_secret_as_env`, the " +
		"platform spec's `secretAsEnv`) and its bootstrap installs packages that are not pinned to an exact " +
		"version, or from an extra or unverified index. The environment is set before the container starts, so " +
		"the install — including the build scripts of source distributions — and the installed code itself run " +
		"with the secrets readable in `os.environ`: one malicious release of any of those packages exfiltrates " +
		"them on the next run.",
	Remediation: "Pin every package exactly (better: preinstall them in an image built from a hash-pinned lock " +
		"file), install from a single verified index, and mount secrets as files (`use_secret_as_volume`) only " +
		"in the tasks that need them.",
}, func(p *pipeline.Pass) {
	d, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		t := x.Tasks[s]
		pod := d.Pod(s)
		if t == nil || len(pod.SecretEnv) == 0 {
			continue
		}
		var why []string
		for _, pi := range t.Pips {
			if pi.Runtime {
				continue
			}
			for _, pk := range pi.Packages {
				if IsPackageSpec(pk.Value) && !Pinned(pk.Value) {
					why = append(why, "'"+pk.Value+"' unpinned")
				}
			}
			if len(pi.ExtraIndexURLs) > 0 {
				why = append(why, "an extra index")
			}
			for _, h := range pi.TrustedHosts {
				if BareHost(h.Value) {
					why = append(why, "--trusted-host "+h.Value)
					break
				}
			}
		}
		if len(why) == 0 {
			continue
		}
		var names []string
		for _, n := range pod.SecretEnv {
			names = append(names, n.Name)
		}
		pos := pod.SecretEnv[0].Pos
		if !seen.First(pos, t.Executor) {
			continue
		}
		p.Report(s, pos, "Task '"+s.Name+"' has secrets ("+strings.Join(names, ", ")+") in its environment while its "+
			"bootstrap installs code that is not pinned ("+listOr(why, "")+").", "secrets="+strings.Join(names, ","))
	}
})
