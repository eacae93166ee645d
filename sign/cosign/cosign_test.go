package cosign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/sign/keys"
)

func testSigners(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"ecdsa-p256": p256, "ecdsa-p384": p384, "ed25519": ed, "rsa-2048": r}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	for name, s := range testSigners(t) {
		t.Run(name, func(t *testing.T) {
			pw := []byte("correct horse")
			pemKey, err := EncryptPrivateKey(s, pw, ScryptLegacy)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pemKey, []byte("-----BEGIN "+PEMTypeSigstore+"-----")) {
				t.Fatalf("unexpected PEM header: %.60q", pemKey)
			}
			got, err := ParsePrivateKey(pemKey, pw)
			if err != nil {
				t.Fatal(err)
			}
			if !keys.Equal(got.Public(), s.Public()) {
				t.Fatal("decrypted key differs from the original")
			}
			// scrypt is slow by design: check the wrong password once.
			if name == "ecdsa-p256" {
				if _, err := ParsePrivateKey(pemKey, []byte("wrong")); !errors.Is(err, ErrWrongPassword) {
					t.Fatalf("wrong password: got %v, want ErrWrongPassword", err)
				}
			}
		})
	}
}

func TestLegacyPEMType(t *testing.T) {
	s := testSigners(t)["ecdsa-p256"]
	pemKey, err := EncryptPrivateKey(s, nil, ScryptLegacy)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(pemKey)
	b.Type = PEMTypeCosign
	old := pem.EncodeToMemory(b)
	if !IsEncryptedKeyPEM(old) {
		t.Fatal("legacy block type not recognised")
	}
	if _, err := ParsePrivateKey(old, nil); err != nil {
		t.Fatalf("legacy block type with empty password: %v", err)
	}
	b.Type = "ENCRYPTED PRIVATE KEY"
	if _, err := ParsePrivateKey(pem.EncodeToMemory(b), nil); !errors.Is(err, ErrNotCosignKey) {
		t.Fatalf("foreign block type: got %v, want ErrNotCosignKey", err)
	}
}

func TestRejectsHostileKDFParams(t *testing.T) {
	s := testSigners(t)["ecdsa-p256"]
	pemKey, err := EncryptPrivateKey(s, nil, ScryptLegacy)
	if err != nil {
		t.Fatal(err)
	}
	// N=2^30 would need 1 TiB; the parser must refuse before deriving.
	b, _ := pem.Decode(pemKey)
	b.Bytes = bytes.Replace(b.Bytes, []byte(`"N":32768`), []byte(`"N":1073741824`), 1)
	if _, err := ParsePrivateKey(pem.EncodeToMemory(b), nil); !errors.Is(err, ErrUnsupportedKDFParams) {
		t.Fatalf("got %v, want ErrUnsupportedKDFParams", err)
	}
	if _, err := EncryptPrivateKey(s, nil, ScryptParams{N: 2, R: 1, P: 1}); !errors.Is(err, ErrUnsupportedKDFParams) {
		t.Fatalf("encrypt with weak params: got %v", err)
	}
}

func TestMalformedKeys(t *testing.T) {
	wrap := func(body string) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: PEMTypeSigstore, Bytes: []byte(body)})
	}
	good := `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"AAAA"},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`
	if _, err := ParseEncryptedKey(wrap(good)); err != nil {
		t.Fatalf("well-formed body rejected: %v", err)
	}
	cases := map[string]string{
		"not json":     `nope`,
		"kdf":          strings.Replace(good, `"scrypt"`, `"argon2"`, 1),
		"cipher":       strings.Replace(good, `nacl/secretbox`, `aes-gcm`, 1),
		"short nonce":  strings.Replace(good, `AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, `AAAA"}`, 1),
		"empty salt":   strings.Replace(good, `"salt":"AAAA"`, `"salt":""`, 1),
		"short cipher": strings.Replace(good, `"ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"`, `"ciphertext":"AAAA"`, 1),
		"trailing":     good + `{}`,
	}
	for name, body := range cases {
		if _, err := ParseEncryptedKey(wrap(body)); !errors.Is(err, ErrMalformedKey) {
			t.Errorf("%s: got %v, want ErrMalformedKey", name, err)
		}
	}
	if _, err := ParseEncryptedKey([]byte("no pem here")); !errors.Is(err, ErrNotCosignKey) {
		t.Errorf("no PEM: got %v", err)
	}
}

func TestBlobSignVerify(t *testing.T) {
	blob := bytes.Repeat([]byte("model weights "), 1000)
	signers := testSigners(t)
	for name, s := range signers {
		t.Run(name, func(t *testing.T) {
			sig, err := SignBlob(s, bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			enc := EncodeSignature(sig)
			dec, err := DecodeSignature(append(enc, '\n'))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyBlob(s.Public(), bytes.NewReader(blob), dec); err != nil {
				t.Fatalf("round trip: %v", err)
			}
			tampered := bytes.Clone(blob)
			tampered[500] ^= 1
			if err := VerifyBlob(s.Public(), bytes.NewReader(tampered), dec); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered blob: got %v, want ErrBadSignature", err)
			}
			for other, o := range signers {
				if other == name {
					continue
				}
				if err := VerifyBlob(o.Public(), bytes.NewReader(blob), dec); !errors.Is(err, ErrBadSignature) {
					t.Fatalf("wrong key %s: got %v, want ErrBadSignature", other, err)
				}
			}
			// Raw (non-base64) signature bytes are accepted too, as cosign does.
			if raw, err := DecodeSignature(sig); err != nil || VerifyBlob(s.Public(), bytes.NewReader(blob), raw) != nil {
				t.Fatalf("raw signature file: %v", err)
			}
		})
	}
}

func TestDecodeSignatureLimits(t *testing.T) {
	if _, err := DecodeSignature([]byte(" \n")); !errors.Is(err, ErrMalformedSignature) {
		t.Errorf("empty: got %v", err)
	}
	if _, err := DecodeSignature(make([]byte, MaxSignatureFileSize+1)); !errors.Is(err, ErrMalformedSignature) {
		t.Errorf("huge: got %v", err)
	}
}

func TestLoaderThroughKeysPackage(t *testing.T) {
	s := testSigners(t)["ecdsa-p256"]
	pemKey, err := EncryptPrivateKey(s, []byte("pw"), ScryptLegacy)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("MLGATE_TEST_COSIGN_KEY", string(pemKey))
	t.Setenv(PasswordEnv, "pw")
	got, err := LoadPrivateKey("env://MLGATE_TEST_COSIGN_KEY")
	if err != nil {
		t.Fatal(err)
	}
	if !keys.Equal(got.Public(), s.Public()) {
		t.Fatal("env:// key differs")
	}
	t.Setenv(PasswordEnv, "nope")
	if _, err := LoadPrivateKey("env://MLGATE_TEST_COSIGN_KEY"); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password through keys: got %v", err)
	}
	if _, err := keys.ParsePrivateKey(pemKey, nil); !errors.Is(err, ErrNoPassword) {
		t.Fatalf("no password source: got %v", err)
	}
}
