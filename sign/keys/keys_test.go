package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), strings.ReplaceAll(strings.ToLower(typ), " ", "-")+".pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrivateKeyFormats(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	sec1, _ := x509.MarshalECPrivateKey(p384)
	cases := map[string]struct {
		typ  string
		der  []byte
		want crypto.PublicKey
	}{
		"pkcs8-p256": {"PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(p256)), &p256.PublicKey},
		"sec1-p384":  {"EC PRIVATE KEY", sec1, &p384.PublicKey},
		"pkcs8-ed":   {"PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(ed)), ed.Public()},
		"pkcs1-rsa":  {"RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk), &rk.PublicKey},
	}
	for name, c := range cases {
		s, err := LoadPrivateKey(writePEM(t, c.typ, c.der))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !Equal(s.Public(), c.want) {
			t.Fatalf("%s: wrong key", name)
		}
	}
	// Unsupported curve and small RSA.
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if _, err := LoadPrivateKey(writePEM(t, "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(p224)))); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("p224: %v", err)
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := LoadPrivateKey(writePEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small))); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("rsa1024: %v", err)
	}
	// Garbage, a public key, encrypted PKCS #8.
	for _, p := range []string{writePEM(t, "PRIVATE KEY", []byte("junk")), writePEM(t, "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&p256.PublicKey))), writePEM(t, "ENCRYPTED PRIVATE KEY", []byte("x"))} {
		if _, err := LoadPrivateKey(p); err == nil {
			t.Fatalf("%s accepted", p)
		}
	}
	if _, err := ParsePrivateKey([]byte("not pem"), nil); err == nil {
		t.Fatal("non-PEM accepted")
	}
}

func TestPublicKeyFormats(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, err := LoadPublicKey(writePEM(t, "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&k.PublicKey))))
	if err != nil || !Equal(pub, &k.PublicKey) {
		t.Fatalf("pkix: %v", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	cp := writePEM(t, "CERTIFICATE", der)
	pub, err = LoadPublicKey(cp)
	if err != nil || !Equal(pub, &k.PublicKey) {
		t.Fatalf("certificate: %v", err)
	}
	chain, err := LoadCertChain(cp, cp)
	if err != nil || len(chain) != 2 {
		t.Fatalf("chain: %v", err)
	}
	if _, err := LoadPublicKey(writePEM(t, "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(k)))); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("private key as public: %v", err)
	}
	if _, err := LoadCertChain(writePEM(t, "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&k.PublicKey)))); err == nil {
		t.Fatal("chain without certificates accepted")
	}
}

func TestEnvRef(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	t.Setenv("MLGATE_TEST_KEY", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(k))})))
	s, err := LoadPrivateKey("env://MLGATE_TEST_KEY")
	if err != nil || !Equal(s.Public(), &k.PublicKey) {
		t.Fatalf("env: %v", err)
	}
	if _, err := LoadPrivateKey("env://MLGATE_TEST_UNSET_KEY"); err == nil {
		t.Fatal("unset variable accepted")
	}
}

// TestHintMatchesReference: the hint is sha256 of the PEM file exactly as
// Python's cryptography writes it (the fixture key's PEM file).
func TestHintMatchesReference(t *testing.T) {
	p := filepath.Join("..", "testdata", "oms", "keys", "ec-p256-public.pem")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Skip(err)
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := Hint(pub)
	sum := sha256.Sum256(data)
	if got != hex.EncodeToString(sum[:]) || got != "3f17e6026fb2eccd00efc5eacbe6fab769eb33275ef03aed0e57d5a28996fe77" {
		t.Fatalf("hint %s", got)
	}
	enc, _ := PublicKeyPEM(pub)
	if !bytes.Equal(enc, data) {
		t.Fatal("PEM encoding differs from cryptography's")
	}
}

func TestRegisteredLoader(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var gotPassword string
	RegisterPrivateKeyLoader(func(b *pem.Block, pw PasswordFunc) (crypto.Signer, bool, error) {
		if b.Type != "TEST MLGATE KEY" {
			return nil, false, nil
		}
		p, err := pw()
		if err != nil {
			return nil, true, err
		}
		gotPassword = string(p)
		if gotPassword != "secret" {
			return nil, true, errors.New("wrong password")
		}
		return k, true, nil
	})
	data := pem.EncodeToMemory(&pem.Block{Type: "TEST MLGATE KEY", Bytes: []byte{1}})
	s, err := ParsePrivateKey(data, func() ([]byte, error) { return []byte("secret"), nil })
	if err != nil || !Equal(s.Public(), &k.PublicKey) || gotPassword != "secret" {
		t.Fatalf("loader: %v", err)
	}
	if _, err := ParsePrivateKey(data, func() ([]byte, error) { return []byte("nope"), nil }); err == nil {
		t.Fatal("wrong password accepted")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
