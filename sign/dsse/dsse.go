// Package dsse implements Dead Simple Signing Envelopes (DSSE v1.0): the
// pre-authentication encoding (PAE), signing and verification with ECDSA
// (P-256, P-384, P-521), Ed25519 and RSA keys, and the envelope's JSON form
//
//	{"payload":"<base64>","payloadType":"<type>","signatures":[{"sig":"<base64>","keyid":"<id>"}]}
//
// as used inside Sigstore bundles, OpenSSF Model Signing (OMS) signatures and
// in-toto attestations.
//
// Signature algorithms follow the Sigstore ecosystem (and the reference
// model_signing implementation): ECDSA signs the digest of the PAE with the
// hash that matches the curve (SHA-256 for P-256, SHA-384 for P-384, SHA-512
// for P-521) and encodes the signature in ASN.1 DER; Ed25519 signs the PAE
// itself; RSA uses PKCS #1 v1.5 with SHA-256 (and verification also accepts
// PSS with SHA-256).
//
// The API is stable; other mlgate packages (sign, sign/cosign,
// sign/provenance, sign/keyless) build on it.
package dsse

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on what Parse accepts.
const (
	// MaxEnvelopeSize bounds the JSON text of an envelope (256 MiB: a
	// model manifest with a million shard digests fits comfortably).
	MaxEnvelopeSize = 256 << 20
	// MaxSignatures bounds the number of signatures in one envelope.
	MaxSignatures = 64
	// MaxSignatureSize bounds one decoded signature (RSA-16384 is 2 KiB).
	MaxSignatureSize = 8 << 10
	// MaxKeyIDSize bounds one key id.
	MaxKeyIDSize = 4 << 10
)

// Signature is one signature over an envelope's PAE.
type Signature struct {
	// KeyID is an optional, unauthenticated hint naming the key. The
	// reference model_signing writes the empty string.
	KeyID string
	// Sig is the raw signature (ASN.1 DER for ECDSA).
	Sig []byte
}

// Envelope is a DSSE envelope. Payload holds the decoded payload bytes; the
// signatures cover PAE(PayloadType, Payload).
type Envelope struct {
	PayloadType string
	Payload     []byte
	Signatures  []Signature
}

// Errors returned by Verify and Parse. Callers match them with errors.Is.
var (
	// ErrNoSignature: the envelope has no signatures.
	ErrNoSignature = errors.New("dsse: envelope has no signatures")
	// ErrVerify: no signature verifies with the given key.
	ErrVerify = errors.New("dsse: no signature verifies with the given key")
	// ErrUnsupportedKey: the key type or curve is not supported.
	ErrUnsupportedKey = errors.New("dsse: unsupported key type")
	// ErrMalformed: the envelope JSON is malformed or out of bounds.
	ErrMalformed = errors.New("dsse: malformed envelope")
)

// PAE returns the DSSE v1 pre-authentication encoding:
//
//	"DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload
//
// with lengths as ASCII decimal byte counts.
func PAE(payloadType string, payload []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(payloadType) + len(payload) + 32)
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(payloadType)))
	b.WriteByte(' ')
	b.WriteString(payloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(payload)))
	b.WriteByte(' ')
	b.Write(payload)
	return b.Bytes()
}

// Sign builds an envelope over payload with one signature made by s. keyID
// is recorded as is (use "" to match model_signing).
func Sign(s crypto.Signer, keyID, payloadType string, payload []byte) (*Envelope, error) {
	sig, err := SignMessage(s, PAE(payloadType, payload))
	if err != nil {
		return nil, err
	}
	p := make([]byte, len(payload))
	copy(p, payload)
	return &Envelope{PayloadType: payloadType, Payload: p, Signatures: []Signature{{KeyID: keyID, Sig: sig}}}, nil
}

// SignMessage signs an arbitrary message the way Sign signs a PAE: ECDSA
// over the curve-matched digest (DER output), Ed25519 over the message, RSA
// PKCS #1 v1.5 over its SHA-256 digest. It is exported for formats that sign
// something other than a PAE (e.g. cosign blob signatures).
func SignMessage(s crypto.Signer, message []byte) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil signer", ErrUnsupportedKey)
	}
	switch pub := s.Public().(type) {
	case *ecdsa.PublicKey:
		h, err := curveHash(pub.Curve)
		if err != nil {
			return nil, err
		}
		// crypto.Signer for ECDSA returns ASN.1 DER.
		return s.Sign(rand.Reader, digest(h, message), h)
	case ed25519.PublicKey:
		return s.Sign(rand.Reader, message, crypto.Hash(0))
	case *rsa.PublicKey:
		return s.Sign(rand.Reader, digest(crypto.SHA256, message), crypto.SHA256)
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
}

// VerifyMessage checks one raw signature over message with pub, using the
// algorithm SignMessage uses for that key type (RSA also accepts PSS).
func VerifyMessage(pub crypto.PublicKey, message, sig []byte) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		h, err := curveHash(k.Curve)
		if err != nil {
			return err
		}
		if ecdsa.VerifyASN1(k, digest(h, message), sig) {
			return nil
		}
		return ErrVerify
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, message, sig) {
			return nil
		}
		return ErrVerify
	case *ed25519.PublicKey:
		return VerifyMessage(*k, message, sig)
	case *rsa.PublicKey:
		d := digest(crypto.SHA256, message)
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, d, sig) == nil {
			return nil
		}
		if rsa.VerifyPSS(k, crypto.SHA256, d, sig, nil) == nil {
			return nil
		}
		return ErrVerify
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
}

// Verify reports nil when at least one of the envelope's signatures verifies
// over PAE(PayloadType, Payload) with pub. It returns an error wrapping
// ErrNoSignature, ErrUnsupportedKey or ErrVerify otherwise.
func Verify(env *Envelope, pub crypto.PublicKey) error {
	if env == nil || len(env.Signatures) == 0 {
		return ErrNoSignature
	}
	return VerifyAny(env, pub, PAE(env.PayloadType, env.Payload))
}

// VerifyAny is Verify with the signed message given explicitly, for legacy
// encodings that signed something other than the standard PAE.
func VerifyAny(env *Envelope, pub crypto.PublicKey, message []byte) error {
	if env == nil || len(env.Signatures) == 0 {
		return ErrNoSignature
	}
	for _, s := range env.Signatures {
		err := VerifyMessage(pub, message, s.Sig)
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrUnsupportedKey) {
			return err
		}
	}
	return ErrVerify
}

// HashFor returns the hash SignMessage uses for a public key: the curve's
// hash for ECDSA, SHA-256 for RSA, 0 for Ed25519 (which signs the message).
func HashFor(pub crypto.PublicKey) (crypto.Hash, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return curveHash(k.Curve)
	case ed25519.PublicKey, *ed25519.PublicKey:
		return 0, nil
	case *rsa.PublicKey:
		return crypto.SHA256, nil
	}
	return 0, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

func curveHash(c elliptic.Curve) (crypto.Hash, error) {
	switch c {
	case elliptic.P256():
		return crypto.SHA256, nil
	case elliptic.P384():
		return crypto.SHA384, nil
	case elliptic.P521():
		return crypto.SHA512, nil
	}
	name := "unknown"
	if c != nil && c.Params() != nil {
		name = c.Params().Name
	}
	return 0, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, name)
}

func digest(h crypto.Hash, m []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(m)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(m)
		return d[:]
	default:
		d := sha256.Sum256(m)
		return d[:]
	}
}

// wire forms; field order is the order model_signing writes.
type wireSig struct {
	Sig   string `json:"sig"`
	KeyID string `json:"keyid"`
}

type wireEnvelope struct {
	Payload     string    `json:"payload"`
	PayloadType string    `json:"payloadType"`
	Signatures  []wireSig `json:"signatures"`
}

// MarshalJSON writes the DSSE JSON form with standard base64 (padded).
func (e Envelope) MarshalJSON() ([]byte, error) {
	w := wireEnvelope{
		Payload:     base64.StdEncoding.EncodeToString(e.Payload),
		PayloadType: e.PayloadType,
		Signatures:  make([]wireSig, len(e.Signatures)),
	}
	for i, s := range e.Signatures {
		w.Signatures[i] = wireSig{Sig: base64.StdEncoding.EncodeToString(s.Sig), KeyID: s.KeyID}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// UnmarshalJSON reads the DSSE JSON form strictly: unknown fields, a missing
// or non-string payloadType, undecodable base64, empty signatures and
// out-of-bound sizes are errors (wrapping ErrMalformed).
func (e *Envelope) UnmarshalJSON(data []byte) error {
	if len(data) > MaxEnvelopeSize {
		return fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrMalformed, len(data), MaxEnvelopeSize)
	}
	var w struct {
		Payload     *string `json:"payload"`
		PayloadType *string `json:"payloadType"`
		Signatures  []struct {
			Sig   *string `json:"sig"`
			KeyID string  `json:"keyid"`
		} `json:"signatures"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the envelope", ErrMalformed)
	}
	if w.Payload == nil {
		return fmt.Errorf("%w: missing payload", ErrMalformed)
	}
	if w.PayloadType == nil || *w.PayloadType == "" {
		return fmt.Errorf("%w: missing payloadType", ErrMalformed)
	}
	if len(w.Signatures) == 0 {
		return fmt.Errorf("%w: no signatures", ErrMalformed)
	}
	if len(w.Signatures) > MaxSignatures {
		return fmt.Errorf("%w: %d signatures exceeds the limit of %d", ErrMalformed, len(w.Signatures), MaxSignatures)
	}
	payload, err := decodeB64(*w.Payload)
	if err != nil {
		return fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	out := Envelope{PayloadType: *w.PayloadType, Payload: payload, Signatures: make([]Signature, 0, len(w.Signatures))}
	for i, s := range w.Signatures {
		if s.Sig == nil || *s.Sig == "" {
			return fmt.Errorf("%w: signature %d is empty", ErrMalformed, i)
		}
		if len(*s.Sig) > MaxSignatureSize*2 {
			return fmt.Errorf("%w: signature %d is too large", ErrMalformed, i)
		}
		if len(s.KeyID) > MaxKeyIDSize {
			return fmt.Errorf("%w: key id of signature %d is too large", ErrMalformed, i)
		}
		sig, err := decodeB64(*s.Sig)
		if err != nil {
			return fmt.Errorf("%w: signature %d: %v", ErrMalformed, i, err)
		}
		out.Signatures = append(out.Signatures, Signature{KeyID: s.KeyID, Sig: sig})
	}
	*e = out
	return nil
}

// decodeB64 accepts standard and URL-safe base64, padded or not, as the
// DSSE specification asks of verifiers.
func decodeB64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "-_") {
		if strings.HasSuffix(s, "=") {
			return base64.URLEncoding.DecodeString(s)
		}
		return base64.RawURLEncoding.DecodeString(s)
	}
	if len(s)%4 != 0 && !strings.HasSuffix(s, "=") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.StdEncoding.DecodeString(s)
}

// Parse reads an envelope from its JSON form (see UnmarshalJSON).
func Parse(data []byte) (*Envelope, error) {
	var e Envelope
	if err := e.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return &e, nil
}
