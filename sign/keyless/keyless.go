// Package keyless verifies Sigstore bundles signed "keylessly": a
// short-lived Fulcio certificate that binds the signing key to an OIDC
// identity, and a Rekor transparency log entry that proves when the
// signature was made. Verification is offline: the trust anchors (Fulcio
// CAs, Rekor and CT log keys, timestamp authorities) come from a
// trusted_root.json file, the format Sigstore distributes through TUF
// (`cosign trusted-root create`, or the sigstore/root-signing repository).
//
// The cryptography and the Sigstore-specific checks (certificate chain at
// the log's integrated time, signed entry timestamps, inclusion proofs and
// checkpoints, SCTs, DSSE signature) are done by sigstore-go, the
// ecosystem's reference Go verifier. This package adds an explicit identity
// policy and a typed result; package sign checks the model files against
// the statement once Verify has accepted the bundle.
//
// Keyless signing needs network access (an OIDC token, Fulcio and Rekor)
// and is not supported: Sign always returns ErrSigningNeedsNetwork.
package keyless

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// MaxTrustedRootSize bounds a trusted_root.json file; the public-good one
// is about 10 KiB.
const MaxTrustedRootSize = 4 << 20

// MaxBundleSize bounds a bundle (the OMS manifest of a huge model included).
const MaxBundleSize = 300 << 20

// Kind classifies a verification failure.
type Kind string

// Failure kinds: each is "verification failed" (exit 1 in the CLI).
const (
	// KindMalformed: the bundle is not a valid Sigstore bundle.
	KindMalformed Kind = "malformed-bundle"
	// KindNotKeyless: the bundle is signed with a plain key, not a Fulcio
	// certificate.
	KindNotKeyless Kind = "not-keyless"
	// KindUntrusted: the certificate chain, transparency log entry,
	// timestamps or signature do not verify against the trusted root.
	KindUntrusted Kind = "untrusted"
	// KindIdentity: the certificate's identity or issuer is not the one
	// the policy expects.
	KindIdentity Kind = "identity-mismatch"
)

// Failure is a verification failure.
type Failure struct {
	Kind Kind
	Msg  string
	Err  error
}

func (f *Failure) Error() string { return f.Msg }

// Unwrap returns the underlying sigstore-go error, if any.
func (f *Failure) Unwrap() error { return f.Err }

// ErrSigningNeedsNetwork is returned by Sign.
var ErrSigningNeedsNetwork = errors.New("keyless signing needs network access to an OIDC provider, Fulcio and Rekor, which mlgate does not use; sign with a key (--key KEY.pem or a cosign key) and verify with --key, or sign keylessly with model_signing or cosign and verify here with --trusted-root")

// ErrNoIdentityPolicy: Verify was called without an identity and issuer
// (a keyless signature from anybody proves nothing).
var ErrNoIdentityPolicy = errors.New("keyless verification needs an identity policy: --identity or --identity-regexp, and --issuer or --issuer-regexp")

// Policy is who must have signed. One of Identity / IdentityRegexp and one
// of Issuer / IssuerRegexp are required. Identity is the certificate's
// subject alternative name (an e-mail address, or a URI such as
// https://github.com/OWNER/REPO/.github/workflows/F.yml@refs/heads/main);
// Issuer is the OIDC issuer recorded by Fulcio (for example
// https://token.actions.githubusercontent.com). Regular expressions use Go
// syntax and are anchored by the caller if needed (they match anywhere).
type Policy struct {
	Identity       string
	IdentityRegexp string
	Issuer         string
	IssuerRegexp   string
}

func (p Policy) validate() error {
	if (p.Identity == "" && p.IdentityRegexp == "") || (p.Issuer == "" && p.IssuerRegexp == "") {
		return ErrNoIdentityPolicy
	}
	for _, re := range []string{p.IdentityRegexp, p.IssuerRegexp} {
		if re == "" {
			continue
		}
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("keyless: bad regular expression %q: %w", re, err)
		}
	}
	return nil
}

// Result describes an accepted bundle.
type Result struct {
	// Certificate is the Fulcio signing certificate.
	Certificate *x509.Certificate
	// Identity is the certificate's subject alternative name and Issuer
	// its OIDC issuer.
	Identity string
	Issuer   string
	// Timestamps are the verified signing times (log integrated times,
	// RFC 3161 timestamps).
	Timestamps []time.Time
	// PayloadType and Payload are the verified DSSE payload (for OMS, the
	// in-toto statement over the model).
	PayloadType string
	Payload     []byte
}

// LoadTrustedRoot reads a trusted_root.json file.
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxTrustedRootSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxTrustedRootSize {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a trusted root", path, MaxTrustedRootSize)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a Sigstore trusted root: %w", path, err)
	}
	return tr, nil
}

// Verify checks a Sigstore bundle (JSON, v0.1 to v0.3) against trusted
// material and an identity policy. The bundle must carry a DSSE envelope
// signed with a Fulcio certificate and at least one verified timestamp (a
// transparency log entry or an RFC 3161 timestamp); SCTs are required when
// the trusted root lists CT logs. It returns a *Failure when the bundle is
// bad and another error when verification could not run.
func Verify(bundleJSON []byte, tm root.TrustedMaterial, p Policy) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if tm == nil {
		return nil, errors.New("keyless: no trusted root")
	}
	if len(bundleJSON) > MaxBundleSize {
		return nil, &Failure{Kind: KindMalformed, Msg: fmt.Sprintf("bundle of %d bytes exceeds the %d-byte limit", len(bundleJSON), MaxBundleSize)}
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return nil, &Failure{Kind: KindMalformed, Msg: "not a valid Sigstore bundle: " + err.Error(), Err: err}
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return nil, &Failure{Kind: KindMalformed, Msg: "bundle verification material: " + err.Error(), Err: err}
	}
	leaf := vc.Certificate()
	if leaf == nil {
		return nil, &Failure{Kind: KindNotKeyless, Msg: "the bundle is signed with a key, not a Fulcio certificate: verify it with --key"}
	}
	env, err := b.Envelope()
	if err != nil || env == nil {
		return nil, &Failure{Kind: KindMalformed, Msg: "the bundle carries no DSSE envelope (a message signature is not a model signature)"}
	}

	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1)}
	if len(tm.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	if b.HasInclusionPromise() || b.HasInclusionProof() {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	v, err := verify.NewVerifier(tm, opts...)
	if err != nil {
		return nil, fmt.Errorf("keyless: %w", err)
	}
	// First everything but the identity, so that a trust failure and an
	// identity mismatch get different messages.
	res, err := v.Verify(&b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe()))
	if err != nil {
		return nil, &Failure{Kind: KindUntrusted, Msg: "bundle does not verify against the trusted root: " + err.Error(), Err: err}
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		return nil, &Failure{Kind: KindNotKeyless, Msg: "the bundle was not verified with a certificate"}
	}
	id, err := verify.NewShortCertificateIdentity(p.Issuer, p.IssuerRegexp, p.Identity, p.IdentityRegexp)
	if err != nil {
		return nil, fmt.Errorf("keyless: identity policy: %w", err)
	}
	sum := *res.Signature.Certificate
	if err := id.Verify(sum); err != nil {
		return nil, &Failure{Kind: KindIdentity, Err: err, Msg: fmt.Sprintf(
			"signed by %q (issuer %q), which the identity policy does not allow: %v",
			sum.SubjectAlternativeName, sum.Extensions.Issuer, err)}
	}
	out := &Result{
		Certificate: leaf,
		Identity:    sum.SubjectAlternativeName,
		Issuer:      sum.Extensions.Issuer,
		PayloadType: env.PayloadType,
	}
	out.Payload, err = env.DecodeB64Payload()
	if err != nil {
		return nil, &Failure{Kind: KindMalformed, Msg: "DSSE payload is not base64: " + err.Error(), Err: err}
	}
	for _, ts := range res.VerifiedTimestamps {
		out.Timestamps = append(out.Timestamps, ts.Timestamp)
	}
	return out, nil
}

// Sign is the keyless signing entry point; it always fails offline.
func Sign() error { return ErrSigningNeedsNetwork }
