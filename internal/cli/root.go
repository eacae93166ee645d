// Package cli holds mlgate's cobra commands, one file per command. Each
// command turns flags into options, calls a library package, and hands the
// result to the report package. Only this package (and cmd/mlgate) decides
// exit codes.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mlgate/mlgate/report"
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func usageErr(format string, args ...any) error {
	return &exitError{code: report.ExitError, err: fmt.Errorf(format, args...)}
}

// NewRootCommand builds the mlgate command tree, writing to the given streams.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "mlgate",
		Short: "Secure machine-learning pipelines: map attack surface, scan models, sign, isolate",
		Long: `mlgate secures ML pipelines end to end.

It reads pipeline definitions (GitHub Actions, GitLab CI, Kubeflow, Argo,
Dockerfiles, its own stage spec) and reports where an attacker gets in:
untrusted code without isolation, secrets next to untrusted inputs, network
access during training, unscanned or unsigned models reaching a registry.
It proves model files safe or unsafe to load without loading them, signs
and verifies models and provenance, and runs a stage isolated and watched.
It never executes what it inspects and uses no network unless asked.

Start with:
  mlgate audit .                 audit everything mlgate understands in a checkout
  mlgate checklist .             the security checklist, item by item, with a score
  mlgate rules                   list the rules and what they detect

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it,
2 usage error or an input that could not be analyzed (verify: 1 failed,
2 could not run; run: the stage's own code, 90 halted in enforce mode).`,
		Example: `  mlgate audit examples/seed-pipeline
  mlgate pipeline .github/workflows/ --format sarif --output mlgate.sarif
  mlgate scan model.pt
  mlgate sign my-model --key signing-key.pem --output my-model.sig
  mlgate run --network none --rw out -- python train.py`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: report.ExitError, err: fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())}
	})
	root.AddCommand(newVersionCommand(), newRulesCommand(), newPipelineCommand(), newAuditCommand(), newScanCommand(), newSignCommand(), newVerifyCommand(), newDigestCommand(), newProvenanceCommand(), newRunCommand(), newChecklistCommand(), newInitCommand())
	root.CompletionOptions.HiddenDefaultCmd = false
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  # bash, current shell:
  source <(mlgate completion bash)
  # zsh, permanently:
  mlgate completion zsh > "${fpath[1]}/_mlgate"
  # fish:
  mlgate completion fish > ~/.config/fish/completions/mlgate.fish`
		}
	}
	return root
}

// Execute runs mlgate with os.Args and returns the process exit code.
func Execute() int {
	return Run(os.Args[1:], os.Stdout, os.Stderr)
}

// Run runs mlgate with args and returns the exit code; tests call it directly.
func Run(args []string, stdout, stderr io.Writer) int {
	root := NewRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return report.ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "mlgate:", ee.err)
		}
		return ee.code
	}
	// Anything else cobra returns (unknown command, bad args) is a usage error.
	fmt.Fprintln(stderr, "mlgate:", err)
	return report.ExitError
}
