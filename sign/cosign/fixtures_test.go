package cosign

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlgate/mlgate/sign/keys"
)

// The files in testdata were made once by a real cosign v2.4.1; see
// testdata/README.md for the commands.
const fixturePassword = "mlgate-test-password"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCosignGeneratedKeys(t *testing.T) {
	for _, prefix := range []string{"cosign", "cosign-ed25519"} {
		t.Run(prefix, func(t *testing.T) {
			k, err := ParseEncryptedKey(readFixture(t, prefix+".key"))
			if err != nil {
				t.Fatal(err)
			}
			if k.PEMType != PEMTypeSigstore || k.Params != ScryptStandard {
				t.Fatalf("cosign v2.4.1 wrote %s with %+v; expected the standard parameters", k.PEMType, k.Params)
			}
			s, err := ParsePrivateKey(readFixture(t, prefix+".key"), []byte(fixturePassword))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := keys.ParsePublicKey(readFixture(t, prefix+".pub"))
			if err != nil {
				t.Fatal(err)
			}
			if !keys.Equal(s.Public(), pub) {
				t.Fatal("private key does not match cosign's public key")
			}
			if prefix == "cosign" {
				if _, err := ParsePrivateKey(readFixture(t, prefix+".key"), []byte("not-the-password")); !errors.Is(err, ErrWrongPassword) {
					t.Fatalf("wrong password: %v", err)
				}
			}
		})
	}
}

func TestCosignSignaturesVerify(t *testing.T) {
	blob := readFixture(t, "model.bin")
	tampered := bytes.Clone(blob)
	tampered[len(tampered)/2] ^= 0x80
	cases := []struct{ sig, pub string }{
		{"artifact.sig", "cosign.pub"},
		{"artifact.envkey.sig", "cosign.pub"},
		{"artifact.ed25519.sig", "cosign-ed25519.pub"},
		{"mlgate-artifact.sig", "cosign.pub"},
	}
	for _, c := range cases {
		t.Run(c.sig, func(t *testing.T) {
			pub, err := keys.ParsePublicKey(readFixture(t, c.pub))
			if err != nil {
				t.Fatal(err)
			}
			sig, err := DecodeSignature(readFixture(t, c.sig))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyBlob(pub, bytes.NewReader(blob), sig); err != nil {
				t.Fatalf("cosign signature rejected: %v", err)
			}
			if err := VerifyBlob(pub, bytes.NewReader(tampered), sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered blob: %v", err)
			}
		})
	}
	// Wrong key: the ed25519 signature with the ECDSA key and vice versa.
	ecPub, _ := keys.ParsePublicKey(readFixture(t, "cosign.pub"))
	edSig, _ := DecodeSignature(readFixture(t, "artifact.ed25519.sig"))
	if err := VerifyBlob(ecPub, bytes.NewReader(blob), edSig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong key: %v", err)
	}
}

// TestSignLikeCosign signs with cosign's own key file: the result must
// verify with cosign.pub (cosign verify-blob accepting mlgate's output is
// recorded in testdata/README.md).
func TestSignLikeCosign(t *testing.T) {
	t.Setenv("MLGATE_FIXTURE_KEY", string(readFixture(t, "cosign.key")))
	t.Setenv(PasswordEnv, fixturePassword)
	s, err := LoadPrivateKey("env://MLGATE_FIXTURE_KEY")
	if err != nil {
		t.Fatal(err)
	}
	blob := readFixture(t, "model.bin")
	raw, err := SignBlob(s, bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := keys.ParsePublicKey(readFixture(t, "cosign.pub"))
	sig, _ := DecodeSignature(EncodeSignature(raw))
	if err := VerifyBlob(pub, bytes.NewReader(blob), sig); err != nil {
		t.Fatal(err)
	}
}
