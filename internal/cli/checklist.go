package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mlgate/mlgate/audit"
	"github.com/mlgate/mlgate/checklist"
	"github.com/mlgate/mlgate/config"
	"github.com/mlgate/mlgate/report"
)

func newChecklistCommand() *cobra.Command {
	var format, output, custom, cfgPath string
	var noConfig bool
	cmd := &cobra.Command{
		Use:   "checklist [PATH...]",
		Short: "Evaluate the pipeline security checklist against a checkout",
		Long: `Run every static analyzer on PATH (default: the current directory) and
evaluate the pipeline security checklist of the source document item by item
(16 items in 5 categories): pass, fail (with the findings or stages that
break it) or undetermined (the files cannot prove it; the output says what
would). Prints a posture score (0-100; critical items weigh double and
undetermined items count as not passed) and the critical failures.

--checklist FILE evaluates a custom checklist of the same shape
(docs/checklist.md). Exit code: 0 when no critical item fails, 1 when one
does, 2 on a usage error or an input that could not be analyzed.`,
		Example: `  mlgate checklist .
  mlgate checklist --format json -o posture.json
  mlgate checklist --checklist team-checklist.yaml ci/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmtName, err := report.ParseFormat(format)
			if err != nil {
				return usageErr("%v", err)
			}
			items := checklist.Default()
			if custom != "" {
				src, err := config.ReadRegular(custom, 4<<20)
				if err != nil {
					return usageErr("--checklist: %v", err)
				}
				if items, err = checklist.Parse(custom, src); err != nil {
					return usageErr("--checklist: %v", err)
				}
			}
			if cfgPath != "" && noConfig {
				return usageErr("--config and --no-config contradict each other")
			}
			tuneGC(400)
			res, err := audit.Run(audit.Options{
				Paths: args, Config: cfgPath, NoConfig: noConfig, KeepGraphs: true,
				Tool:     report.Tool{Name: "mlgate", Version: version()},
				Progress: progressBar(cmd.ErrOrStderr()),
			})
			if err != nil {
				var ue *audit.UsageError
				if errors.As(err, &ue) {
					return &exitError{code: report.ExitError, err: err}
				}
				return &exitError{code: report.ExitError, err: fmt.Errorf("analysis failed: %w", err)}
			}
			for _, warning := range res.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: warning: %s\n", warning)
			}
			result := checklist.Evaluate(items, res.Report.Findings, res.Graphs)
			var w io.Writer = cmd.OutOrStdout()
			var file *os.File
			if output != "" {
				if file, err = os.Create(output); err != nil {
					return usageErr("--output: %v", err)
				}
				w = file
			}
			tool := report.Tool{Name: "mlgate", Version: version()}
			switch fmtName {
			case report.FormatJSON:
				err = checklist.WriteJSON(w, result, tool)
			case report.FormatSARIF:
				err = checklist.WriteSARIF(w, result, tool)
			default:
				err = checklist.WriteText(w, result)
			}
			if file != nil {
				if cerr := file.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return &exitError{code: report.ExitError, err: fmt.Errorf("write checklist: %w", err)}
			}
			if res.Report.Failed() {
				for _, in := range res.Report.Inputs {
					if in.Status == report.StatusError {
						fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: %s\n", in.Error)
					}
				}
				return &exitError{code: report.ExitError}
			}
			if len(result.CriticalFailures) > 0 {
				return &exitError{code: report.ExitFindings}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&format, "format", "f", "text", "output format: text, json or sarif")
	fl.StringVarP(&output, "output", "o", "", "write the result to `FILE` instead of standard output")
	fl.StringVar(&custom, "checklist", "", "evaluate this checklist `FILE` instead of the built-in one")
	fl.StringVar(&cfgPath, "config", "", "use this .mlgate.yaml instead of searching upwards from the target")
	fl.BoolVar(&noConfig, "no-config", false, "ignore any .mlgate.yaml")
	return cmd
}
