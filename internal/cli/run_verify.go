package cli

// `mlgate verify DIR --run-report FILE --key PUB` checks a run report
// signed by `mlgate run --sign-key` (library: run.VerifyReport). It is a
// verify extension (see sign.go).

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlgate/mlgate/report"
	sandbox "github.com/mlgate/mlgate/run"
	"github.com/mlgate/mlgate/sign/dsse"
	"github.com/mlgate/mlgate/sign/keys"
)

func init() {
	registerSignExtension(signExtension{
		Name: "run-report",
		AddVerifyFlags: func(fs *pflag.FlagSet) {
			fs.String("run-report", "", "verify a report signed by mlgate run --sign-key (FILE) with --key, and the output files it names under MODEL (the stage's working directory)")
		},
		Verify: runReportVerify,
	})
}

// RunReportVerifyResult is the JSON output of `mlgate verify --run-report`
// (schema "mlgate.verify-run-report/v1").
type RunReportVerifyResult struct {
	Schema string `json:"schema"`
	Dir    string `json:"dir"`
	Report string `json:"report"`
	// Status is "verified", "failed" (exit 1) or "error" (exit 2).
	Status   string                   `json:"status"`
	Error    string                   `json:"error,omitempty"`
	KeyID    string                   `json:"key_id,omitempty"`
	Failures []*sandbox.AttestFailure `json:"failures,omitempty"`
	// From the verified statement.
	Subjects   int            `json:"subjects,omitempty"`
	Checked    int            `json:"checked"`
	Command    []string       `json:"command,omitempty"`
	Verdict    string         `json:"verdict,omitempty"`
	HaltReason string         `json:"halt_reason,omitempty"`
	ExitCode   int            `json:"exit_code"`
	Findings   map[string]int `json:"findings,omitempty"`
	// Unhashed are outputs the run could not hash when it signed: not
	// covered by the statement.
	Unhashed []string `json:"unhashed,omitempty"`
}

func runReportVerify(cmd *cobra.Command, dir string, o *VerifyCommon) (bool, error) {
	file, _ := cmd.Flags().GetString("run-report")
	if file == "" {
		return false, nil
	}
	out := &RunReportVerifyResult{Schema: "mlgate.verify-run-report/v1", Dir: dir, Report: file}
	err := verifyRunReport(cmd, dir, file, o, out)
	return true, printRunReportResult(cmd, o.Format, out, err)
}

func verifyRunReport(cmd *cobra.Command, dir, file string, o *VerifyCommon, out *RunReportVerifyResult) error {
	if o.Cert != "" || len(o.CertChain) > 0 || len(o.Only) > 0 || o.IgnoreUnsign || len(o.IgnorePaths) > 0 || cmd.Flags().Changed("signature") {
		return usageErr("--signature, --cert, --cert-chain, --only, --ignore-paths and --ignore-unsigned-files do not apply to --run-report")
	}
	if o.Key == "" {
		return usageErr("--run-report needs --key (the public key of mlgate run --sign-key, or env://VAR)")
	}
	pub, err := keys.LoadPublicKey(o.Key)
	if err != nil {
		return couldNotRun(fmt.Errorf("load public key: %w", err))
	}
	data, err := readFileBounded(file, dsse.MaxEnvelopeSize)
	if err != nil {
		return couldNotRun(fmt.Errorf("read run report: %w", err))
	}
	v, err := sandbox.VerifyReport(data, pub, dir)
	if err != nil {
		return couldNotRun(err)
	}
	out.KeyID, out.Failures, out.Checked = v.KeyID, v.Failures, v.Checked
	if v.Statement != nil {
		out.Subjects = len(v.Statement.Subject)
		out.Command, out.Verdict, out.HaltReason, out.ExitCode, out.Findings = v.Command, v.Verdict, v.HaltReason, v.ExitCode, v.Findings
		out.Unhashed = v.Statement.Predicate.Unhashed
	}
	if !v.OK() {
		return verifyFailed(v.Err())
	}
	return nil
}

func printRunReportResult(cmd *cobra.Command, format string, out *RunReportVerifyResult, err error) error {
	code, status, msg := verifyOutcome(err)
	out.Status, out.Error = status, msg
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if format == "json" {
		return writeVerifyJSON(cmd, out, code)
	}
	name := report.Sanitize(out.Report)
	switch code {
	case report.ExitOK:
		var sev []string
		for _, s := range []string{"critical", "high", "medium", "low", "info"} {
			if n := out.Findings[s]; n > 0 {
				sev = append(sev, fmt.Sprintf("%d %s", n, s))
			}
		}
		findings := "no findings"
		if len(sev) > 0 {
			findings = strings.Join(sev, ", ")
		}
		verdict := report.Sanitize(out.Verdict)
		if out.HaltReason != "" {
			verdict += " (" + report.Sanitize(out.HaltReason) + ")"
		}
		fmt.Fprintf(stdout, "OK: run report %s is signed by key %.16s; %d output files match under %s; run of %q: verdict %s, stage exit %d, %s\n",
			name, report.Sanitize(out.KeyID), out.Checked, report.Sanitize(out.Dir), report.Sanitize(strings.Join(out.Command, " ")), verdict, out.ExitCode, findings)
		for _, u := range out.Unhashed {
			fmt.Fprintf(stderr, "warning: the run could not hash this output, which the report therefore does not cover: %s\n", report.Sanitize(u))
		}
		return nil
	case report.ExitFindings:
		fmt.Fprintf(stdout, "FAILED: run report %s: %s\n", name, report.Sanitize(firstMessage(out)))
		rest := out.Failures
		if len(rest) > 0 {
			rest = rest[1:]
		}
		sort.SliceStable(rest, func(i, j int) bool { return rest[i].Subject < rest[j].Subject })
		for _, f := range rest {
			fmt.Fprintln(stderr, report.Sanitize(f.Msg))
		}
		return &exitError{code: code}
	}
	fmt.Fprintf(stdout, "ERROR: run report %s: verification could not run\n", name)
	if ee := (*exitError)(nil); errors.As(err, &ee) {
		return err
	}
	return couldNotRun(err)
}

func firstMessage(out *RunReportVerifyResult) string {
	if len(out.Failures) > 0 {
		return out.Failures[0].Msg
	}
	return out.Error
}
