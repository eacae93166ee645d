// Package cosign reads and writes the key and signature formats of the
// cosign tool (github.com/sigstore/cosign), so that mlgate can sign with a
// key made by `cosign generate-key-pair`, verify with its cosign.pub, and
// produce and check blob signatures that `cosign sign-blob` and
// `cosign verify-blob` exchange.
//
// A cosign private key is a PEM block of type "ENCRYPTED SIGSTORE PRIVATE
// KEY" (cosign before 2.0: "ENCRYPTED COSIGN PRIVATE KEY") whose body is a
// JSON document:
//
//	{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<base64>"},
//	 "cipher":{"name":"nacl/secretbox","nonce":"<base64>"},
//	 "ciphertext":"<base64>"}
//
// The secretbox key is scrypt(password, salt, N, r, p) truncated to 32
// bytes and the plaintext is the PKCS #8 DER encoding of the private key.
// The public key (cosign.pub) is an ordinary PKIX "PUBLIC KEY" PEM block.
//
// A blob signature is the base64 (standard alphabet) encoding of the raw
// signature over the blob: ECDSA over its SHA-256 digest in ASN.1 DER (for
// every curve, as cosign does), RSA PKCS #1 v1.5 over its SHA-256 digest,
// Ed25519 over the blob itself.
package cosign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// PEM block types of cosign private keys.
const (
	// PEMTypeSigstore is the block type cosign 2.x writes.
	PEMTypeSigstore = "ENCRYPTED SIGSTORE PRIVATE KEY"
	// PEMTypeCosign is the block type cosign 1.x wrote; still accepted.
	PEMTypeCosign = "ENCRYPTED COSIGN PRIVATE KEY"
)

// MaxKeyFileSize bounds a key file or key environment variable. Real cosign
// keys are well under 1 KiB; RSA-16384 PKCS #8 fits easily.
const MaxKeyFileSize = 64 << 10

// Errors returned by the key functions. Callers match them with errors.Is.
var (
	// ErrNotCosignKey: the input holds no cosign encrypted private key.
	ErrNotCosignKey = errors.New("cosign: not a cosign encrypted private key")
	// ErrMalformedKey: the PEM body is not the expected JSON, or a field is
	// missing, of the wrong size or names an unsupported algorithm.
	ErrMalformedKey = errors.New("cosign: malformed encrypted private key")
	// ErrUnsupportedKDFParams: the scrypt cost parameters are not one of the
	// sets cosign writes. Accepting arbitrary ones would let a hostile key
	// file make mlgate allocate gigabytes.
	ErrUnsupportedKDFParams = errors.New("cosign: unsupported scrypt parameters")
	// ErrWrongPassword: decryption failed, almost always a wrong password
	// (or a tampered key file: the two cannot be told apart).
	ErrWrongPassword = errors.New("cosign: decryption failed: wrong password or corrupted key")
)

// ScryptParams are the scrypt cost parameters of an encrypted key.
type ScryptParams struct {
	N int `json:"N"`
	R int `json:"r"`
	P int `json:"p"`
}

// The parameter sets cosign and go-securesystemslib write; only these are
// accepted when decrypting (the largest needs 128 MiB of memory).
var (
	// ScryptLegacy is N=2^15, r=8, p=1 (cosign before 1.x's switch).
	ScryptLegacy = ScryptParams{N: 1 << 15, R: 8, P: 1}
	// ScryptStandard is N=2^16, r=8, p=1, what current cosign writes.
	ScryptStandard = ScryptParams{N: 1 << 16, R: 8, P: 1}
	// ScryptOWASP is N=2^17, r=8, p=1.
	ScryptOWASP = ScryptParams{N: 1 << 17, R: 8, P: 1}
)

const (
	kdfScrypt     = "scrypt"
	cipherBox     = "nacl/secretbox"
	saltSize      = 32
	boxKeySize    = 32
	boxNonceSize  = 24
	maxCiphertext = 32 << 10
)

// EncryptedKey is the parsed (still encrypted) body of a cosign private key.
type EncryptedKey struct {
	// PEMType is the PEM block type the key was read from.
	PEMType string
	// KDF names the key derivation function; always "scrypt".
	KDF string
	// Params are the scrypt parameters.
	Params ScryptParams
	// Salt is the scrypt salt.
	Salt []byte
	// Cipher names the cipher; always "nacl/secretbox".
	Cipher string
	// Nonce is the secretbox nonce (24 bytes).
	Nonce []byte
	// Ciphertext is the sealed PKCS #8 private key.
	Ciphertext []byte
}

type wireKDF struct {
	Name   string       `json:"name"`
	Params ScryptParams `json:"params"`
	Salt   []byte       `json:"salt"`
}

type wireCipher struct {
	Name  string `json:"name"`
	Nonce []byte `json:"nonce"`
}

type wireKey struct {
	KDF        wireKDF    `json:"kdf"`
	Cipher     wireCipher `json:"cipher"`
	Ciphertext []byte     `json:"ciphertext"`
}

// IsEncryptedKeyPEM reports whether data starts (after optional leading
// text) with a cosign encrypted private key PEM block.
func IsEncryptedKeyPEM(data []byte) bool {
	if len(data) > MaxKeyFileSize {
		return false
	}
	b, _ := pem.Decode(data)
	return b != nil && (b.Type == PEMTypeSigstore || b.Type == PEMTypeCosign)
}

// ParseEncryptedKey parses a cosign private key PEM without decrypting it.
// It validates the structure fully: algorithm names, salt, nonce and
// ciphertext sizes. It does not check the scrypt parameters (Decrypt does).
func ParseEncryptedKey(data []byte) (*EncryptedKey, error) {
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrMalformedKey, len(data), MaxKeyFileSize)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrNotCosignKey)
	}
	if b.Type != PEMTypeSigstore && b.Type != PEMTypeCosign {
		return nil, fmt.Errorf("%w: PEM block is %q", ErrNotCosignKey, b.Type)
	}
	var w wireKey
	dec := json.NewDecoder(bytes.NewReader(b.Bytes))
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON body", ErrMalformedKey)
	}
	switch {
	case w.KDF.Name != kdfScrypt:
		return nil, fmt.Errorf("%w: kdf %q (want %q)", ErrMalformedKey, w.KDF.Name, kdfScrypt)
	case w.Cipher.Name != cipherBox:
		return nil, fmt.Errorf("%w: cipher %q (want %q)", ErrMalformedKey, w.Cipher.Name, cipherBox)
	case len(w.KDF.Salt) == 0 || len(w.KDF.Salt) > 1024:
		return nil, fmt.Errorf("%w: salt of %d bytes", ErrMalformedKey, len(w.KDF.Salt))
	case len(w.Cipher.Nonce) != boxNonceSize:
		return nil, fmt.Errorf("%w: nonce of %d bytes (want %d)", ErrMalformedKey, len(w.Cipher.Nonce), boxNonceSize)
	case len(w.Ciphertext) <= secretbox.Overhead:
		return nil, fmt.Errorf("%w: ciphertext of %d bytes is too short", ErrMalformedKey, len(w.Ciphertext))
	case len(w.Ciphertext) > maxCiphertext:
		return nil, fmt.Errorf("%w: ciphertext of %d bytes is too long", ErrMalformedKey, len(w.Ciphertext))
	}
	return &EncryptedKey{
		PEMType:    b.Type,
		KDF:        w.KDF.Name,
		Params:     w.KDF.Params,
		Salt:       w.KDF.Salt,
		Cipher:     w.Cipher.Name,
		Nonce:      w.Cipher.Nonce,
		Ciphertext: w.Ciphertext,
	}, nil
}

func checkParams(p ScryptParams) error {
	switch p {
	case ScryptLegacy, ScryptStandard, ScryptOWASP:
		return nil
	}
	return fmt.Errorf("%w: N=%d r=%d p=%d", ErrUnsupportedKDFParams, p.N, p.R, p.P)
}

// Decrypt derives the secretbox key from password and opens the ciphertext,
// returning the PKCS #8 DER plaintext.
func (k *EncryptedKey) Decrypt(password []byte) ([]byte, error) {
	if err := checkParams(k.Params); err != nil {
		return nil, err
	}
	key, err := scrypt.Key(password, k.Salt, k.Params.N, k.Params.R, k.Params.P, boxKeySize)
	if err != nil {
		return nil, fmt.Errorf("cosign: derive key: %w", err)
	}
	var kb [boxKeySize]byte
	var nb [boxNonceSize]byte
	copy(kb[:], key)
	copy(nb[:], k.Nonce)
	plain, ok := secretbox.Open(nil, k.Ciphertext, &nb, &kb)
	if !ok {
		return nil, ErrWrongPassword
	}
	return plain, nil
}

// ParsePrivateKey decrypts a cosign private key PEM with password and
// returns the signer. ECDSA, Ed25519 and RSA keys are supported, as in
// cosign.
func ParsePrivateKey(data, password []byte) (crypto.Signer, error) {
	k, err := ParseEncryptedKey(data)
	if err != nil {
		return nil, err
	}
	der, err := k.Decrypt(password)
	if err != nil {
		return nil, err
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: decrypted key is not PKCS #8: %v", ErrMalformedKey, err)
	}
	switch p := priv.(type) {
	case *ecdsa.PrivateKey:
		return p, nil
	case ed25519.PrivateKey:
		return p, nil
	case *rsa.PrivateKey:
		return p, nil
	}
	return nil, fmt.Errorf("%w: unsupported private key type %T", ErrMalformedKey, priv)
}

// EncryptPrivateKey writes priv as a cosign encrypted private key PEM
// (block type PEMTypeSigstore, scrypt parameters params — use
// ScryptStandard to match cosign).
func EncryptPrivateKey(priv crypto.Signer, password []byte, params ScryptParams) ([]byte, error) {
	if err := checkParams(params); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("cosign: encode private key: %w", err)
	}
	w := wireKey{
		KDF:    wireKDF{Name: kdfScrypt, Params: params, Salt: make([]byte, saltSize)},
		Cipher: wireCipher{Name: cipherBox, Nonce: make([]byte, boxNonceSize)},
	}
	if _, err := rand.Read(w.KDF.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(w.Cipher.Nonce); err != nil {
		return nil, err
	}
	key, err := scrypt.Key(password, w.KDF.Salt, params.N, params.R, params.P, boxKeySize)
	if err != nil {
		return nil, fmt.Errorf("cosign: derive key: %w", err)
	}
	var kb [boxKeySize]byte
	var nb [boxNonceSize]byte
	copy(kb[:], key)
	copy(nb[:], w.Cipher.Nonce)
	w.Ciphertext = secretbox.Seal(nil, der, &nb, &kb)
	body, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMTypeSigstore, Bytes: body}), nil
}

// MarshalPublicKey writes pub as a PKIX "PUBLIC KEY" PEM block, the form of
// cosign.pub.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("cosign: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
