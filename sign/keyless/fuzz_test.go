package keyless

import (
	"testing"
)

// FuzzVerify feeds arbitrary bytes as a bundle to Verify with a real
// trusted root. Nothing may panic, and nothing but a bundle signed by the
// test deployment may verify.
func FuzzVerify(f *testing.F) {
	_, tr, b := setup(f)
	f.Add(b)
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AAAA"}]}}`))
	f.Add([]byte(`{}`))
	p := Policy{Identity: identity, Issuer: issuer}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Verify(data, tr, p)
		if err == nil && (res == nil || res.Identity != identity) {
			t.Fatalf("verified with result %+v", res)
		}
	})
}
