package sign

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlgate/mlgate/sign/keys"
)

func addFixtureSeeds(f *testing.F, pattern string) {
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, pattern))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

// FuzzParseBundle: ParseBundle and VerifyBundle must not panic on any
// input, and a parsed bundle must marshal and parse again.
func FuzzParseBundle(f *testing.F) {
	addFixtureSeeds(f, "*.sig")
	addFixtureSeeds(f, "tampered-sigs/*.sig")
	addFixtureSeeds(f, "variants/*.sig")
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"x509CertificateChain":{"certificates":[{"rawBytes":"AAAA"}]},"tlogEntries":[]},"dsseEnvelope":{"payload":"","payloadType":"x","signatures":[{"sig":"AA==","keyid":""}]}}`))
	pub, err := keys.LoadPublicKey(filepath.Join(fixtureDir, "keys/ec-p256-public.pem"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			if !IsFailure(err) {
				t.Fatalf("parse error is not a Failure: %v", err)
			}
			return
		}
		_, _, _ = VerifyBundle(data, VerifyOptions{PublicKey: pub})
		out, err := MarshalBundle(b)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		b2, err := ParseBundle(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if b2.Hint != b.Hint || len(b2.Certificates) != len(b.Certificates) || !bytes.Equal(b2.Envelope.Payload, b.Envelope.Payload) {
			t.Fatal("round trip changed the bundle")
		}
	})
}

// FuzzParseStatement: ParseStatement must not panic, and an accepted
// statement re-rendered by StatementJSON must parse to the same manifest.
func FuzzParseStatement(f *testing.F) {
	addFixtureSeeds(f, "*.payload.json")
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"predicateType":"https://model_signing/Digests/v0.1","predicate":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseStatement(data)
		if err != nil {
			return
		}
		out, err := StatementJSON(m)
		if err != nil {
			t.Fatalf("render accepted statement: %v", err)
		}
		m2, err := ParseStatement(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if m2.ModelName != m.ModelName || len(m2.Resources) != len(m.Resources) || !bytes.Equal(m2.RootDigest, m.RootDigest) ||
			m2.Serialization.Method != m.Serialization.Method || m2.Serialization.ShardSize != m.Serialization.ShardSize {
			t.Fatalf("round trip changed the manifest")
		}
		for i := range m.Resources {
			a, b := m.Resources[i], m2.Resources[i]
			if a.Name != b.Name || a.Algorithm != b.Algorithm || !bytes.Equal(a.Digest, b.Digest) || a.File != b.File || a.Start != b.Start || a.End != b.End {
				t.Fatalf("resource %d changed: %+v -> %+v", i, a, b)
			}
		}
	})
}
