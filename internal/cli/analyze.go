package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlgate/mlgate/audit"
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/report"
)

// analysisFlags are the flags shared by the analysis commands.
type analysisFlags struct {
	format   string
	output   string
	config   string
	noConfig bool
	baseline string
	failOn   string
	color    string
}

func (f *analysisFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", "text", "output format: text, json or sarif")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fl.StringVar(&f.config, "config", "", "use this .mlgate.yaml instead of searching upwards from the target")
	fl.BoolVar(&f.noConfig, "no-config", false, "ignore any .mlgate.yaml")
	fl.StringVar(&f.baseline, "baseline", "", "a previous JSON report (`FILE`); only findings not in it are reported")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: critical, high, medium, low or info")
	fl.StringVar(&f.color, "color", "auto", "colour text output: auto (only on a terminal, and not when NO_COLOR is set), always or never")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json", "sarif"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"critical", "high", "medium", "low", "info"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
}

// run analyzes paths and writes the report; the returned error carries the
// exit code. requireInputs makes "nothing to analyze" a usage error.
func (f *analysisFlags) run(cmd *cobra.Command, paths []string, requireInputs bool) error {
	return f.runWith(cmd, paths, audit.Options{RequireInputs: requireInputs})
}

// runWith is run with analyzer-specific options.
func (f *analysisFlags) runWith(cmd *cobra.Command, paths []string, base audit.Options) error {
	format, err := report.ParseFormat(f.format)
	if err != nil {
		return usageErr("%v", err)
	}
	failOn, err := finding.ParseSeverity(f.failOn)
	if err != nil {
		return usageErr("--fail-on: %v", err)
	}
	switch f.color {
	case "auto", "always", "never":
	default:
		return usageErr("--color must be auto, always or never, got %q", f.color)
	}
	if f.config != "" && f.noConfig {
		return usageErr("--config and --no-config contradict each other")
	}
	opts := base
	opts.Paths, opts.Config, opts.NoConfig, opts.Baseline = paths, f.config, f.noConfig, f.baseline
	opts.Tool = report.Tool{Name: "mlgate", Version: version()}
	opts.Progress = progressBar(cmd.ErrOrStderr())
	tuneGC(400)
	res, err := audit.Run(opts)
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
	if len(res.Report.Inputs) == 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: warning: %s: %v\n", strings.Join(paths, ", "), audit.ErrNoInputs)
	}
	if !cmd.Flags().Changed("fail-on") && res.Config.FailOn != nil {
		failOn = *res.Config.FailOn
	}

	var w io.Writer = cmd.OutOrStdout()
	var file *os.File
	if f.output != "" {
		file, err = os.Create(f.output)
		if err != nil {
			return usageErr("--output: %v", err)
		}
		w = file
	}
	ropts := report.Options{Source: report.FileSource(), Color: useColor(f.color, w)}
	if err := report.Write(w, res.Report, format, ropts); err != nil {
		if file != nil {
			file.Close()
		}
		return &exitError{code: report.ExitError, err: fmt.Errorf("write report: %w", err)}
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return &exitError{code: report.ExitError, err: fmt.Errorf("write report: %w", err)}
		}
		// Keep a short summary on the terminal when the report went to a file.
		fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: wrote %s report to %s: %s\n", format, f.output, report.Summary(res.Report))
	}
	if code := report.ExitCode(res.Report, failOn); code != report.ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// useColor decides colour: never for files or when NO_COLOR is set (any
// value, per no-color.org), always on request, else only on a terminal.
func useColor(mode string, w io.Writer) bool {
	switch mode {
	case "never":
		return false
	case "always":
		return true
	}
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progressBar returns a progress callback that redraws one line on w when
// w is a terminal (nil otherwise), only once a run has taken more than a
// second, and clears it at the end.
func progressBar(w io.Writer) func(done, total int, path string) {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	start := time.Now()
	shown := false
	return func(done, total int, path string) {
		if done >= total {
			if shown {
				fmt.Fprint(f, "\r\x1b[2K")
			}
			return
		}
		if time.Since(start) < time.Second {
			return
		}
		shown = true
		const width = 24
		filled := width * done / max(total, 1)
		name := report.Sanitize(path)
		if len(name) > 50 {
			name = "..." + name[len(name)-47:]
		}
		fmt.Fprintf(f, "\r\x1b[2K[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, name)
	}
}
