package cosign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// MaxEd25519Blob bounds the blob size for Ed25519 keys: pure Ed25519 (what
// cosign uses) signs the whole message, so it has to be held in memory.
// ECDSA and RSA stream the blob through SHA-256 and have no limit.
const MaxEd25519Blob = 1 << 30

// MaxSignatureFileSize bounds a signature file. A base64 RSA-16384
// signature is under 3 KiB.
const MaxSignatureFileSize = 64 << 10

// Errors returned by the blob functions.
var (
	// ErrBadSignature: the signature does not verify over the blob with the
	// key (wrong key, or the blob or signature was changed).
	ErrBadSignature = errors.New("cosign: signature does not verify with the given key")
	// ErrMalformedSignature: the signature file is empty, too large or not
	// a signature.
	ErrMalformedSignature = errors.New("cosign: malformed signature")
	// ErrUnsupportedKey: the key type is not one cosign signs blobs with.
	ErrUnsupportedKey = errors.New("cosign: unsupported key type")
	// ErrBlobTooLarge: an Ed25519 blob is over MaxEd25519Blob.
	ErrBlobTooLarge = errors.New("cosign: blob too large for an Ed25519 signature")
)

// SignBlob signs the content of r the way `cosign sign-blob --key` does and
// returns the raw signature (see EncodeSignature for the file form).
func SignBlob(s crypto.Signer, r io.Reader) ([]byte, error) {
	sig, _, err := SignBlobSHA256(s, r)
	return sig, err
}

// SignBlobSHA256 is SignBlob that also returns the blob's SHA-256 digest,
// computed in the same pass.
func SignBlobSHA256(s crypto.Signer, r io.Reader) (sig, digest []byte, err error) {
	switch s.Public().(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
		d, err := sha256Reader(r)
		if err != nil {
			return nil, nil, err
		}
		sig, err := s.Sign(rand.Reader, d, crypto.SHA256)
		return sig, d, err
	case ed25519.PublicKey:
		msg, err := readBounded(r)
		if err != nil {
			return nil, nil, err
		}
		d := sha256.Sum256(msg)
		sig, err := s.Sign(rand.Reader, msg, crypto.Hash(0))
		return sig, d[:], err
	}
	return nil, nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, s.Public())
}

// VerifyBlob checks a raw signature over the content of r with pub, as
// `cosign verify-blob --key` does. It returns nil, an error wrapping
// ErrBadSignature, or another error (read failure, unsupported key).
func VerifyBlob(pub crypto.PublicKey, r io.Reader, sig []byte) error {
	_, err := VerifyBlobSHA256(pub, r, sig)
	return err
}

// VerifyBlobSHA256 is VerifyBlob that also returns the blob's SHA-256
// digest (nil when the blob could not be read).
func VerifyBlobSHA256(pub crypto.PublicKey, r io.Reader, sig []byte) ([]byte, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		d, err := sha256Reader(r)
		if err != nil {
			return nil, err
		}
		if ecdsa.VerifyASN1(k, d, sig) {
			return d, nil
		}
		return d, ErrBadSignature
	case *rsa.PublicKey:
		d, err := sha256Reader(r)
		if err != nil {
			return nil, err
		}
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, d, sig) == nil {
			return d, nil
		}
		return d, ErrBadSignature
	case ed25519.PublicKey:
		msg, err := readBounded(r)
		if err != nil {
			return nil, err
		}
		d := sha256.Sum256(msg)
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig) {
			return d[:], nil
		}
		return d[:], ErrBadSignature
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// IsSignatureFile reports whether data looks like a cosign blob signature
// rather than a JSON document (an OMS or Sigstore bundle): it does not
// start with '{' once leading whitespace is removed.
func IsSignatureFile(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) > 0 && t[0] != '{'
}

// EncodeSignature returns the signature file content cosign sign-blob
// writes with --output-signature: standard base64, no trailing newline.
func EncodeSignature(sig []byte) []byte {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sig)))
	base64.StdEncoding.Encode(out, sig)
	return out
}

// DecodeSignature reads a signature file as cosign verify-blob does: base64
// text (surrounding whitespace ignored), or else the raw signature bytes.
func DecodeSignature(data []byte) ([]byte, error) {
	if len(data) > MaxSignatureFileSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrMalformedSignature, len(data), MaxSignatureFileSize)
	}
	t := bytes.TrimSpace(data)
	if len(t) == 0 {
		return nil, fmt.Errorf("%w: empty signature", ErrMalformedSignature)
	}
	if d, err := base64.StdEncoding.DecodeString(string(t)); err == nil && len(d) > 0 {
		return d, nil
	}
	return data, nil
}

func sha256Reader(r io.Reader) ([]byte, error) {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, r, make([]byte, 1<<20)); err != nil {
		return nil, fmt.Errorf("cosign: read blob: %w", err)
	}
	return h.Sum(nil), nil
}

func readBounded(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxEd25519Blob+1))
	if err != nil {
		return nil, fmt.Errorf("cosign: read blob: %w", err)
	}
	if len(b) > MaxEd25519Blob {
		return nil, ErrBlobTooLarge
	}
	return b, nil
}
