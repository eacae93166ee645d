package cli

import "github.com/spf13/cobra"

func newAuditCommand() *cobra.Command {
	var f analysisFlags
	cmd := &cobra.Command{
		Use:   "audit [PATH]",
		Short: "Run every static analyzer that applies to a checkout",
		Long: `Walk PATH (default: the current directory) and run every static analyzer
that applies to the files found. A PATH that is a file is analyzed as a
stage spec whatever its name. Today that is the pipeline analyzer on
mlgate stage specs (mlgate-pipeline.yaml, *.mlgate-pipeline.yaml); the
GitHub Actions, GitLab CI, Kubeflow and Argo adapters, model scanning,
secret and dependency checks join it as they land.

.git directories and paths matched by 'ignore' globs in .mlgate.yaml are
skipped. Symlinked spec files are analyzed when they point inside PATH;
other symlinks are not followed, and a warning lists them. The configuration
is found by walking up from PATH to the repository root.`,
		Example: `  mlgate audit examples/seed-pipeline
  mlgate audit . --format json --output mlgate.json
  mlgate audit . --baseline mlgate.json --fail-on medium`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			return f.run(cmd, args, false)
		},
	}
	f.register(cmd)
	return cmd
}
