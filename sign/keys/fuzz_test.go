package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

// FuzzParseKeys: the PEM key and certificate parsers must not panic or
// accept a key type mlgate cannot use.
func FuzzParseKeys(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	sec1, _ := x509.MarshalECPrivateKey(k)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	pub, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := ParsePrivateKey(data, nil); err == nil {
			if CheckPublicKey(s.Public()) != nil {
				t.Fatal("accepted an unsupported private key")
			}
		}
		if p, err := ParsePublicKey(data); err == nil {
			if CheckPublicKey(p) != nil {
				t.Fatal("accepted an unsupported public key")
			}
			if _, err := Hint(p); err != nil {
				t.Fatalf("hint of an accepted key: %v", err)
			}
		}
		_, _ = ParseCertificates(data)
	})
}
