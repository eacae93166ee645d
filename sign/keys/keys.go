// Package keys loads signing keys, public keys and X.509 certificates from
// PEM files for mlgate's signing commands.
//
// Private keys (LoadPrivateKey, ParsePrivateKey): PEM blocks "PRIVATE KEY"
// (PKCS #8), "EC PRIVATE KEY" (SEC 1) and "RSA PRIVATE KEY" (PKCS #1)
// holding ECDSA P-256/P-384/P-521, Ed25519 or RSA (≥2048 bits) keys.
// Public keys (LoadPublicKey, ParsePublicKey): "PUBLIC KEY" (PKIX
// SubjectPublicKeyInfo), "RSA PUBLIC KEY" (PKCS #1), or a "CERTIFICATE"
// whose subject key is used.
//
// A key reference may be a file path or env://NAME, in which case the PEM
// text is read from the environment variable NAME (as cosign does).
//
// # Extension point
//
// Other packages add private key formats by registering a PrivateKeyLoader
// from an init function:
//
//	func init() { keys.RegisterPrivateKeyLoader(loadCosignKey) }
//
// ParsePrivateKey offers every PEM block of the input to the registered
// loaders (in registration order) before the built-in formats. A loader
// returns ok=false for blocks it does not handle; ok=true with a nil error
// when it produced the signer; ok=true with an error when the block is its
// format but cannot be loaded (wrong password, corrupt data). The password
// callback is never nil: when the caller has no way to obtain a password it
// returns ErrNoPassword. sign/cosign
// registers the "ENCRYPTED SIGSTORE PRIVATE KEY" / "ENCRYPTED COSIGN PRIVATE
// KEY" format this way; the command-line layer imports that package for its
// side effect.
package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// MaxPEMSize bounds a key or certificate file.
const MaxPEMSize = 1 << 20

// MaxChainLength bounds the number of certificates LoadCertChain returns.
const MaxChainLength = 32

// PasswordFunc returns the password of an encrypted private key.
type PasswordFunc func() ([]byte, error)

// PrivateKeyLoader tries to turn one PEM block into a signer. See the
// package documentation for the contract of ok and err.
type PrivateKeyLoader func(block *pem.Block, password PasswordFunc) (s crypto.Signer, ok bool, err error)

var (
	loadersMu sync.RWMutex
	loaders   []PrivateKeyLoader
)

// RegisterPrivateKeyLoader adds a private key format. It is meant to be
// called from init functions; it is safe for concurrent use.
func RegisterPrivateKeyLoader(l PrivateKeyLoader) {
	loadersMu.Lock()
	defer loadersMu.Unlock()
	loaders = append(loaders, l)
}

// ErrUnsupported reports a key or curve mlgate does not sign with.
var ErrUnsupported = errors.New("unsupported key")

// ReadRef reads the bytes a key reference names: a file path, or env://NAME.
func ReadRef(ref string) ([]byte, error) {
	if name, ok := strings.CutPrefix(ref, "env://"); ok {
		v, set := os.LookupEnv(name)
		if !set || v == "" {
			return nil, fmt.Errorf("key reference %s: environment variable %s is not set", ref, name)
		}
		if len(v) > MaxPEMSize {
			return nil, fmt.Errorf("key reference %s: value exceeds %d bytes", ref, MaxPEMSize)
		}
		return []byte(v), nil
	}
	if fi, err := os.Stat(ref); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", ref)
	}
	f, err := os.Open(ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPEMSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if len(data) > MaxPEMSize {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a key file", ref, MaxPEMSize)
	}
	return data, nil
}

// LoadPrivateKey loads an unencrypted private key from a file path or
// env://NAME reference.
func LoadPrivateKey(path string) (crypto.Signer, error) {
	return LoadPrivateKeyWithPassword(path, nil)
}

// LoadPrivateKeyWithPassword is LoadPrivateKey for keys that may be
// encrypted; password is called only when a loader needs it.
func LoadPrivateKeyWithPassword(path string, password PasswordFunc) (crypto.Signer, error) {
	data, err := ReadRef(path)
	if err != nil {
		return nil, err
	}
	s, err := ParsePrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ErrNoPassword is returned by the password callback handed to loaders
// when the caller supplied none.
var ErrNoPassword = errors.New("the private key is encrypted and no password was supplied")

// ParsePrivateKey parses the first private key found in PEM data. password
// may be nil.
func ParsePrivateKey(data []byte, password PasswordFunc) (crypto.Signer, error) {
	if password == nil {
		password = func() ([]byte, error) { return nil, ErrNoPassword }
	}
	rest := data
	seen := []string{}
	for len(seen) < 64 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		seen = append(seen, block.Type)
		loadersMu.RLock()
		ls := append([]PrivateKeyLoader(nil), loaders...)
		loadersMu.RUnlock()
		for _, l := range ls {
			s, ok, err := l(block, password)
			if ok {
				if err != nil {
					return nil, err
				}
				if s == nil {
					return nil, fmt.Errorf("%s: loader returned no key", block.Type)
				}
				return s, checkSigner(s)
			}
		}
		s, ok, err := builtinPrivate(block)
		if ok {
			if err != nil {
				return nil, err
			}
			return s, checkSigner(s)
		}
	}
	if len(seen) == 0 {
		return nil, errors.New("no PEM data found (expected a PEM private key)")
	}
	return nil, fmt.Errorf("no supported private key among PEM blocks %q", seen)
}

func builtinPrivate(block *pem.Block) (crypto.Signer, bool, error) {
	if len(block.Headers) > 0 && block.Headers["Proc-Type"] != "" {
		return nil, true, fmt.Errorf("%s: legacy PEM encryption is not supported; convert the key to unencrypted PKCS #8", block.Type)
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, true, fmt.Errorf("PKCS #8 private key: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, true, fmt.Errorf("%w: %T", ErrUnsupported, k)
		}
		return s, true, nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, true, fmt.Errorf("SEC 1 EC private key: %w", err)
		}
		return k, true, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, true, fmt.Errorf("PKCS #1 RSA private key: %w", err)
		}
		return k, true, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, true, errors.New("encrypted PKCS #8 keys are not supported; decrypt with `openssl pkcs8 -in KEY -out PLAIN.pem` or use a cosign key")
	}
	return nil, false, nil
}

func checkSigner(s crypto.Signer) error {
	return CheckPublicKey(s.Public())
}

// CheckPublicKey reports whether mlgate signs and verifies with this key
// type: ECDSA P-256/P-384/P-521, Ed25519, or RSA of at least 2048 bits.
func CheckPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: ECDSA curve %s (use P-256, P-384 or P-521)", ErrUnsupported, k.Curve.Params().Name)
	case ed25519.PublicKey:
		return nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: RSA key of %d bits (need at least 2048)", ErrUnsupported, k.N.BitLen())
		}
		return nil
	}
	return fmt.Errorf("%w: %T", ErrUnsupported, pub)
}

// LoadPublicKey loads a public key from a file path or env://NAME
// reference: PKIX "PUBLIC KEY", PKCS #1 "RSA PUBLIC KEY", or an X.509
// "CERTIFICATE" (its subject public key).
func LoadPublicKey(path string) (crypto.PublicKey, error) {
	data, err := ReadRef(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParsePublicKey parses the first public key or certificate in PEM data.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	rest := data
	seen := []string{}
	for len(seen) < 64 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		seen = append(seen, block.Type)
		var (
			pub crypto.PublicKey
			err error
		)
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var c *x509.Certificate
			c, err = x509.ParseCertificate(block.Bytes)
			if err == nil {
				pub = c.PublicKey
			}
		case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
			"ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY":
			return nil, fmt.Errorf("found a private key (%s) where a public key was expected; pass the public key", block.Type)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", block.Type, err)
		}
		if err := CheckPublicKey(pub); err != nil {
			return nil, err
		}
		return pub, nil
	}
	if len(seen) == 0 {
		return nil, errors.New("no PEM data found (expected a PEM public key or certificate)")
	}
	return nil, fmt.Errorf("no public key among PEM blocks %q", seen)
}

// LoadCertChain reads X.509 certificates from PEM files, in order: every
// "CERTIFICATE" block of each file in turn. Other blocks are ignored; a file
// without certificates is an error.
func LoadCertChain(paths ...string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, p := range paths {
		data, err := ReadRef(p)
		if err != nil {
			return nil, err
		}
		certs, err := ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, certs...)
		if len(out) > MaxChainLength {
			return nil, fmt.Errorf("more than %d certificates", MaxChainLength)
		}
	}
	return out, nil
}

// ParseCertificates parses every "CERTIFICATE" block in PEM data.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for n := 0; n < 256; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
		if len(out) > MaxChainLength {
			return nil, fmt.Errorf("more than %d certificates", MaxChainLength)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}

// PublicKeyPEM encodes a public key as a PKIX "PUBLIC KEY" PEM block with
// 64-column base64 lines and a trailing newline, byte for byte what Python's
// cryptography writes for SubjectPublicKeyInfo PEM.
func PublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := pem.Encode(&b, &pem.Block{Type: "PUBLIC KEY", Bytes: der}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Hint returns the key identifier model_signing records in a bundle's
// publicKey.hint: the lowercase hex SHA-256 of PublicKeyPEM(pub).
func Hint(pub crypto.PublicKey) (string, error) {
	p, err := PublicKeyPEM(pub)
	if err != nil {
		return "", err
	}
	d := sha256.Sum256(p)
	return hex.EncodeToString(d[:]), nil
}

// Equal reports whether two public keys are the same key.
func Equal(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := a.(equaler); ok {
		return e.Equal(b)
	}
	return false
}
