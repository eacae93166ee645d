package cosign

import (
	"encoding/pem"
	"testing"
)

// FuzzParseEncryptedKey feeds arbitrary bytes to the cosign private key
// parser. It must never panic, and whatever it accepts must be within the
// documented bounds (so Decrypt cannot be made to allocate without limit).
func FuzzParseEncryptedKey(f *testing.F) {
	f.Add([]byte(pem.EncodeToMemory(&pem.Block{Type: PEMTypeSigstore, Bytes: []byte(
		`{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`)})))
	f.Add([]byte(pem.EncodeToMemory(&pem.Block{Type: PEMTypeCosign, Bytes: []byte(`{"kdf":{}}`)})))
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"))
	f.Add([]byte("not a key"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = IsEncryptedKeyPEM(data)
		k, err := ParseEncryptedKey(data)
		if err != nil {
			return
		}
		if len(k.Nonce) != boxNonceSize || len(k.Salt) == 0 || len(k.Salt) > 1024 ||
			len(k.Ciphertext) > maxCiphertext || (k.PEMType != PEMTypeSigstore && k.PEMType != PEMTypeCosign) {
			t.Fatalf("accepted out-of-bounds key: %+v", k)
		}
		if checkParams(k.Params) != nil {
			// Decrypt must refuse without deriving a key.
			if _, err := k.Decrypt(nil); err == nil {
				t.Fatal("Decrypt accepted unsupported scrypt parameters")
			}
		}
		_, _ = DecodeSignature(data)
	})
}
