// Commands sign, verify and digest: OpenSSF Model Signing (OMS v1.0)
// signatures and sha256sum-compatible manifests over model files and
// directories (library: package sign; keys: sign/keys; envelopes: sign/dsse).
//
// # Extension design (for sign/cosign, sign/provenance, sign/keyless)
//
// Other signature formats plug into `mlgate sign` and `mlgate verify` from
// their OWN file in this package (e.g. internal/cli/sign_cosign.go), without
// editing this one, by calling registerSignExtension from an init function:
//
//	func init() {
//		registerSignExtension(signExtension{
//			Name: "cosign",
//			SignFormats: []string{"cosign"},          // values of `sign --format`
//			AddSignFlags:   func(fs *pflag.FlagSet) { ... }, // extra flags
//			AddVerifyFlags: func(fs *pflag.FlagSet) { ... },
//			Sign:   func(cmd *cobra.Command, model string, o *SignCommon) error { ... },
//			Verify: func(cmd *cobra.Command, model string, o *VerifyCommon) (handled bool, err error) { ... },
//		})
//	}
//
// Rules:
//   - `sign --format F`: "oms" (default) is handled here; any other F is
//     dispatched to the extension that lists F in SignFormats.
//   - verify: every extension's Verify is called in registration order
//     before the OMS path; the first that returns handled=true owns the run
//     (decide from your own flags, e.g. --provenance, or by sniffing
//     o.Signature). Return (false, nil) to let the OMS path run.
//   - Flags shared by everything are parsed here and passed in SignCommon /
//     VerifyCommon (--key, --cert, --cert-chain, --signature, --output,
//     --format, --ignore-paths, ...). Extensions add only their own flags.
//     Note: `verify --format` is the OUTPUT format (text|json); `sign
//     --format` is the SIGNATURE format.
//   - Exit codes: return verifyFailed(err) when the artifact/signature was
//     checked and is bad (exit 1; a present but malformed signature file
//     counts as bad), couldNotRun(err) when verification could not be
//     carried out (exit 2: unreadable key or signature file, bad flags).
//     A *sign.Failure is exit 1; any other error exits 2.
//   - Output: one line of result on stdout, details on stderr.
//     printVerifyResult(cmd, o.Format, &VerifyResult{Schema: "mlgate.verify/v1",
//     Model: m, Signature: s, VerifyResult: &sign.VerifyResult{...}}, err)
//     prints the standard text/JSON form and returns the exit error.
//   - readSignatureFile(path) reads a signature file with the size bound.
//   - Private keys: call loadSigner(o) so that registered sign/keys loaders
//     (cosign encrypted keys, env://VAR) and the password
//     (COSIGN_PASSWORD / MLGATE_KEY_PASSWORD) are honoured everywhere.
//   - --signature defaults to "model.sig"; use cmd.Flags().Changed to tell
//     an explicit value from the default.
package cli

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlgate/mlgate/report"
	"github.com/mlgate/mlgate/sign"
	"github.com/mlgate/mlgate/sign/cosign"
	"github.com/mlgate/mlgate/sign/keys"
)

// SignCommon holds the flags of `mlgate sign` that every format shares.
type SignCommon struct {
	Key          string   // --key: private key file or env://VAR
	Cert         string   // --cert: signing certificate (PEM)
	CertChain    []string // --cert-chain: intermediate/root certificates (PEM)
	Output       string   // --output: signature file to write
	Format       string   // --format: signature format (oms, or an extension's)
	Method       string   // --method: files or shards
	ShardSize    int64    // --shard-size
	IgnorePaths  []string // --ignore-paths
	IncludeGit   bool     // --no-ignore-git-paths
	AllowSymlink bool     // --allow-symlinks
	Reuse        string   // --reuse OLD.sig
	Rehash       bool     // --rehash
	NoCache      bool     // --no-cache
}

// VerifyCommon holds the flags of `mlgate verify` that every format shares.
type VerifyCommon struct {
	Signature    string   // --signature
	Key          string   // --key: public key, certificate, or env://VAR
	Cert         string   // --cert: the expected signing certificate
	CertChain    []string // --cert-chain: trust anchors for certificate bundles
	Format       string   // --format: output format, text or json
	IgnorePaths  []string // --ignore-paths
	IgnoreUnsign bool     // --ignore-unsigned-files
	Only         []string // --only
}

// signExtension is another signature format's hook into sign and verify.
type signExtension struct {
	Name           string
	SignFormats    []string
	AddSignFlags   func(fs *pflag.FlagSet)
	AddVerifyFlags func(fs *pflag.FlagSet)
	Sign           func(cmd *cobra.Command, model string, o *SignCommon) error
	Verify         func(cmd *cobra.Command, model string, o *VerifyCommon) (handled bool, err error)
}

var signExtensions []signExtension

// registerSignExtension adds a format; call it from init.
func registerSignExtension(e signExtension) { signExtensions = append(signExtensions, e) }

// verifyFailed marks err as "checked and bad" (exit 1).
func verifyFailed(err error) error { return &exitError{code: report.ExitFindings, err: err} }

// couldNotRun marks err as "verification could not be carried out" (exit 2).
func couldNotRun(err error) error { return &exitError{code: report.ExitError, err: err} }

// keyPassword returns the password of an encrypted private key from
// COSIGN_PASSWORD or MLGATE_KEY_PASSWORD.
func keyPassword() ([]byte, error) {
	for _, v := range []string{"MLGATE_KEY_PASSWORD", "COSIGN_PASSWORD"} {
		if p, ok := os.LookupEnv(v); ok {
			return []byte(p), nil
		}
	}
	// As cosign does: prompt without echo when stdin is a terminal, never read a pipe.
	if p, err := cosign.TerminalPassword(); err == nil {
		return p, nil
	}
	return nil, errors.New("the key is encrypted: set COSIGN_PASSWORD or MLGATE_KEY_PASSWORD")
}

// loadSigner loads --key through sign/keys, so that registered loaders and
// env:// references work for every format.
func loadSigner(o *SignCommon) (crypto.Signer, error) {
	if o.Key == "" {
		return nil, usageErr("--key is required (a PEM private key, or env://VAR)")
	}
	s, err := keys.LoadPrivateKeyWithPassword(o.Key, keyPassword)
	if err != nil {
		return nil, couldNotRun(fmt.Errorf("load signing key: %w", err))
	}
	return s, nil
}

// byteProgress adapts the shared progress bar to byte counts with a rate.
func byteProgress(w io.Writer) func(done, total int64) {
	bar := progressBar(w)
	if bar == nil {
		return nil
	}
	start := time.Now()
	return func(done, total int64) {
		const mib = 1 << 20
		rate := float64(done) / mib / max(time.Since(start).Seconds(), 1e-3)
		bar(int(done/mib), int(max(total/mib, 1)), fmt.Sprintf("MiB  %.0f MiB/s", rate))
	}
}

func newSignCommand() *cobra.Command {
	var o SignCommon
	cmd := &cobra.Command{
		Use:   "sign MODEL",
		Short: "Sign a model file or directory (OpenSSF Model Signing v1.0)",
		Long: `Sign a model file or directory in the OpenSSF Model Signing format
(OMS v1.0), the format of the reference model_signing tool: a Sigstore
bundle holding a DSSE envelope over an in-toto statement that lists the
SHA-256 of every file (--method files) or of every --shard-size byte range
(--method shards), and a root digest over them.

Files are hashed in parallel on all cores. The root's .git, .gitattributes,
.github and .gitignore are not signed (--no-ignore-git-paths signs them);
--ignore-paths leaves out more (paths relative to the current directory, or
to the model). The signature file is left out when it lies inside the model.
Symbolic links are an error unless --allow-symlinks; even then a link that
leaves the model directory is an error.

Keys: PEM ECDSA P-256/P-384/P-521 (what model_signing verifies), Ed25519 or
RSA; env://VAR reads the PEM from a variable. With --cert (and --cert-chain)
the bundle carries the certificate chain instead of a key hint.

Re-signing: every signature gets a cache file next to it (model.sig.cache).
--reuse OLD.sig takes the digests of files whose size, mtime, ctime and inode
are unchanged from OLD.sig instead of re-reading them; --rehash disables
that.`,
		Example: `  mlgate sign ./my-model --key signing-key.pem --output my-model.sig
  mlgate sign ./my-model --key key.pem --method shards --shard-size 1000000000
  mlgate sign ./my-model --key key.pem --cert signer.crt --cert-chain ca.crt
  mlgate sign ./my-model --key key.pem --output my-model.sig --reuse my-model.sig`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "oms" {
				for _, e := range signExtensions {
					if slices.Contains(e.SignFormats, o.Format) && e.Sign != nil {
						return e.Sign(cmd, args[0], &o)
					}
				}
				return usageErr("unknown --format %q", o.Format)
			}
			return runSign(cmd, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Key, "key", "", "private key (PEM file, or env://VAR)")
	f.StringVar(&o.Cert, "cert", "", "signing certificate (PEM) to embed instead of a key hint")
	f.StringSliceVar(&o.CertChain, "cert-chain", nil, "certificates (PEM) of the signing certificate's chain, leaf's issuer first")
	f.StringVarP(&o.Output, "output", "o", "model.sig", "signature file to write")
	f.StringVar(&o.Format, "format", "oms", "signature format")
	f.StringVar(&o.Method, "method", sign.MethodFiles, "files (one digest per file) or shards (one per --shard-size bytes)")
	f.Int64Var(&o.ShardSize, "shard-size", sign.DefaultShardSize, "shard size in bytes for --method shards")
	f.StringSliceVar(&o.IgnorePaths, "ignore-paths", nil, "paths to leave out of the signature")
	f.BoolVar(&o.IncludeGit, "no-ignore-git-paths", false, "also sign .git, .gitattributes, .github and .gitignore at the root")
	f.BoolVar(&o.AllowSymlink, "allow-symlinks", false, "hash the targets of symbolic links inside the model")
	f.StringVar(&o.Reuse, "reuse", "", "earlier signature whose digests of unchanged files are reused")
	f.BoolVar(&o.Rehash, "rehash", false, "with --reuse: hash every file anyway")
	f.BoolVar(&o.NoCache, "no-cache", false, "do not write the OUTPUT.cache file used by --reuse")
	_ = cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions([]string{"files", "shards"}, cobra.ShellCompDirectiveNoFileComp))
	for _, e := range signExtensions {
		if e.AddSignFlags != nil {
			e.AddSignFlags(f)
		}
	}
	return cmd
}

func runSign(cmd *cobra.Command, model string, o *SignCommon) error {
	if o.Method != sign.MethodFiles && o.Method != sign.MethodShards {
		return usageErr("--method must be files or shards, got %q", o.Method)
	}
	if o.ShardSize <= 0 || o.ShardSize > sign.MaxShardSize {
		return usageErr("--shard-size must be between 1 and %d", int64(sign.MaxShardSize))
	}
	if o.Output == "" || o.Output == "-" {
		return usageErr("--output must name a file")
	}
	signer, err := loadSigner(o)
	if err != nil {
		return err
	}
	var certs []*x509.Certificate
	if o.Cert != "" {
		if certs, err = keys.LoadCertChain(append([]string{o.Cert}, o.CertChain...)...); err != nil {
			return couldNotRun(fmt.Errorf("load certificates: %w", err))
		}
	} else if len(o.CertChain) > 0 {
		return usageErr("--cert-chain needs --cert")
	}
	ign, dropped := sign.ResolveIgnorePaths(model, o.IgnorePaths)
	for _, d := range dropped {
		fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: warning: --ignore-paths %s is outside the model; ignored\n", d)
	}
	opts := sign.SignOptions{
		HashConfig: sign.HashConfig{
			Method: o.Method, ShardSize: o.ShardSize, IgnorePaths: ign,
			IncludeGitPaths: o.IncludeGit, AllowSymlinks: o.AllowSymlink,
			Progress: byteProgress(cmd.ErrOrStderr()),
		},
		Signer: signer, Certificates: certs, SignaturePath: o.Output,
	}
	if o.Reuse != "" && !o.Rehash {
		vo := sign.VerifyOptions{PublicKey: signer.Public()}
		if len(certs) > 0 {
			vo = sign.VerifyOptions{Pinned: certs[0]}
		}
		r, err := sign.LoadReuse(o.Reuse, vo)
		if err != nil {
			return couldNotRun(err)
		}
		if r.Reused() == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: no usable cache %s%s: hashing every file\n", o.Reuse, sign.CacheSuffix)
		}
		opts.Reuse = r
	}
	start := time.Now()
	res, err := sign.Sign(model, opts)
	if err != nil {
		return couldNotRun(fmt.Errorf("sign %s: %w", model, err))
	}
	if err := writeFileAtomic(o.Output, res.Bundle); err != nil {
		return couldNotRun(err)
	}
	if !o.NoCache {
		if err := sign.WriteCache(o.Output+sign.CacheSuffix, res.Manifest, res.Files); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: warning: write cache: %v\n", err)
		}
	}
	var total int64
	for _, f := range res.Files {
		total += f.Size
	}
	fmt.Fprintf(cmd.OutOrStdout(), "signed %s: %d files, %s, %d resources (%s), root sha256:%x -> %s\n",
		report.Sanitize(model), len(res.Files), humanBytes(total), len(res.Manifest.Resources), res.Manifest.Serialization.Method, res.Manifest.RootDigest, report.Sanitize(o.Output))
	fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: hashed in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func newVerifyCommand() *cobra.Command {
	var o VerifyCommon
	cmd := &cobra.Command{
		Use:   "verify MODEL",
		Short: "Verify a model against its signature",
		Long: `Verify a model file or directory against an OpenSSF Model Signing
signature (made by mlgate sign or by model_signing): check the signature
with --key (public key PEM, or a certificate) or, for certificate-signed
bundles, against trust anchors given with --cert-chain (--cert pins the
exact signing certificate). Then re-hash the model with the serialization
recorded in the signature and compare every file: a changed byte, an added,
removed, renamed or truncated file fails and is named.

--only PATH hashes only the given files (model-relative) once the
signature over all digests has been checked. --ignore-unsigned-files
tolerates files the signature does not cover.

Output: one line on stdout (OK or FAILED), details on stderr; --format json
prints a typed result. Exit codes: 0 verified, 1 verification failed,
2 verification could not run (unreadable key or signature, bad flags).`,
		Example: `  mlgate verify ./my-model --signature my-model.sig --key signing-key.pub
  mlgate verify ./my-model --signature my-model.sig --cert-chain ca.crt
  mlgate verify ./my-model --signature my-model.sig --key k.pub --only model.safetensors
  mlgate verify ./my-model --signature my-model.sig --key k.pub --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format == "cosign" {
				// `--format cosign`, as for sign: the signature must be a
				// cosign blob signature (which is also recognised without
				// the flag); the result is printed as text.
				data, err := readSignatureHead(o.Signature)
				if err != nil {
					return usageErr("--signature: %v", err)
				}
				if !cosign.IsSignatureFile(data) {
					return usageErr("--format cosign: %s is not a cosign blob signature (base64 text as cosign sign-blob writes it)", o.Signature)
				}
				o.Format = "text"
			}
			if o.Format != "text" && o.Format != "json" {
				return usageErr("--format must be text, json or cosign, got %q", o.Format)
			}
			for _, e := range signExtensions {
				if e.Verify == nil {
					continue
				}
				if handled, err := e.Verify(cmd, args[0], &o); handled || err != nil {
					return err
				}
			}
			return runVerify(cmd, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Signature, "signature", "s", "model.sig", "signature file")
	f.StringVar(&o.Key, "key", "", "public key (PEM, or a certificate; env://VAR)")
	f.StringVar(&o.Cert, "cert", "", "expected signing certificate (PEM) of a certificate-signed bundle")
	f.StringSliceVar(&o.CertChain, "cert-chain", nil, "trust anchors (PEM certificates) for certificate-signed bundles")
	f.StringVar(&o.Format, "format", "text", "output format: text or json; cosign: the signature is a cosign blob signature (text output)")
	f.StringSliceVar(&o.IgnorePaths, "ignore-paths", nil, "more paths to ignore (those recorded in the signature always are)")
	f.BoolVar(&o.IgnoreUnsign, "ignore-unsigned-files", false, "tolerate files the signature does not cover")
	f.StringSliceVar(&o.Only, "only", nil, "check only these model-relative files (after the signature check)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json", "cosign"}, cobra.ShellCompDirectiveNoFileComp))
	for _, e := range signExtensions {
		if e.AddVerifyFlags != nil {
			e.AddVerifyFlags(f)
		}
	}
	return cmd
}

// VerifyResult is the JSON output of mlgate verify (schema "mlgate.verify/v1").
type VerifyResult struct {
	Schema    string `json:"schema"`
	Model     string `json:"model"`
	Signature string `json:"signature"`
	// Status is "verified", "failed" (exit 1) or "error" (exit 2).
	Status string `json:"status"`
	// FailureKind is the sign.Kind of a failure.
	FailureKind string `json:"failure_kind,omitempty"`
	Error       string `json:"error,omitempty"`
	*sign.VerifyResult
}

func runVerify(cmd *cobra.Command, model string, o *VerifyCommon) error {
	out := VerifyResult{Schema: "mlgate.verify/v1", Model: model, Signature: o.Signature}
	res, err := verifyOMS(cmd, model, o)
	out.VerifyResult = res
	return printVerifyResult(cmd, o.Format, &out, err)
}

// printVerifyResult prints a verification outcome (text: one line on
// stdout, details on stderr; json: the typed result) and maps err to the
// exit code: nil 0, a sign.Failure or verifyFailed 1, anything else 2.
func printVerifyResult(cmd *cobra.Command, format string, out *VerifyResult, err error) error {
	code := report.ExitOK
	var ee *exitError
	switch {
	case err == nil:
		out.Status = "verified"
	case sign.IsFailure(err) || errors.As(err, &ee) && ee.code == report.ExitFindings:
		code = report.ExitFindings
		out.Status = "failed"
		var f *sign.Failure
		if errors.As(err, &f) {
			out.FailureKind = string(f.Kind)
		}
	default:
		code = report.ExitError
		out.Status = "error"
	}
	if err != nil {
		out.Error = err.Error()
		if errors.As(err, &ee) && ee.err != nil {
			out.Error = ee.err.Error()
		}
	}
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if out.VerifyResult == nil {
		out.VerifyResult = &sign.VerifyResult{}
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if e := enc.Encode(out); e != nil {
			return couldNotRun(e)
		}
		if code != report.ExitOK {
			return &exitError{code: code}
		}
		return nil
	}
	for _, w := range out.Warnings {
		fmt.Fprintln(stderr, "mlgate: warning:", report.Sanitize(w))
	}
	model := report.Sanitize(out.Model)
	switch code {
	case report.ExitOK:
		scope := fmt.Sprintf("%d files", out.Files)
		if out.Partial {
			scope = fmt.Sprintf("%d of %d files (--only)", out.Checked, out.Files)
		}
		fmt.Fprintf(stdout, "OK: %s matches %s (%s, %s, root sha256:%s)\n", model, report.Sanitize(out.Signature), out.Signer, scope, out.RootDigest)
		return nil
	case report.ExitFindings:
		first, rest, _ := strings.Cut(out.Error, "\n")
		fmt.Fprintf(stdout, "FAILED: %s: %s\n", model, report.Sanitize(first))
		if rest != "" {
			for _, l := range strings.Split(rest, "\n") {
				fmt.Fprintln(stderr, report.Sanitize(l))
			}
		}
		return &exitError{code: code}
	}
	fmt.Fprintf(stdout, "ERROR: %s: verification could not run\n", model)
	return &exitError{code: code, err: errors.New(out.Error)}
}

func verifyOMS(cmd *cobra.Command, model string, o *VerifyCommon) (*sign.VerifyResult, error) {
	data, err := readSignatureFile(o.Signature)
	if err != nil {
		return nil, err
	}
	vo := sign.VerifyOptions{SignaturePath: o.Signature, IgnoreUnsignedFiles: o.IgnoreUnsign, Only: o.Only,
		Progress: byteProgress(cmd.ErrOrStderr())}
	if o.Key == "" && o.Cert == "" && len(o.CertChain) == 0 {
		return nil, usageErr("pass --key (public key) or --cert/--cert-chain (certificates)")
	}
	if o.Key != "" {
		if vo.PublicKey, err = keys.LoadPublicKey(o.Key); err != nil {
			return nil, couldNotRun(fmt.Errorf("load public key: %w", err))
		}
	}
	if o.Cert != "" {
		c, err := keys.LoadCertChain(o.Cert)
		if err != nil {
			return nil, couldNotRun(fmt.Errorf("load --cert: %w", err))
		}
		vo.Pinned = c[0]
	}
	if len(o.CertChain) > 0 {
		if vo.Roots, err = keys.LoadCertChain(o.CertChain...); err != nil {
			return nil, couldNotRun(fmt.Errorf("load --cert-chain: %w", err))
		}
	}
	var dropped []string
	vo.IgnorePaths, dropped = sign.ResolveIgnorePaths(model, o.IgnorePaths)
	for _, d := range dropped {
		fmt.Fprintf(cmd.ErrOrStderr(), "mlgate: warning: --ignore-paths %s is outside the model; ignored\n", d)
	}
	for i, p := range vo.Only {
		if rel, _ := sign.ResolveIgnorePaths(model, []string{p}); len(rel) == 1 {
			vo.Only[i] = rel[0]
		}
	}
	res, err := sign.Verify(model, data, vo)
	if err != nil && !sign.IsFailure(err) {
		return res, couldNotRun(err)
	}
	return res, err
}

func newDigestCommand() *cobra.Command {
	var (
		check, output          string
		ignore                 []string
		includeGit, allowLinks bool
		quiet                  bool
	)
	cmd := &cobra.Command{
		Use:   "digest MODEL | digest --check FILE",
		Short: "Print or check a sha256sum-compatible manifest of a model",
		Long: `Print the SHA-256 of every file of a model (file or directory) in
sha256sum format, "<hex>  <path>", one line per file in manifest order, with
paths as MODEL/relative-path so that 'sha256sum -c' accepts the output from
the same directory. Files are hashed in parallel; the same walk rules as
mlgate sign apply (git metadata at the root ignored, --ignore-paths, no
symbolic links unless --allow-symlinks).

--check FILE verifies a manifest made by mlgate digest or sha256sum (GNU or
BSD format) like 'sha256sum -c': "<path>: OK" or "<path>: FAILED" per line,
warnings on stderr, exit 1 when a file does not match or cannot be read.`,
		Example: `  mlgate digest ./my-model > my-model.sha256
  mlgate digest --check my-model.sha256
  sha256sum -c my-model.sha256`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if check != "" {
				if len(args) > 0 {
					return usageErr("--check takes no MODEL argument")
				}
				return runDigestCheck(cmd, check, quiet)
			}
			if len(args) != 1 {
				return usageErr("digest needs exactly one MODEL (or --check FILE)")
			}
			return runDigest(cmd, args[0], output, ignore, includeGit, allowLinks)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&check, "check", "c", "", "verify the checksums listed in FILE")
	f.BoolVar(&quiet, "quiet", false, "with --check: do not print OK lines")
	f.StringVarP(&output, "output", "o", "", "write the manifest to a file instead of stdout")
	f.StringSliceVar(&ignore, "ignore-paths", nil, "paths to leave out")
	f.BoolVar(&includeGit, "no-ignore-git-paths", false, "include .git, .gitattributes, .github and .gitignore at the root")
	f.BoolVar(&allowLinks, "allow-symlinks", false, "hash the targets of symbolic links inside the model")
	return cmd
}

func runDigest(cmd *cobra.Command, model, output string, ignore []string, includeGit, allowLinks bool) error {
	rel, _ := sign.ResolveIgnorePaths(model, ignore)
	if output != "" {
		rel = append(rel, sign.ResolveIgnorePathsInside(model, output)...)
	}
	m, _, err := sign.BuildManifest(model, sign.HashConfig{IgnorePaths: rel, IncludeGitPaths: includeGit, AllowSymlinks: allowLinks, Progress: byteProgress(cmd.ErrOrStderr())}, nil)
	if err != nil {
		return couldNotRun(err)
	}
	var b strings.Builder
	for _, r := range m.Resources {
		p := model
		if r.File != "." {
			p = strings.TrimSuffix(model, "/") + "/" + r.File
		}
		b.WriteString(sign.ChecksumLine(r.Digest, p))
		b.WriteByte('\n')
	}
	if output != "" {
		if err := writeFileAtomic(output, []byte(b.String())); err != nil {
			return couldNotRun(err)
		}
		return nil
	}
	_, err = io.WriteString(cmd.OutOrStdout(), b.String())
	return err
}

func runDigestCheck(cmd *cobra.Command, file string, quiet bool) error {
	var r io.Reader
	if file == "-" {
		r = cmd.InOrStdin()
	} else {
		fh, err := os.Open(file)
		if err != nil {
			return couldNotRun(err)
		}
		defer fh.Close()
		r = fh
	}
	entries, bad, err := sign.ParseChecksums(r)
	if err != nil {
		return couldNotRun(fmt.Errorf("%s: %w", file, err))
	}
	stderr, stdout := cmd.ErrOrStderr(), cmd.OutOrStdout()
	if len(entries) == 0 {
		return couldNotRun(fmt.Errorf("%s: no properly formatted checksum lines found", file))
	}
	st, err := sign.CheckChecksums(entries, 0, byteProgress(stderr))
	if err != nil {
		return couldNotRun(err)
	}
	var mism, unread int
	for i, e := range entries {
		name := report.Sanitize(e.Path)
		switch st[i] {
		case sign.CheckOK:
			if !quiet {
				fmt.Fprintf(stdout, "%s: OK\n", name)
			}
		case sign.CheckMismatch:
			mism++
			fmt.Fprintf(stdout, "%s: FAILED\n", name)
		case sign.CheckUnreadable:
			unread++
			fmt.Fprintf(stderr, "mlgate: %s: No such file or not a regular file\n", name)
			fmt.Fprintf(stdout, "%s: FAILED open or read\n", name)
		}
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "mlgate: WARNING: %d %s improperly formatted\n", bad, plural(bad, "line is", "lines are"))
	}
	if unread > 0 {
		fmt.Fprintf(stderr, "mlgate: WARNING: %d listed %s could not be read\n", unread, plural(unread, "file", "files"))
	}
	if mism > 0 {
		fmt.Fprintf(stderr, "mlgate: WARNING: %d computed %s did NOT match\n", mism, plural(mism, "checksum", "checksums"))
	}
	if mism > 0 || unread > 0 {
		return &exitError{code: report.ExitFindings}
	}
	return nil
}

// readSignatureFile reads a signature file of at most sign.MaxBundleSize
// bytes: unreadable is exit 2, too large exit 1 (it is not a signature).
func readSignatureFile(path string) ([]byte, error) {
	// Stat first so a FIFO is refused before open could block on it.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, couldNotRun(fmt.Errorf("signature %s is not a regular file", path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, couldNotRun(fmt.Errorf("read signature: %w", err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, couldNotRun(fmt.Errorf("signature %s is not a regular file", path))
	}
	data, err := io.ReadAll(io.LimitReader(f, sign.MaxBundleSize+1))
	if err != nil {
		return nil, couldNotRun(fmt.Errorf("read signature: %w", err))
	}
	if len(data) > sign.MaxBundleSize {
		return nil, verifyFailed(fmt.Errorf("signature file %s is larger than %d bytes: not a model signature", path, sign.MaxBundleSize))
	}
	return data, nil
}
