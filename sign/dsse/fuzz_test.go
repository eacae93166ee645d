package dsse

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must not panic, and an
// envelope it accepts must survive a marshal/parse round trip unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"payload":"aGVsbG8=","payloadType":"text/plain","signatures":[{"sig":"AAAA","keyid":""}]}`))
	f.Add([]byte(`{"payload":"aGVsbG8","payloadType":"t","signatures":[{"sig":"AA-_","keyid":"k"}]}`))
	f.Add([]byte(`{"payload":"","payloadType":"t","signatures":[]}`))
	f.Add([]byte(`{"payload":"aGVsbG8=","payloadType":"t","signatures":[{"sig":"AAAA"}],"x":1}`))
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if env, err := Sign(k, "", "application/vnd.in-toto+json", []byte(`{"a":1}`)); err == nil {
		b, _ := json.Marshal(env)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data)
		if err != nil {
			return
		}
		_ = Verify(env, &k.PublicKey)
		b, err := json.Marshal(env)
		if err != nil {
			t.Fatalf("marshal accepted envelope: %v", err)
		}
		env2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b)
		}
		if env2.PayloadType != env.PayloadType || !bytes.Equal(env2.Payload, env.Payload) || len(env2.Signatures) != len(env.Signatures) {
			t.Fatalf("round trip changed the envelope")
		}
		for i := range env.Signatures {
			if env.Signatures[i].KeyID != env2.Signatures[i].KeyID || !bytes.Equal(env.Signatures[i].Sig, env2.Signatures[i].Sig) {
				t.Fatalf("round trip changed signature %d", i)
			}
		}
	})
}
