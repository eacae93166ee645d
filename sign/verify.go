package sign

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mlgate/mlgate/sign/dsse"
	"github.com/mlgate/mlgate/sign/keys"
)

// VerifyOptions configures Verify and VerifyBundle.
type VerifyOptions struct {
	// PublicKey verifies key-signed bundles (publicKey hint or none).
	PublicKey crypto.PublicKey
	// Roots are trust anchors for certificate-signed bundles
	// (x509CertificateChain); the chain is checked at the signing
	// certificate's NotBefore time, as model_signing does.
	Roots []*x509.Certificate
	// Pinned, when set, must equal the bundle's signing certificate; with
	// no Roots it is trusted directly.
	Pinned *x509.Certificate
	// SignaturePath is ignored when it lies inside the model.
	SignaturePath string
	// IgnorePaths adds model-relative ignores to the recorded ones.
	IgnorePaths []string
	// IgnoreUnsignedFiles hashes only the files the signature names, so
	// added files are tolerated (model_signing --ignore-unsigned-files).
	IgnoreUnsignedFiles bool
	// Only, when set, hashes just these model-relative files after the
	// signature and the manifest have been checked; each must be signed.
	Only []string
	// Workers and Progress: see HashOptions.
	Workers  int
	Progress func(done, total int64)
}

// Mismatch is one difference between the model and its signature.
type Mismatch struct {
	Kind   Kind   `json:"kind"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
}

// VerifyResult describes a verification.
type VerifyResult struct {
	// Verified is true when the signature and every checked file match.
	Verified bool `json:"verified"`
	// Signer describes the key or certificate that verified the bundle.
	Signer string `json:"signer,omitempty"`
	// ModelName is the name recorded in the signature (informative).
	ModelName  string `json:"model_name"`
	RootDigest string `json:"root_digest"`
	Method     string `json:"method"`
	ShardSize  int64  `json:"shard_size,omitempty"`
	// Resources is the number of signed resources, Files the number of
	// signed files, Checked the number of files hashed and compared.
	Resources int   `json:"resources"`
	Files     int   `json:"files"`
	Checked   int   `json:"checked"`
	Bytes     int64 `json:"bytes_hashed"`
	// Partial is set when --only restricted the check.
	Partial    bool       `json:"partial,omitempty"`
	Mismatches []Mismatch `json:"mismatches,omitempty"`
	Warnings   []string   `json:"warnings,omitempty"`
}

// VerifyBundle checks a bundle's signature and statement, without looking
// at the model. It returns the signed manifest.
func VerifyBundle(data []byte, o VerifyOptions) (*Manifest, *VerifyResult, error) {
	res := &VerifyResult{}
	b, err := ParseBundle(data)
	if err != nil {
		return nil, res, err
	}
	pub, err := verificationKey(b, o, res)
	if err != nil {
		return nil, res, err
	}
	env := b.Envelope
	if env.PayloadType != PayloadType {
		return nil, res, failf(KindUnknownPredicate, "", "DSSE payload type is %q, want %s: not a model signature", trunc(env.PayloadType), PayloadType)
	}
	if err := dsse.Verify(env, pub); err != nil {
		if errors.Is(err, dsse.ErrUnsupportedKey) {
			return nil, res, err
		}
		// Signatures made by model_signing 0.2 signed a mangled PAE.
		if dsse.VerifyAny(env, pub, compatPAE(env.Payload)) != nil {
			return nil, res, failf(KindBadSignature, "", "signature does not verify with %s: the signature or the signed manifest was altered, or it was made with another key", res.Signer)
		}
		res.Warnings = append(res.Warnings, "signature uses the pre-1.0 model_signing PAE encoding; re-sign with a current signer")
	}
	m, err := ParseStatement(env.Payload)
	if err != nil {
		return nil, res, err
	}
	res.ModelName = m.ModelName
	res.RootDigest = fmt.Sprintf("%x", m.RootDigest)
	res.Method = m.Serialization.Method
	res.ShardSize = m.Serialization.ShardSize
	res.Resources = len(m.Resources)
	files := map[string]bool{}
	for _, r := range m.Resources {
		files[r.File] = true
	}
	res.Files = len(files)
	return m, res, nil
}

func verificationKey(b *Bundle, o VerifyOptions, res *VerifyResult) (crypto.PublicKey, error) {
	if len(b.Certificates) > 0 {
		leaf := b.Certificates[0]
		res.Signer = "certificate " + leaf.Subject.String()
		if o.Pinned == nil && len(o.Roots) == 0 {
			if b.TlogEntries > 0 {
				return nil, &unsupportedError{"this is a keyless (Sigstore) bundle; verify it with a trusted root (keyless options), or pass --cert-chain"}
			}
			return nil, &unsupportedError{"the signature carries a certificate chain: pass the trust anchors with --cert-chain (or the signing certificate with --cert)"}
		}
		if o.Pinned != nil && !leaf.Equal(o.Pinned) {
			return nil, failf(KindWrongKey, "", "signature was made with certificate %q, not the one given with --cert (%q)", leaf.Subject.String(), o.Pinned.Subject.String())
		}
		if len(o.Roots) > 0 {
			roots := x509.NewCertPool()
			for _, c := range o.Roots {
				roots.AddCert(c)
			}
			inter := x509.NewCertPool()
			for _, c := range b.Certificates[1:] {
				inter.AddCert(c)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: leaf.NotBefore, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				return nil, failf(KindUntrustedCert, "", "signing certificate %q is not trusted: %v", leaf.Subject.String(), err)
			}
		}
		if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageCodeSigning) {
			return nil, failf(KindUntrustedCert, "", "signing certificate %q may not sign (neither digitalSignature key usage nor codeSigning extended key usage)", leaf.Subject.String())
		}
		if err := keys.CheckPublicKey(leaf.PublicKey); err != nil {
			return nil, err
		}
		return leaf.PublicKey, nil
	}
	if o.PublicKey == nil {
		return nil, &unsupportedError{"the signature was made with a key: pass its public key with --key"}
	}
	hint, err := keys.Hint(o.PublicKey)
	if err != nil {
		return nil, err
	}
	res.Signer = "key " + hint[:16]
	switch {
	case b.Hint != "":
		if !strings.EqualFold(b.Hint, hint) {
			return nil, failf(KindWrongKey, "", "wrong key: the signature was made with key %s, the given public key is %s", trunc(b.Hint), hint)
		}
	case b.RawKey != nil:
		res.Warnings = append(res.Warnings, "signature uses the older verification material format (publicKey.rawBytes, no key hint)")
		if k, err := keys.ParsePublicKey(b.RawKey); err == nil && !keys.Equal(k, o.PublicKey) {
			return nil, failf(KindWrongKey, "", "wrong key: the signature embeds a different public key than the one given")
		}
	default:
		res.Warnings = append(res.Warnings, "signature has no public key hint (older verification material format); relying on the signature check alone")
	}
	return o.PublicKey, nil
}

// compatPAE is the encoding model_signing 0.2 signed by mistake:
// "DSSEV1 28 application/vnd.in-toto+json <len> " + Python repr(payload).
func compatPAE(payload []byte) []byte {
	var b bytes.Buffer
	b.WriteString("DSSEV1 " + strconv.Itoa(len(PayloadType)) + " " + PayloadType + " " + strconv.Itoa(len(payload)) + " ")
	b.WriteString(pyBytesRepr(payload))
	return b.Bytes()
}

// pyBytesRepr is Python's repr() of a bytes object.
func pyBytesRepr(p []byte) string {
	q := byte('\'')
	if bytes.IndexByte(p, '\'') >= 0 && bytes.IndexByte(p, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.Grow(len(p) + 3)
	b.WriteByte('b')
	b.WriteByte(q)
	const hexd = "0123456789abcdef"
	for _, c := range p {
		switch {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// Verify checks a bundle against a model: the signature, then every file
// (or the files in o.Only). It returns a *Failure when the model or the
// signature is bad, and another error when verification could not run.
// The result is filled as far as verification got.
func Verify(modelPath string, bundle []byte, o VerifyOptions) (*VerifyResult, error) {
	m, res, err := VerifyBundle(bundle, o)
	if err != nil {
		return res, err
	}
	ser := m.Serialization
	ignore := append(slices.Clone(ser.IgnorePaths), DefaultIgnorePaths...)
	ignore = append(ignore, o.IgnorePaths...)
	// Only the signature itself, as model_signing does; a cache file that
	// sign wrote inside the model is in the signed ignore_paths already.
	ignore = append(ignore, insideModel(modelPath, o.SignaturePath)...)
	files, err := Walk(modelPath, WalkOptions{AllowSymlinks: ser.AllowSymlinks, Ignore: ignore})
	if err != nil {
		return res, err
	}
	signed := map[string][]Resource{}
	var signedOrder []string
	for _, r := range m.Resources {
		if _, ok := signed[r.File]; !ok {
			signedOrder = append(signedOrder, r.File)
		}
		signed[r.File] = append(signed[r.File], r)
	}
	present := map[string]*File{}
	for i := range files {
		present[files[i].Name] = &files[i]
	}
	var mm []Mismatch
	want := map[string]bool{}
	if len(o.Only) > 0 {
		res.Partial = true
		for _, p := range o.Only {
			if _, ok := signed[p]; !ok {
				if present[p] != nil {
					mm = append(mm, Mismatch{KindAdded, p, "not covered by the signature"})
				} else {
					mm = append(mm, Mismatch{KindMissing, p, "neither signed nor present"})
				}
				continue
			}
			want[p] = true
		}
	} else {
		for _, f := range files {
			if _, ok := signed[f.Name]; !ok && !o.IgnoreUnsignedFiles {
				// Empty files have no shards: they are not in a shard manifest.
				if !(ser.Method == MethodShards && f.Size == 0) {
					mm = append(mm, Mismatch{KindAdded, f.Name, "not covered by the signature"})
				}
			}
		}
		for _, name := range signedOrder {
			want[name] = true
		}
	}
	// Files to hash: signed, wanted, present, and of the signed size.
	var toHash []File
	for _, name := range signedOrder {
		if !want[name] {
			continue
		}
		f := present[name]
		if f == nil {
			mm = append(mm, Mismatch{KindMissing, name, "signed but absent"})
			continue
		}
		if ser.Method == MethodShards {
			var size int64
			for _, r := range signed[name] {
				size = max(size, r.End)
			}
			if f.Size < size {
				mm = append(mm, Mismatch{KindTruncated, name, fmt.Sprintf("truncated: %d bytes, the signature covers %d", f.Size, size)})
				continue
			}
			if f.Size > size {
				mm = append(mm, Mismatch{KindChanged, name, fmt.Sprintf("grew: %d bytes, the signature covers %d", f.Size, size)})
				continue
			}
		}
		toHash = append(toHash, *f)
	}
	actual, err := Hash(toHash, HashOptions{Method: ser.Method, ShardSize: ser.ShardSize, Workers: o.Workers, Progress: o.Progress})
	if err != nil {
		return res, err
	}
	got := map[string]Resource{}
	for _, r := range actual {
		got[r.Name] = r
		res.Bytes += r.End - r.Start
	}
	for _, f := range toHash {
		var bad []string
		rs := signed[f.Name]
		names := map[string]bool{}
		for _, r := range rs {
			names[r.Name] = true
			a, ok := got[r.Name]
			if !ok || a.Algorithm != r.Algorithm || !bytes.Equal(a.Digest, r.Digest) {
				bad = append(bad, r.Name)
			}
		}
		for _, a := range actual {
			if a.File == f.Name && !names[a.Name] {
				bad = append(bad, a.Name)
			}
		}
		res.Checked++
		if len(bad) == 0 {
			continue
		}
		detail := "content differs from the signed digest"
		if ser.Method == MethodShards {
			detail = "content differs in " + strings.Join(shardRanges(bad), ", ")
		}
		mm = append(mm, Mismatch{KindChanged, f.Name, detail})
	}
	sort.SliceStable(mm, func(i, j int) bool { return comparePaths(mm[i].Path, mm[j].Path) < 0 })
	res.Mismatches = mm
	if len(mm) > 0 {
		return res, mismatchFailure(mm)
	}
	res.Verified = true
	return res, nil
}

func shardRanges(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		i := strings.LastIndexByte(n, ':')
		j := strings.LastIndexByte(n[:max(i, 0)], ':')
		if i > 0 && j >= 0 {
			out = append(out, "bytes "+n[j+1:i]+"-"+n[i+1:])
		} else {
			out = append(out, n)
		}
	}
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("and %d more shards", len(out)-5))
	}
	return out
}

var kindVerb = map[Kind]string{
	KindChanged:   "changed",
	KindAdded:     "added (not signed)",
	KindMissing:   "missing",
	KindTruncated: "truncated",
}

func mismatchFailure(mm []Mismatch) *Failure {
	var b strings.Builder
	if len(mm) == 1 {
		fmt.Fprintf(&b, "file %s %s: %s", mm[0].Path, kindVerb[mm[0].Kind], mm[0].Detail)
	} else {
		fmt.Fprintf(&b, "%d files do not match the signature:", len(mm))
		for i, m := range mm {
			if i == 20 {
				fmt.Fprintf(&b, "\n  ... and %d more", len(mm)-20)
				break
			}
			fmt.Fprintf(&b, "\n  %s: %s (%s)", kindVerb[m.Kind], m.Path, m.Detail)
		}
	}
	return &Failure{Kind: mm[0].Kind, Path: mm[0].Path, Msg: b.String()}
}

// IsFailure reports whether err is a verification failure (exit 1) rather
// than an error that kept verification from running (exit 2).
func IsFailure(err error) bool {
	var f *Failure
	return errors.As(err, &f)
}
