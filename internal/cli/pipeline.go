package cli

import (
	"github.com/spf13/cobra"

	"github.com/mlgate/mlgate/audit"
)

func newPipelineCommand() *cobra.Command {
	var f analysisFlags
	cmd := &cobra.Command{
		Use:   "pipeline PATH...",
		Short: "Map and audit the attack surface of pipeline definitions",
		Long: `Read pipeline definitions and report their attack surface: stages that run
untrusted code without isolation, secrets and network next to untrusted code,
GPUs without hardware isolation, untrusted artifacts reaching signing or
release stages unscanned, signing stages exposed to untrusted code or the
network, models released without signing, shared-runner secret exposure, and
the hardened-workflow practices (hash-pinned installs, dependency scanning,
offline training, scan before signing, pinned images and actions, ...).

Formats, recognised by path and content: GitHub Actions workflows
(.github/workflows/*.yml) and composite actions, GitLab CI (.gitlab-ci.yml
with its local includes), Kubeflow Pipelines v2 compiled IR, Argo
Workflows, Dockerfiles, and mlgate's own stage spec (mlgate-pipeline.yaml).
A file named explicitly is read whatever its name; a directory is searched.
docs/adapters/ says what each adapter infers and from which keys; run
'mlgate rules' for the rules.`,
		Example: `  mlgate pipeline .github/workflows/
  mlgate pipeline .gitlab-ci.yml --format sarif --output mlgate.sarif
  mlgate pipeline examples/seed-pipeline/mlgate-pipeline.yaml
  mlgate pipeline ci/ --format sarif --output mlgate.sarif
  mlgate pipeline mlgate-pipeline.yaml --fail-on medium --baseline previous.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.runWith(cmd, args, audit.Options{RequireInputs: true, Analyzers: audit.Pipelines})
		},
	}
	f.register(cmd)
	return cmd
}
