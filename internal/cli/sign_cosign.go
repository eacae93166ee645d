package cli

// cosign-compatible blob signatures for `mlgate sign --format cosign` and
// `mlgate verify` (see sign.go for the extension design). The signature
// file is what `cosign sign-blob --key` writes and `cosign verify-blob
// --key` reads: the base64 of an ECDSA/RSA signature over the file's
// SHA-256, or of an Ed25519 signature over the file.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mlgate/mlgate/report"
	"github.com/mlgate/mlgate/sign"
	"github.com/mlgate/mlgate/sign/cosign"
	"github.com/mlgate/mlgate/sign/keys"
)

func init() {
	registerSignExtension(signExtension{
		Name:        "cosign",
		SignFormats: []string{"cosign"},
		Sign:        runCosignSign,
		Verify:      runCosignVerify,
	})
}

// openBlob opens a regular file to sign or verify as a cosign blob.
func openBlob(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory: cosign blob signatures cover one file; sign directories in the OMS format (mlgate sign %s) or with provenance (mlgate provenance %s)", path, path, path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return os.Open(path)
}

func runCosignSign(cmd *cobra.Command, file string, o *SignCommon) error {
	if o.Cert != "" || len(o.CertChain) > 0 {
		return usageErr("--format cosign signs with a key only; --cert and --cert-chain do not apply")
	}
	f, err := openBlob(file)
	if err != nil {
		return couldNotRun(err)
	}
	defer f.Close()
	signer, err := loadSigner(o)
	if err != nil {
		return err
	}
	raw, digest, err := cosign.SignBlobSHA256(signer, f)
	if err != nil {
		return couldNotRun(fmt.Errorf("sign %s: %w", file, err))
	}
	sig := cosign.EncodeSignature(raw)
	// Like cosign sign-blob: without --output-signature the signature goes
	// to stdout.
	if !cmd.Flags().Changed("output") || o.Output == "-" {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), string(sig))
		return err
	}
	if err := writeFileAtomic(o.Output, sig); err != nil {
		return couldNotRun(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "signed %s (sha256:%s) -> %s (cosign blob signature)\n",
		report.Sanitize(file), hex.EncodeToString(digest), report.Sanitize(o.Output))
	return nil
}

// runCosignVerify handles `mlgate verify FILE --signature SIG --key PUB`
// when SIG is a cosign blob signature (base64 text, not a JSON bundle).
func runCosignVerify(cmd *cobra.Command, file string, o *VerifyCommon) (bool, error) {
	data, err := readSignatureHead(o.Signature)
	if err != nil || !cosign.IsSignatureFile(data) {
		return false, nil // the OMS path reports the unreadable file
	}
	out := VerifyResult{Schema: "mlgate.verify/v1", Model: file, Signature: o.Signature}
	res, err := verifyCosignBlob(file, o)
	out.VerifyResult = res
	return true, printVerifyResult(cmd, o.Format, &out, err)
}

func readSignatureHead(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, cosign.MaxSignatureFileSize+1))
	return b, err
}

func verifyCosignBlob(file string, o *VerifyCommon) (*sign.VerifyResult, error) {
	res := &sign.VerifyResult{Method: "cosign-blob"}
	if o.Key == "" {
		return res, usageErr("a cosign blob signature is verified with --key (cosign.pub, a PEM public key, or env://VAR)")
	}
	if o.Cert != "" || len(o.CertChain) > 0 || len(o.Only) > 0 {
		return res, usageErr("--cert, --cert-chain and --only do not apply to cosign blob signatures")
	}
	pub, err := keys.LoadPublicKey(o.Key)
	if err != nil {
		return res, couldNotRun(fmt.Errorf("load public key: %w", err))
	}
	if hint, err := keys.Hint(pub); err == nil {
		res.Signer = "key " + hint[:16]
	}
	sigData, err := readSignatureHead(o.Signature)
	if err != nil {
		return res, couldNotRun(fmt.Errorf("read signature: %w", err))
	}
	sig, err := cosign.DecodeSignature(sigData)
	if err != nil {
		return res, &sign.Failure{Kind: sign.KindCorruptBundle, Msg: err.Error()}
	}
	f, err := openBlob(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return res, &sign.Failure{Kind: sign.KindMissing, Path: file, Msg: fmt.Sprintf("%s does not exist", file)}
		}
		return res, couldNotRun(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	res.ModelName = fi.Name()
	res.Resources, res.Files = 1, 1
	digest, err := cosign.VerifyBlobSHA256(pub, f, sig)
	res.RootDigest = hex.EncodeToString(digest)
	switch {
	case errors.Is(err, cosign.ErrBadSignature):
		return res, &sign.Failure{Kind: sign.KindBadSignature, Path: file,
			Msg: fmt.Sprintf("cosign signature %s does not verify %s with %s: the file was changed, or it was signed with another key", o.Signature, file, res.Signer)}
	case err != nil:
		return res, couldNotRun(err)
	}
	res.Checked = 1
	res.Bytes = fi.Size()
	res.Verified = true
	return res, nil
}

// openRegular opens path for reading only if it is a regular file: a FIFO
// named as a signature (say, unpacked from a tarball) would otherwise block
// verification forever. The type is checked before opening (without
// blocking) and again on the open file.
func openRegular(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, fi.Mode().Type())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return f, nil
}
