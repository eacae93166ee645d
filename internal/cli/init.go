package cli

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

//go:embed templates/github.yml templates/gitlab-ci.yml
var templates embed.FS

// initTargets maps `mlgate init` targets to their template and default path.
var initTargets = map[string]struct{ template, path string }{
	"github": {"templates/github.yml", filepath.Join(".github", "workflows", "ml-pipeline.yml")},
	"gitlab": {"templates/gitlab-ci.yml", ".gitlab-ci.yml"},
}

func newInitCommand() *cobra.Command {
	var output string
	var force bool
	cmd := &cobra.Command{
		Use:   "init github|gitlab",
		Short: "Write a hardened ML pipeline template",
		Long: `Write a pipeline that follows the source document's hardened workflow:
dependencies downloaded with hashes and scanned for vulnerabilities in a job
without secrets; data validation and training without network; the model
scanned with 'mlgate scan' before a dedicated job signs it with 'mlgate sign'.
The template passes 'mlgate pipeline' with no finding at medium or above.

github writes .github/workflows/ml-pipeline.yml, gitlab writes .gitlab-ci.yml
(--output changes the path; '-' prints it). An existing file is never
overwritten unless --force is given. Replace the image digests and action
SHAs with current ones before use; the template's comments say how.`,
		Example: `  mlgate init github
  mlgate init gitlab --output ci/ml.gitlab-ci.yml
  mlgate init github -o - | less`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"github", "gitlab"},
		RunE: func(cmd *cobra.Command, args []string) error {
			t, ok := initTargets[args[0]]
			if !ok {
				return usageErr("unknown target %q: use github or gitlab", args[0])
			}
			body, err := fs.ReadFile(templates, t.template)
			if err != nil {
				return err
			}
			path := t.path
			if output != "" {
				path = output
			}
			if path == "-" {
				_, err := cmd.OutOrStdout().Write(body)
				return err
			}
			if !force {
				if _, err := os.Lstat(path); err == nil {
					return usageErr("%s already exists; use --force to overwrite it or --output to write elsewhere", path)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return usageErr("%s: %v", path, err)
				}
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return usageErr("%v", err)
			}
			if err := os.WriteFile(path, body, 0o644); err != nil {
				return usageErr("%v", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: wrote %s; replace the image digests and action SHAs with current ones, then run 'mlgate pipeline %s'\n", path, path)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the template to `PATH` ('-' for standard output)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}
