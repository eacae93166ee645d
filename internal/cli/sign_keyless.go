package cli

// Keyless (Sigstore: Fulcio certificate + Rekor entry) verification of OMS
// bundles for `mlgate verify --trusted-root` (see sign.go for the extension
// design), and the offline error of `mlgate sign --format keyless`.
// Library: sign/keyless (sigstore-go underneath).

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlgate/mlgate/sign"
	"github.com/mlgate/mlgate/sign/keyless"
)

// keylessFlags are the values of the flags the keyless extension adds to
// `mlgate verify`, read back from the command's flag set (the extension
// keeps no state between runs).
type keylessFlags struct {
	trustedRoot          string
	identity, identityRE string
	issuer, issuerRE     string
}

func keylessFlagValues(cmd *cobra.Command) keylessFlags {
	get := func(name string) string { v, _ := cmd.Flags().GetString(name); return v }
	return keylessFlags{trustedRoot: get("trusted-root"), identity: get("identity"), identityRE: get("identity-regexp"),
		issuer: get("issuer"), issuerRE: get("issuer-regexp")}
}

func init() {
	registerSignExtension(signExtension{
		Name:        "keyless",
		SignFormats: []string{"keyless", "sigstore"},
		AddVerifyFlags: func(fs *pflag.FlagSet) {
			fs.String("trusted-root", "", "verify a keyless (Fulcio/Rekor) bundle offline against this Sigstore trusted_root.json")
			fs.String("identity", "", "with --trusted-root: required signer identity (certificate SAN: e-mail or URI)")
			fs.String("identity-regexp", "", "with --trusted-root: regular expression the signer identity must match")
			fs.String("issuer", "", "with --trusted-root: required OIDC issuer (e.g. https://token.actions.githubusercontent.com)")
			fs.String("issuer-regexp", "", "with --trusted-root: regular expression the OIDC issuer must match")
		},
		Sign: func(cmd *cobra.Command, model string, o *SignCommon) error {
			return couldNotRun(keyless.ErrSigningNeedsNetwork)
		},
		Verify: runKeylessVerify,
	})
}

func runKeylessVerify(cmd *cobra.Command, model string, o *VerifyCommon) (bool, error) {
	k := keylessFlagValues(cmd)
	if k.trustedRoot == "" {
		if k.identity != "" || k.identityRE != "" || k.issuer != "" || k.issuerRE != "" {
			return true, usageErr("--identity, --identity-regexp, --issuer and --issuer-regexp need --trusted-root FILE")
		}
		return false, nil
	}
	out := VerifyResult{Schema: "mlgate.verify/v1", Model: model, Signature: o.Signature}
	res, err := verifyKeyless(cmd, model, o)
	out.VerifyResult = res
	return true, printVerifyResult(cmd, o.Format, &out, err)
}

func verifyKeyless(cmd *cobra.Command, model string, o *VerifyCommon) (*sign.VerifyResult, error) {
	k := keylessFlagValues(cmd)
	if o.Key != "" || o.Cert != "" || len(o.CertChain) > 0 {
		return nil, usageErr("--trusted-root verifies keyless bundles; --key, --cert and --cert-chain do not apply")
	}
	if (k.identity == "" && k.identityRE == "") || (k.issuer == "" && k.issuerRE == "") {
		return nil, usageErr("%v", keyless.ErrNoIdentityPolicy)
	}
	tr, err := keyless.LoadTrustedRoot(k.trustedRoot)
	if err != nil {
		return nil, couldNotRun(err)
	}
	data, err := readFileBounded(o.Signature, keyless.MaxBundleSize)
	if err != nil {
		return nil, couldNotRun(fmt.Errorf("read signature: %w", err))
	}
	kr, err := keyless.Verify(data, tr, keyless.Policy{Identity: k.identity, IdentityRegexp: k.identityRE, Issuer: k.issuer, IssuerRegexp: k.issuerRE})
	if err != nil {
		var f *keyless.Failure
		if errors.As(err, &f) {
			kind := sign.KindUntrustedCert
			switch f.Kind {
			case keyless.KindMalformed:
				kind = sign.KindCorruptBundle
			case keyless.KindNotKeyless, keyless.KindIdentity:
				kind = sign.KindWrongKey
			}
			return nil, &sign.Failure{Kind: kind, Msg: "keyless: " + f.Msg}
		}
		return nil, couldNotRun(err)
	}
	// The bundle is authentic and from the expected identity: check the
	// model against its statement, pinning the verified certificate.
	vo := sign.VerifyOptions{SignaturePath: o.Signature, IgnoreUnsignedFiles: o.IgnoreUnsign, Only: o.Only,
		Pinned: kr.Certificate, Progress: byteProgress(cmd.ErrOrStderr())}
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
	if res != nil {
		res.Signer = fmt.Sprintf("keyless %s (issuer %s)", kr.Identity, kr.Issuer)
	}
	if err != nil && !sign.IsFailure(err) {
		return res, couldNotRun(err)
	}
	return res, err
}
