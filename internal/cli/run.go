package cli

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/report"
	sandbox "github.com/mlgate/mlgate/run"
)

// exitHalted is mlgate run's exit code when enforce mode stopped the stage.
const exitHalted = 90

type runFlags struct {
	network, mode, policy, learn, history, timeout string
	modelOutput                                    string
	allowHosts, rw, ro, allowCreds, env, secrets   []string
	watch                                          []string
	noDefaultWatch, probe, allowPrivateEgress      bool
	format, output, color, failOn                  string
	signKey                                        string
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARG...]",
		Short: "Run one pipeline stage isolated and watched, and report what it did",
		Long: `Run a pipeline stage's command in a sandbox and watch it while it runs.

The stage gets new user, mount, PID, IPC, UTS and network namespaces, a
read-only file system (landlock) except --rw paths and a private /tmp, no
access to the runner's credential files, a seccomp filter, no capabilities,
no_new_privs, and an environment reduced to an allow-list plus --env and
--secret names. Every exec and connect attempt is captured by seccomp user
notification before it happens, however short-lived the process; --watch
trees and Python site-packages are compared before and after.

--network none (default): loopback only. --network allow: the stage reaches
--allow-host destinations through an HTTP(S) proxy (HTTPS_PROXY is set);
everything else is refused and reported. --network host: no network
isolation, for trusted stages only.

--mode audit (default) reports and keeps the stage's exit code. --mode
enforce kills the whole stage at the first critical finding and exits 90.

--sign-key KEY writes the report to --output as an in-toto statement in a
DSSE envelope (predicate https://mlgate.dev/run-report/v1) whose subjects
are the files the stage added or changed under its --rw paths; the key is
hidden from the stage. Check it with mlgate verify DIR --run-report FILE
--key PUB.

Exit codes: the stage's own exit code (audit mode, or enforce without a
critical finding); 90 halted by enforce mode or --timeout; 2 when the sandbox
could not be set up or a flag is wrong. With --fail-on SEVERITY, a stage that
exited 0 but has findings at or above it exits 1. See docs/run.md.`,
		Example: `  mlgate run -- python train.py
  mlgate run --rw ./out --watch ./out --mode enforce -- python train.py --out ./out
  mlgate run --network allow --allow-host huggingface.co:443 --allow-host '*.hf.co:443' \
      --secret HF_TOKEN -- python download.py
  mlgate run --policy ci/train.run.yaml --format json --output run-report.json -- make train
  mlgate run --learn train.run.yaml -- python train.py
  mlgate run --rw out --sign-key env://RUN_SIGNING_KEY -o run.intoto.json -- python train.py --out out
  mlgate run --probe`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.probe {
				return nil
			}
			if len(args) == 0 {
				return errors.New("no command: give it after --, e.g. mlgate run -- python train.py")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return f.run(cmd, args) },
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.StringVar(&f.network, "network", "none", "network for the stage: none (loopback only), allow (proxy with --allow-host list) or host")
	fl.StringArrayVar(&f.allowHosts, "allow-host", nil, "allow egress to `HOST:PORT` through the proxy; *.example.com:443 allows subdomains (repeatable)")
	fl.BoolVar(&f.allowPrivateEgress, "allow-private-egress", false, "let allowed hosts resolve to loopback, private (10/8, 172.16/12, 192.168/16), shared (100.64/10) and unique-local addresses: internal mirrors")
	fl.StringArrayVar(&f.rw, "rw", nil, "let the stage write under `PATH` (repeatable)")
	fl.StringArrayVar(&f.ro, "ro", nil, "bind `PATH` read-only, e.g. a carve-out inside an --rw tree (repeatable)")
	fl.StringArrayVar(&f.allowCreds, "allow-credential", nil, "do not hide this credential `PATH` (e.g. ~/.netrc) from the stage (repeatable)")
	fl.StringArrayVar(&f.env, "env", nil, "pass the environment variable `NAME` (not a secret) (repeatable)")
	fl.StringArrayVar(&f.secrets, "secret", nil, "pass the secret environment variable `NAME` (repeatable)")
	fl.StringArrayVar(&f.watch, "watch", nil, "hash the tree at `PATH` before and after and report changes (repeatable)")
	fl.StringVar(&f.modelOutput, "model-output", "", "the stage's model output directory `PATH`: writable, watched, and every write into it attributed to a process; writes by other programs than the stage's own are reported (run/unexpected-model-writer)")
	fl.BoolVar(&f.noDefaultWatch, "no-default-watch", false, "do not watch the runner's Python site-packages directories")
	fl.StringVar(&f.mode, "mode", "audit", "audit (report only) or enforce (kill the stage on a critical finding)")
	fl.StringVar(&f.policy, "policy", "", "read flags from the YAML policy `FILE`; command-line flags add to it")
	fl.StringVar(&f.learn, "learn", "", "write a starting policy learned from this run to `FILE`")
	fl.StringVar(&f.history, "history", "", "durations of earlier runs (`FILE`, one per line); this run's is appended when it succeeds")
	fl.StringVar(&f.timeout, "timeout", "", "kill the stage after `DURATION` (e.g. 2h)")
	fl.BoolVar(&f.probe, "probe", false, "report which isolation features work on this machine for this user, and exit")
	fl.StringVarP(&f.format, "format", "f", "text", "report format: text, json or sarif")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` instead of standard error")
	fl.StringVar(&f.color, "color", "auto", "colour text output: auto, always or never")
	fl.StringVar(&f.signKey, "sign-key", "", "write the report to --output as a signed in-toto statement (DSSE) with this private `KEY` (PEM, cosign.key, or env://VAR); verify with mlgate verify DIR --run-report FILE --key PUB")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 1 when the stage succeeded but a finding is at or above this severity")
	return cmd
}

func (f *runFlags) run(cmd *cobra.Command, args []string) error {
	if f.probe {
		m := sandbox.Probe()
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	}
	format, err := report.ParseFormat(f.format)
	if err != nil {
		return usageErr("%v", err)
	}
	var failOn *finding.Severity
	if f.failOn != "" {
		s, err := finding.ParseSeverity(f.failOn)
		if err != nil {
			return usageErr("--fail-on: %v", err)
		}
		failOn = &s
	}
	pol := &sandbox.Policy{}
	if f.policy != "" {
		b, err := os.ReadFile(f.policy)
		if err != nil {
			return usageErr("--policy: %v", err)
		}
		if pol, err = sandbox.ParsePolicy(b); err != nil {
			return usageErr("--policy %s: %v", f.policy, err)
		}
	}
	fl := cmd.Flags()
	o := sandbox.Options{
		Argv:               args,
		Network:            pol.Network,
		Mode:               pol.Mode,
		RW:                 append(pol.RW, f.rw...),
		RO:                 append(pol.RO, f.ro...),
		AllowCredentials:   append(pol.AllowCredentials, f.allowCreds...),
		Env:                append(pol.Env, f.env...),
		Secrets:            append(pol.Secrets, f.secrets...),
		Watch:              append(pol.Watch, f.watch...),
		NoDefaultWatch:     pol.NoDefaultWatch || f.noDefaultWatch,
		AllowPrivateEgress: pol.AllowPrivateEgress || f.allowPrivateEgress,
		Executables:        pol.Executables,
		Stdin:              cmd.InOrStdin(),
		Stdout:             cmd.OutOrStdout(),
		Stderr:             cmd.ErrOrStderr(),
	}
	if pol.ModelOutput != nil {
		o.ModelOutput, o.ModelWriters = pol.ModelOutput.Path, pol.ModelOutput.Writers
	}
	if f.modelOutput != "" {
		o.ModelOutput = f.modelOutput
	}
	if o.ModelOutput != "" {
		if fi, err := os.Stat(o.ModelOutput); err != nil || !fi.IsDir() {
			return usageErr("--model-output %s: not an existing directory", o.ModelOutput)
		}
	}
	if o.Network == "" || fl.Changed("network") {
		o.Network = f.network
	}
	if o.Mode == "" || fl.Changed("mode") {
		o.Mode = f.mode
	}
	for _, h := range append(append([]string{}, pol.AllowHosts...), f.allowHosts...) {
		r, err := sandbox.ParseHostRule(h)
		if err != nil {
			return usageErr("%v", err)
		}
		o.AllowHosts = append(o.AllowHosts, r)
	}
	if len(o.AllowHosts) > 0 && o.Network == sandbox.NetworkNone && !fl.Changed("network") {
		o.Network = sandbox.NetworkAllow
	}
	timeout := pol.Timeout
	if fl.Changed("timeout") {
		timeout = f.timeout
	}
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil || d < 0 {
			return usageErr("--timeout %q: want a duration such as 2h", timeout)
		}
		o.Timeout = d
	}
	history := pol.History
	if f.history != "" {
		history = f.history
	}
	if history != "" {
		hf, err := os.Open(history)
		switch {
		case err == nil:
			o.History, err = sandbox.ParseHistory(hf)
			hf.Close()
			if err != nil {
				return usageErr("--history %s: %v", history, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			return usageErr("--history: %v", err)
		}
	}

	// The signing key is loaded before the stage runs (a wrong password
	// must not cost a training run) and hidden from the stage, which must
	// not be able to sign reports of its own.
	var signer crypto.Signer
	if f.signKey != "" {
		if f.output == "" || f.output == "-" {
			return usageErr("--sign-key needs --output FILE: the signed report is written there")
		}
		if fl.Changed("format") && format != report.FormatJSON {
			return usageErr("--sign-key signs the JSON report; --format %s cannot be signed", f.format)
		}
		format = report.FormatJSON
		if name, ok := strings.CutPrefix(f.signKey, "env://"); ok {
			if slices.Contains(o.Env, name) || slices.Contains(o.Secrets, name) {
				return usageErr("--sign-key env://%s: the stage would receive the signing key (%s is passed with --env/--secret)", name, name)
			}
		} else if abs, err := filepath.Abs(f.signKey); err == nil {
			if real, err := filepath.EvalSymlinks(abs); err == nil {
				abs = real // cover the file itself, whatever name leads to it
			}
			o.Hide = append(o.Hide, abs)
		}
		if signer, err = loadSigner(&SignCommon{Key: f.signKey}); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := sandbox.Run(ctx, o)
	if err != nil {
		return &exitError{code: report.ExitError, err: err}
	}

	if f.learn != "" {
		b, err := sandbox.Learn(&o, res).Marshal()
		if err == nil {
			err = os.WriteFile(f.learn, b, 0o644)
		}
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: warning: --learn: %v\n", err)
		}
	}
	if history != "" && res.Verdict != sandbox.VerdictHalted && res.ExitCode == 0 {
		if hf, err := os.OpenFile(history, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = io.WriteString(hf, sandbox.FormatHistoryEntry(res.Duration))
			hf.Close()
		}
	}

	in := report.Input{Path: strings.Join(res.Command, " "), Format: "run", Status: report.StatusAnalyzed, Details: res}
	if len(res.Errors) > 0 {
		in.Status, in.Error = report.StatusError, strings.Join(res.Errors, "\n")
	}
	rep := &report.Report{Tool: report.Tool{Name: "mlgate", Version: version()}, Inputs: []report.Input{in}, Findings: res.Findings}
	var w io.Writer = cmd.ErrOrStderr()
	var file *os.File
	if f.output != "" {
		if file, err = os.Create(f.output); err != nil {
			return usageErr("--output: %v", err)
		}
		w = file
	}
	var werr error
	if signer != nil {
		var unhashed []string
		unhashed, werr = writeSignedRunReport(w, rep, res, signer)
		for _, u := range unhashed {
			fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: warning: output not hashed, so not a subject of the signed report: %s\n", report.Sanitize(u))
		}
	} else {
		werr = report.Write(w, rep, format, report.Options{Color: useColor(f.color, w)})
	}
	if werr == nil && format == report.FormatText {
		writeRunSummary(w, res)
	}
	if file != nil {
		if err := file.Close(); werr == nil {
			werr = err
		}
		what := string(format)
		if signer != nil {
			what = "signed json"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: run %s (stage exit %d); wrote %s report to %s: %s\n", res.Verdict, res.ExitCode, what, f.output, report.Summary(rep))
	}
	if werr != nil {
		return &exitError{code: report.ExitError, err: fmt.Errorf("write report: %w", werr)}
	}
	switch {
	case res.Verdict == sandbox.VerdictHalted:
		return &exitError{code: exitHalted, err: fmt.Errorf("stage halted: %s", res.HaltReason)}
	case res.ExitCode != 0:
		return &exitError{code: res.ExitCode}
	case failOn != nil:
		for _, fd := range res.Findings {
			if fd.Severity >= *failOn {
				return &exitError{code: report.ExitFindings}
			}
		}
	}
	return nil
}

// writeRunSummary ends text output with the verdict and the layer list.
func writeRunSummary(w io.Writer, res *sandbox.Result) {
	execs, connects, egress, writes := 0, 0, 0, 0
	for _, e := range res.Events {
		switch e.Kind {
		case sandbox.EventExec:
			execs++
		case sandbox.EventConnect:
			connects++
		case sandbox.EventEgress:
			egress++
		case sandbox.EventWrite:
			writes++
		}
	}
	fmt.Fprintf(w, "run: verdict %s, stage exit %d", res.Verdict, res.ExitCode)
	if res.HaltReason != "" {
		fmt.Fprintf(w, ", halted: %s", report.Sanitize(res.HaltReason))
	}
	fmt.Fprintf(w, "; %s; %d execs, %d connects, %d proxy requests, %d watched writes, %d file changes\n", res.Duration.Round(time.Millisecond), execs, connects, egress, writes, len(res.FileChanges))
	for _, l := range res.Layers {
		state := "active  "
		if !l.Active {
			state = "INACTIVE"
		}
		fmt.Fprintf(w, "  %s %-24s %s\n", state, l.Name, report.Sanitize(l.Reason))
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  error: %s\n", report.Sanitize(e))
	}
}

// writeSignedRunReport writes the run's JSON report as an in-toto
// statement (predicate https://mlgate.dev/run-report/v1, subjects the
// files the stage wrote under its --rw paths) in a DSSE envelope.
// It returns the outputs that could not be hashed.
func writeSignedRunReport(w io.Writer, rep *report.Report, res *sandbox.Result, signer crypto.Signer) ([]string, error) {
	var js bytes.Buffer
	if err := report.Write(&js, rep, report.FormatJSON, report.Options{}); err != nil {
		return nil, err
	}
	st, err := sandbox.NewReportStatement(js.Bytes(), res)
	if err != nil {
		return nil, err
	}
	env, err := sandbox.SignReport(signer, st)
	if err != nil {
		return nil, err
	}
	_, err = w.Write(env)
	return st.Predicate.Unhashed, err
}
