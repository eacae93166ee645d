package cli

// `mlgate provenance MODEL` writes SLSA v1 provenance for a model, and the
// `verify --provenance` extension checks it (see sign.go for the extension
// design). Library: sign/provenance; hashing: package sign.

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlgate/mlgate/report"
	"github.com/mlgate/mlgate/sign"
	"github.com/mlgate/mlgate/sign/cosign"
	"github.com/mlgate/mlgate/sign/keyless"
	"github.com/mlgate/mlgate/sign/keys"
	"github.com/mlgate/mlgate/sign/provenance"
)

// provenanceFlags are the values of the flags the provenance extension
// adds to `mlgate verify`, read back from the command's flag set (the
// extension keeps no state between runs).
type provenanceFlags struct {
	file, sig          string
	repo, builder, ref string
}

func provenanceFlagValues(cmd *cobra.Command) provenanceFlags {
	get := func(name string) string { v, _ := cmd.Flags().GetString(name); return v }
	return provenanceFlags{file: get("provenance"), sig: get("provenance-signature"),
		repo: get("expect-repo"), builder: get("expect-builder"), ref: get("expect-ref")}
}

func init() {
	registerSignExtension(signExtension{
		Name: "provenance",
		AddVerifyFlags: func(fs *pflag.FlagSet) {
			fs.String("provenance", "", "verify SLSA provenance FILE (a DSSE envelope, or a statement with --provenance-signature) against MODEL instead of a model signature")
			fs.String("provenance-signature", "", "cosign blob signature of the --provenance statement (the seed layout's provenance.sig)")
			fs.String("expect-repo", "", "with --provenance: required source repository (owner/repo, group/project, or a URL)")
			fs.String("expect-builder", "", "with --provenance: required builder id (exact)")
			fs.String("expect-ref", "", "with --provenance: required git ref (refs/heads/main, refs/tags/v1, or a bare name)")
		},
		Verify: runProvenanceVerify,
	})
}

func newProvenanceCommand() *cobra.Command {
	var (
		key, output, sigOutput, builderID string
		ignore                            []string
	)
	cmd := &cobra.Command{
		Use:   "provenance MODEL",
		Short: "Write SLSA v1 build provenance for a model, filled in from the CI environment",
		Long: `Write an in-toto Statement v1 with a SLSA v1 provenance predicate
(https://slsa.dev/provenance/v1) whose subjects are the model's files and
their SHA-256 digests (a directory is walked with the same rules as
mlgate sign; a single file is one subject named after it).

The build context is read from the environment: GitHub Actions
(GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF, GITHUB_RUN_ID, GITHUB_WORKFLOW_REF,
RUNNER_ENVIRONMENT ...), GitLab CI (CI_PROJECT_URL, CI_COMMIT_SHA,
CI_COMMIT_REF_NAME, CI_JOB_URL, CI_RUNNER_ID, CI_CONFIG_PATH ...), or, on a
plain machine, the user, host name and the git checkout around the model
(read from .git without running git). docs/provenance.md lists every field.

With --key the statement is signed as a DSSE envelope (payloadType
application/vnd.in-toto+json), verified with
  mlgate verify MODEL --provenance FILE --key PUB [--expect-repo ...]
With --key and --signature-output the statement is written as is and signed
like cosign sign-blob instead: the seed script's ARTIFACT.signatures/
provenance.json + provenance.sig layout, which cosign verify-blob accepts.
Without --key the unsigned statement is written.

Keys: PEM ECDSA/Ed25519/RSA private keys, cosign keys (cosign.key with
COSIGN_PASSWORD), or env://VAR holding either.`,
		Example: `  mlgate provenance ./model --key signing-key.pem --output model.provenance.json
  mlgate verify ./model --provenance model.provenance.json --key signing-key.pub \
      --expect-repo acme/fraud-model --expect-ref main \
      --expect-builder https://github.com/actions/runner/github-hosted
  # the seed's layout, checkable by cosign verify-blob too:
  mlgate provenance model.bin --key env://COSIGN_PRIVATE_KEY \
      --output model.bin.signatures/provenance.json \
      --signature-output model.bin.signatures/provenance.sig`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProvenance(cmd, args[0], provenanceOptions{key: key, output: output, sigOutput: sigOutput, builderID: builderID, ignore: ignore})
		},
	}
	f := cmd.Flags()
	f.StringVar(&key, "key", "", "sign with this private key (PEM, cosign.key, or env://VAR)")
	f.StringVarP(&output, "output", "o", "", "write to FILE instead of stdout")
	f.StringVar(&sigOutput, "signature-output", "", "with --key: write the statement unsigned to --output and a cosign blob signature of it to FILE")
	f.StringVar(&builderID, "builder-id", "", "override runDetails.builder.id")
	f.StringSliceVar(&ignore, "ignore-paths", nil, "paths to leave out of the subjects")
	return cmd
}

type provenanceOptions struct {
	key, output, sigOutput, builderID string
	ignore                            []string
}

func runProvenance(cmd *cobra.Command, model string, o provenanceOptions) error {
	if o.sigOutput != "" && o.key == "" {
		return usageErr("--signature-output needs --key")
	}
	if o.sigOutput != "" && (o.output == "" || o.output == "-") {
		return usageErr("--signature-output needs --output FILE (the signature covers that file's bytes)")
	}
	// Load the key before hashing: a wrong password should not cost a pass
	// over a large model.
	var signer crypto.Signer
	if o.key != "" {
		s, err := loadSigner(&SignCommon{Key: o.key})
		if err != nil {
			return err
		}
		signer = s
	}
	var extra []string
	for _, p := range []string{o.output, o.sigOutput} {
		if p != "" && p != "-" {
			extra = append(extra, p)
		}
	}
	files, err := modelDigests(cmd, model, o.ignore, extra)
	if err != nil {
		return err
	}
	info := provenance.Detect(os.LookupEnv, localBuildInfo(model))
	if o.builderID != "" {
		info.BuilderID = o.builderID
	}
	st := provenance.New(files, info, time.Now())
	stderr := cmd.ErrOrStderr()

	if signer != nil && o.sigOutput != "" {
		// The seed layout: the statement as a file and a cosign signature
		// over exactly the bytes written.
		doc, err := statementDocument(st)
		if err != nil {
			return couldNotRun(err)
		}
		raw, err := cosign.SignBlob(signer, bytes.NewReader(doc))
		if err != nil {
			return couldNotRun(fmt.Errorf("sign provenance: %w", err))
		}
		if err := writeFileAtomic(o.output, doc); err != nil {
			return couldNotRun(err)
		}
		if err := writeFileAtomic(o.sigOutput, cosign.EncodeSignature(raw)); err != nil {
			return couldNotRun(err)
		}
		fmt.Fprintf(stderr, "mlgate: provenance for %d files (%s build) -> %s, signature -> %s\n",
			len(files), info.Platform, report.Sanitize(o.output), report.Sanitize(o.sigOutput))
		return nil
	}

	var out []byte
	what := "unsigned statement"
	if signer == nil {
		out, err = statementDocument(st)
	} else {
		what = "DSSE envelope"
		env, serr := provenance.Sign(signer, st)
		if serr != nil {
			return couldNotRun(fmt.Errorf("sign provenance: %w", serr))
		}
		out, err = env.MarshalJSON()
		out = append(out, '\n')
	}
	if err != nil {
		return couldNotRun(err)
	}
	if err := writeOutput(cmd, o.output, out); err != nil {
		return err
	}
	if o.output != "" && o.output != "-" {
		fmt.Fprintf(stderr, "mlgate: provenance for %d files (%s build, %s) -> %s\n",
			len(files), info.Platform, what, report.Sanitize(o.output))
	}
	return nil
}

func writeOutput(cmd *cobra.Command, output string, data []byte) error {
	if output == "" || output == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	if err := writeFileAtomic(output, data); err != nil {
		return couldNotRun(err)
	}
	return nil
}

// statementDocument is the file form of an unsigned statement: indented
// JSON with a final newline.
func statementDocument(st *provenance.Statement) ([]byte, error) {
	compact, err := st.Marshal()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, compact, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// localBuildInfo describes this machine for local (non-CI) provenance.
func localBuildInfo(model string) provenance.Local {
	l := provenance.Local{Git: provenance.ReadGit(filepath.Dir(filepath.Clean(model)))}
	l.Hostname, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		l.User = u.Username
	} else {
		l.User = os.Getenv("USER")
	}
	return l
}

// modelDigests hashes a model with package sign's engine and returns one
// digest per file: model-relative names, or the file name for a single
// file. extra lists files (outputs, signatures) to leave out when they lie
// inside the model.
//
// The walk rules are fixed (git metadata at the root left out, symbolic
// links an error) so that verification sees the same files as creation.
func modelDigests(cmd *cobra.Command, model string, ignore, extra []string) ([]provenance.FileDigest, error) {
	rel, dropped := sign.ResolveIgnorePaths(model, ignore)
	for _, d := range dropped {
		fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: warning: --ignore-paths %s is outside the model; ignored\n", report.Sanitize(d))
	}
	rel = append(rel, sign.ResolveIgnorePathsInside(model, extra...)...)
	m, _, err := sign.BuildManifest(model, sign.HashConfig{IgnorePaths: rel, Progress: byteProgress(cmd.ErrOrStderr())}, nil)
	if err != nil {
		if sign.IsFailure(err) {
			return nil, verifyFailed(err)
		}
		return nil, couldNotRun(err)
	}
	out := make([]provenance.FileDigest, 0, len(m.Resources))
	for _, r := range m.Resources {
		name := r.File
		if name == "." {
			name = filepath.Base(filepath.Clean(model))
		}
		out = append(out, provenance.FileDigest{Name: name, SHA256: fmt.Sprintf("%x", r.Digest)})
	}
	return out, nil
}

// ProvenanceVerifyResult is the JSON output of `mlgate verify --provenance`
// (schema "mlgate.verify-provenance/v1").
type ProvenanceVerifyResult struct {
	Schema     string `json:"schema"`
	Model      string `json:"model"`
	Provenance string `json:"provenance"`
	// Status is "verified", "failed" (exit 1) or "error" (exit 2).
	Status string `json:"status"`
	// Signer is set for keyless bundles: the verified identity and issuer.
	Signer   string             `json:"signer,omitempty"`
	Error    string             `json:"error,omitempty"`
	Failures []provenanceReport `json:"failures,omitempty"`
	// From the verified statement (empty when the signature failed).
	Subjects     int    `json:"subjects,omitempty"`
	BuildType    string `json:"build_type,omitempty"`
	Builder      string `json:"builder,omitempty"`
	Repository   string `json:"repository,omitempty"`
	Ref          string `json:"ref,omitempty"`
	Commit       string `json:"commit,omitempty"`
	InvocationID string `json:"invocation_id,omitempty"`
	FinishedOn   string `json:"finished_on,omitempty"`
}

type provenanceReport struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject,omitempty"`
	Message string `json:"message"`
}

func runProvenanceVerify(cmd *cobra.Command, model string, o *VerifyCommon) (bool, error) {
	p := provenanceFlagValues(cmd)
	if p.file == "" {
		if p.sig != "" || p.repo != "" || p.builder != "" || p.ref != "" {
			return true, usageErr("--provenance-signature and --expect-* need --provenance FILE")
		}
		return false, nil
	}
	out := &ProvenanceVerifyResult{Schema: "mlgate.verify-provenance/v1", Model: model, Provenance: p.file}
	err := verifyProvenance(cmd, model, o, out)
	return true, printProvenanceResult(cmd, o.Format, out, err)
}

func verifyProvenance(cmd *cobra.Command, model string, o *VerifyCommon, out *ProvenanceVerifyResult) error {
	p := provenanceFlagValues(cmd)
	k := keylessFlagValues(cmd)
	if o.Cert != "" || len(o.CertChain) > 0 || len(o.Only) > 0 || o.IgnoreUnsign {
		return usageErr("--cert, --cert-chain, --only and --ignore-unsigned-files do not apply to --provenance")
	}
	policy := provenance.Policy{Repository: p.repo, BuilderID: p.builder, Ref: p.ref}
	if k.trustedRoot != "" {
		return verifyKeylessProvenance(cmd, model, o, p, k, policy, out)
	}
	if k.identity != "" || k.identityRE != "" || k.issuer != "" || k.issuerRE != "" {
		return usageErr("--identity, --identity-regexp, --issuer and --issuer-regexp need --trusted-root FILE")
	}
	if o.Key == "" {
		return usageErr("--provenance needs --key (the public key, cosign.pub, or env://VAR), or --trusted-root for a keyless Sigstore bundle")
	}
	pub, err := keys.LoadPublicKey(o.Key)
	if err != nil {
		return couldNotRun(fmt.Errorf("load public key: %w", err))
	}
	data, err := readFileBounded(p.file, provenance.MaxStatementSize)
	if err != nil {
		return couldNotRun(fmt.Errorf("read provenance: %w", err))
	}
	vo := provenance.VerifyOptions{PublicKey: pub, Policy: policy}
	if p.sig != "" {
		if vo.DetachedSignature, err = readFileBounded(p.sig, cosign.MaxSignatureFileSize); err != nil {
			return couldNotRun(fmt.Errorf("read provenance signature: %w", err))
		}
	}
	vo.Files, err = modelDigests(cmd, model, o.IgnorePaths, []string{p.file, p.sig})
	if err != nil {
		return err
	}
	res, err := provenance.Verify(data, vo)
	if err != nil {
		return couldNotRun(err)
	}
	return provenanceOutcome(res, out)
}

// verifyKeylessProvenance checks provenance carried in a keyless Sigstore
// bundle (as GitHub's artifact attestations are): the bundle against the
// trusted root and identity policy with sign/keyless, then the statement.
func verifyKeylessProvenance(cmd *cobra.Command, model string, o *VerifyCommon, p provenanceFlags, k keylessFlags, policy provenance.Policy, out *ProvenanceVerifyResult) error {
	if o.Key != "" || p.sig != "" {
		return usageErr("--trusted-root verifies a keyless Sigstore bundle; --key and --provenance-signature do not apply")
	}
	if (k.identity == "" && k.identityRE == "") || (k.issuer == "" && k.issuerRE == "") {
		return usageErr("%v", keyless.ErrNoIdentityPolicy)
	}
	tr, err := keyless.LoadTrustedRoot(k.trustedRoot)
	if err != nil {
		return couldNotRun(err)
	}
	data, err := readFileBounded(p.file, keyless.MaxBundleSize)
	if err != nil {
		return couldNotRun(fmt.Errorf("read provenance: %w", err))
	}
	files, err := modelDigests(cmd, model, o.IgnorePaths, []string{p.file})
	if err != nil {
		return err
	}
	kr, err := keyless.Verify(data, tr, keyless.Policy{Identity: k.identity, IdentityRegexp: k.identityRE, Issuer: k.issuer, IssuerRegexp: k.issuerRE})
	if err != nil {
		var f *keyless.Failure
		if errors.As(err, &f) {
			out.Failures = append(out.Failures, provenanceReport{Kind: string(f.Kind), Message: "keyless: " + f.Msg})
			return verifyFailed(errors.New(out.Failures[0].Message))
		}
		return couldNotRun(err)
	}
	if kr.PayloadType != provenance.PayloadType {
		msg := fmt.Sprintf("bundle payloadType is %q, want %q", kr.PayloadType, provenance.PayloadType)
		out.Failures = append(out.Failures, provenanceReport{Kind: string(provenance.KindPayloadType), Message: msg})
		return verifyFailed(errors.New(msg))
	}
	out.Signer = fmt.Sprintf("keyless %s (issuer %s)", kr.Identity, kr.Issuer)
	return provenanceOutcome(provenance.VerifyStatement(kr.Payload, provenance.VerifyOptions{Files: files, Policy: policy}), out)
}

// provenanceOutcome copies a provenance result into the output form and
// maps it to nil or a verification failure.
func provenanceOutcome(res *provenance.Result, out *ProvenanceVerifyResult) error {
	for _, f := range res.Failures {
		out.Failures = append(out.Failures, provenanceReport{Kind: string(f.Kind), Subject: f.Subject, Message: f.Msg})
	}
	if st := res.Statement; st != nil {
		out.Subjects = len(st.Subject)
		out.BuildType = st.Predicate.BuildDefinition.BuildType
		out.Builder = st.Predicate.RunDetails.Builder.ID
		out.Repository, out.Ref, out.Commit = st.Repository(), st.Ref(), st.Commit()
		out.InvocationID = st.Predicate.RunDetails.Metadata.InvocationID
		if t := st.Predicate.RunDetails.Metadata.FinishedOn; t != nil {
			out.FinishedOn = t.UTC().Format(time.RFC3339)
		}
	}
	if !res.OK() {
		return verifyFailed(res.Err())
	}
	return nil
}

func readFileBounded(path string, limit int64) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	if int64(b.Len()) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b.Bytes(), nil
}

// verifyOutcome maps a verification error to the exit code and the status
// word ("verified", "failed", "error") the verify commands report, and
// returns the error's text.
func verifyOutcome(err error) (code int, status, msg string) {
	var ee *exitError
	switch {
	case err == nil:
		return report.ExitOK, "verified", ""
	case errors.As(err, &ee) && ee.code == report.ExitFindings:
		return report.ExitFindings, "failed", err.Error()
	default:
		return report.ExitError, "error", err.Error()
	}
}

// writeVerifyJSON writes a verification result as indented JSON and
// returns the exit error for code.
func writeVerifyJSON(cmd *cobra.Command, out any, code int) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	if e := enc.Encode(out); e != nil {
		return couldNotRun(e)
	}
	if code != report.ExitOK {
		return &exitError{code: code}
	}
	return nil
}

func printProvenanceResult(cmd *cobra.Command, format string, out *ProvenanceVerifyResult, err error) error {
	code, status, msg := verifyOutcome(err)
	out.Status, out.Error = status, msg
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if format == "json" {
		return writeVerifyJSON(cmd, out, code)
	}
	model := report.Sanitize(out.Model)
	switch code {
	case report.ExitOK:
		var ctx []string
		if out.Signer != "" {
			ctx = append(ctx, "signed by "+report.Sanitize(out.Signer))
		}
		for _, kv := range [][2]string{{"builder", out.Builder}, {"repo", out.Repository}, {"ref", out.Ref}, {"commit", out.Commit}} {
			if kv[1] != "" {
				ctx = append(ctx, kv[0]+" "+report.Sanitize(kv[1]))
			}
		}
		fmt.Fprintf(stdout, "OK: %s matches provenance %s (%d files; %s)\n", model, report.Sanitize(out.Provenance), out.Subjects, strings.Join(ctx, ", "))
		return nil
	case report.ExitFindings:
		if len(out.Failures) == 0 {
			fmt.Fprintf(stdout, "FAILED: %s: %s\n", model, report.Sanitize(out.Error))
			return &exitError{code: code}
		}
		fmt.Fprintf(stdout, "FAILED: %s: %s\n", model, report.Sanitize(out.Failures[0].Message))
		for _, f := range out.Failures[1:] {
			fmt.Fprintln(stderr, report.Sanitize(f.Message))
		}
		return &exitError{code: code}
	}
	fmt.Fprintf(stdout, "ERROR: %s: verification could not run\n", model)
	if ee := (*exitError)(nil); errors.As(err, &ee) {
		return err
	}
	return couldNotRun(err)
}
