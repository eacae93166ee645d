// Package rules imports every package that registers rules, so that tools
// which need the complete registry (the CLI, the docs generator) get it by
// importing one package.
package rules

import (
	"github.com/mlgate/mlgate/finding"

	_ "github.com/mlgate/mlgate/config"              // config/* rules (suppressions)
	_ "github.com/mlgate/mlgate/pipeline"            // pipeline/* rules
	_ "github.com/mlgate/mlgate/pipeline/argo"       // Argo Workflows adapter and pipeline/argo-* rules
	_ "github.com/mlgate/mlgate/pipeline/dockerfile" // Dockerfile adapter and pipeline/dockerfile-* rules
	_ "github.com/mlgate/mlgate/pipeline/gha"        // GitHub Actions adapter and pipeline/gha-* rules
	_ "github.com/mlgate/mlgate/pipeline/gitlab"     // GitLab CI adapter and pipeline/gitlab-* rules
	_ "github.com/mlgate/mlgate/pipeline/k8s"        // pipeline/k8s-* rules shared by the Kubeflow and Argo adapters
	_ "github.com/mlgate/mlgate/pipeline/kfp"        // Kubeflow Pipelines IR adapter and pipeline/kfp-* rules
	_ "github.com/mlgate/mlgate/pipeline/practice"   // cross-format hardened-workflow rules
	_ "github.com/mlgate/mlgate/run"                 // run/* rules; also the run sandbox's re-exec entry
	_ "github.com/mlgate/mlgate/scan"                // model/* rules
)

// All returns every registered rule, sorted by ID.
func All() []*finding.Rule { return finding.Rules() }
