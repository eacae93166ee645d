package kfp

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// UnpinnedPackage reports packages_to_install entries without an exact
// version.
var UnpinnedPackage = pipeline.Register(finding.Rule{
	ID:       "pipeline/kfp-unpinned-package",
	Title:    "KFP component installs a package without an exact version",
	Severity: finding.Medium,
	Doc: "A lightweight Python component lists a package in `packages_to_install` without an exact `==` " +
		"version (`'pandas'`, `'torch>=2'`), so the bootstrap installs whatever is newest at run time. A " +
		"malicious or compromised release — or a typo-squatted name — is then installed and its code runs in " +
		"the task's pod on the next run, with the task's secrets, volumes and GPU, and two runs of the same " +
		"pipeline can train with different code. KFP bootstraps never check hashes, so even exact pins only " +
		"protect against new releases, not a replaced file on a compromised index. The SDK's own `kfp==` " +
		"runtime install is pinned by the SDK and not reported.",
	Remediation: "Pin every package with `==` (and preferably build an image with the dependencies installed from " +
		"a hash-pinned lock file, `pip install --require-hashes -r requirements.txt`, then drop " +
		"`packages_to_install`).",
}, func(p *pipeline.Pass) {
	eachPipArg(p, func(s *pipeline.Stage, pi *PipInstall, at func(string, int) (pipeline.Pos, bool)) {
		if pi.Runtime || pi.Hashes {
			return
		}
		for _, pk := range pi.Packages {
			if Pinned(pk.Value) || !IsPackageSpec(pk.Value) {
				continue
			}
			pos, first := at("package", pk.Off)
			if !first {
				continue
			}
			p.Report(s, pos, "Task '"+s.Name+"' installs '"+pk.Value+"' without an exact version; each run "+
				"installs whatever release is newest.", "package="+pk.Value)
		}
	})
})
