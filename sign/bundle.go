package sign

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/mlgate/mlgate/sign/dsse"
)

// BundleMediaType is the Sigstore bundle v0.3 media type OMS signatures use.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// MaxBundleSize bounds a signature file.
const MaxBundleSize = dsse.MaxEnvelopeSize + 1<<20

// maxPayload bounds the decoded statement.
const maxPayload = dsse.MaxEnvelopeSize

// Bundle is the part of a Sigstore bundle an OMS signature uses.
type Bundle struct {
	MediaType string
	// Hint is publicKey.hint: hex SHA-256 of the signer's public key PEM
	// (key signatures). HasPublicKey is set when a publicKey object is
	// present at all; legacy bundles carry RawBytes/KeyDetails instead.
	HasPublicKey bool
	Hint         string
	RawKey       []byte
	KeyDetails   string
	// Certificates is x509CertificateChain (leaf first) or the single
	// "certificate" of a keyless bundle.
	Certificates []*x509.Certificate
	// TlogEntries counts transparency log entries (keyless bundles).
	TlogEntries int
	Envelope    *dsse.Envelope
}

type wireCert struct {
	RawBytes string `json:"rawBytes"`
}

type wireBundle struct {
	MediaType            string `json:"mediaType"`
	VerificationMaterial struct {
		PublicKey *struct {
			Hint       *string `json:"hint,omitempty"`
			RawBytes   *string `json:"rawBytes,omitempty"`
			KeyDetails *string `json:"keyDetails,omitempty"`
		} `json:"publicKey,omitempty"`
		X509CertificateChain *struct {
			Certificates []wireCert `json:"certificates"`
		} `json:"x509CertificateChain,omitempty"`
		Certificate               *wireCert         `json:"certificate,omitempty"`
		TlogEntries               []json.RawMessage `json:"tlogEntries"`
		TimestampVerificationData json.RawMessage   `json:"timestampVerificationData,omitempty"`
	} `json:"verificationMaterial"`
	DSSEEnvelope     *dsse.Envelope  `json:"dsseEnvelope,omitempty"`
	MessageSignature json.RawMessage `json:"messageSignature,omitempty"`
}

// MarshalBundle writes a bundle as model_signing does: compact JSON, keys in
// the order mediaType, verificationMaterial (publicKey.hint or
// x509CertificateChain, then tlogEntries: []), dsseEnvelope; no trailing
// newline.
func MarshalBundle(b *Bundle) ([]byte, error) {
	if b.Envelope == nil {
		return nil, fmt.Errorf("bundle has no DSSE envelope")
	}
	var buf bytes.Buffer
	buf.WriteString(`{"mediaType":`)
	writeJSONString(&buf, b.MediaType)
	buf.WriteString(`,"verificationMaterial":{`)
	switch {
	case len(b.Certificates) > 0:
		buf.WriteString(`"x509CertificateChain":{"certificates":[`)
		for i, c := range b.Certificates {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(`{"rawBytes":"` + base64.StdEncoding.EncodeToString(c.Raw) + `"}`)
		}
		buf.WriteString(`]},`)
	case b.HasPublicKey || b.Hint != "":
		buf.WriteString(`"publicKey":{`)
		if b.Hint != "" {
			buf.WriteString(`"hint":`)
			writeJSONString(&buf, b.Hint)
		}
		buf.WriteString(`},`)
	}
	buf.WriteString(`"tlogEntries":[]},"dsseEnvelope":`)
	env, err := json.Marshal(b.Envelope)
	if err != nil {
		return nil, err
	}
	buf.Write(env)
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

// ParseBundle reads a signature file. It checks structure only (no
// cryptography): the media type must be the v0.3 bundle type, and the
// bundle must carry a DSSE envelope. Errors are *Failure values of kind
// KindCorruptBundle.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, failf(KindCorruptBundle, "", "signature file is %d bytes, over the %d-byte limit", len(data), MaxBundleSize)
	}
	var w wireBundle
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		return nil, failf(KindCorruptBundle, "", "signature file is not a Sigstore bundle: %v", err)
	}
	if dec.More() {
		return nil, failf(KindCorruptBundle, "", "signature file has data after the bundle")
	}
	if w.MediaType != BundleMediaType {
		return nil, failf(KindCorruptBundle, "", "unsupported bundle media type %q (want %s)", trunc(w.MediaType), BundleMediaType)
	}
	if w.DSSEEnvelope == nil {
		if w.MessageSignature != nil {
			return nil, failf(KindCorruptBundle, "", "bundle holds a message signature, not a DSSE envelope: not a model signature")
		}
		return nil, failf(KindCorruptBundle, "", "bundle has no dsseEnvelope")
	}
	b := &Bundle{MediaType: w.MediaType, Envelope: w.DSSEEnvelope, TlogEntries: len(w.VerificationMaterial.TlogEntries)}
	vm := w.VerificationMaterial
	if pk := vm.PublicKey; pk != nil {
		b.HasPublicKey = true
		if pk.Hint != nil {
			b.Hint = *pk.Hint
		}
		if pk.RawBytes != nil {
			raw, err := base64.StdEncoding.DecodeString(*pk.RawBytes)
			if err != nil {
				return nil, failf(KindCorruptBundle, "", "publicKey.rawBytes is not base64")
			}
			b.RawKey = raw
		}
		if pk.KeyDetails != nil {
			b.KeyDetails = *pk.KeyDetails
		}
	}
	var certs []wireCert
	if vm.X509CertificateChain != nil {
		certs = vm.X509CertificateChain.Certificates
		if len(certs) == 0 {
			return nil, failf(KindCorruptBundle, "", "x509CertificateChain is empty")
		}
	}
	if vm.Certificate != nil {
		certs = append(certs, *vm.Certificate)
	}
	if len(certs) > 32 {
		return nil, failf(KindCorruptBundle, "", "bundle carries %d certificates, over the limit of 32", len(certs))
	}
	for i, c := range certs {
		der, err := base64.StdEncoding.DecodeString(c.RawBytes)
		if err != nil {
			return nil, failf(KindCorruptBundle, "", "certificate %d is not base64", i)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, failf(KindCorruptBundle, "", "certificate %d: %v", i, err)
		}
		b.Certificates = append(b.Certificates, cert)
	}
	if !b.HasPublicKey && len(b.Certificates) == 0 {
		return nil, failf(KindCorruptBundle, "", "bundle has no verification material (publicKey or certificates)")
	}
	return b, nil
}
