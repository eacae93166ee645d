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
network, models released without signing, and shared-runner secret exposure.

A PATH that is a file is read as an mlgate stage spec (docs/stage-spec.md)
whatever its name; a directory is searched for mlgate-pipeline.yaml and
*.mlgate-pipeline.yaml files. Run 'mlgate rules' for the rules.`,
		Example: `  mlgate pipeline examples/seed-pipeline/mlgate-pipeline.yaml
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
