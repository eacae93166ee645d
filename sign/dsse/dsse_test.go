package dsse

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPAE(t *testing.T) {
	// Vector from the DSSE v1 protocol description.
	got := string(PAE("http://example.com/HelloWorld", []byte("hello world")))
	if want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"; got != want {
		t.Fatalf("PAE = %q, want %q", got, want)
	}
	if got := string(PAE("", nil)); got != "DSSEv1 0  0 " {
		t.Fatalf("empty PAE = %q", got)
	}
}

func signers(t *testing.T) map[string]crypto.Signer {
	t.Helper()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	return map[string]crypto.Signer{"p256": p256, "p384": p384, "p521": p521, "ed25519": ed, "rsa": rk}
}

func TestSignVerify(t *testing.T) {
	ss := signers(t)
	for name, s := range ss {
		t.Run(name, func(t *testing.T) {
			env, err := Sign(s, "k1", "application/vnd.in-toto+json", []byte(`{"x":1}`))
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(env, s.Public()); err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(env)
			env2, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(env2, s.Public()); err != nil {
				t.Fatalf("after round trip: %v", err)
			}
			// Tampering with payload or type breaks it.
			env2.Payload[1] ^= 1
			if err := Verify(env2, s.Public()); !errors.Is(err, ErrVerify) {
				t.Fatalf("payload tamper: %v", err)
			}
			env2.Payload[1] ^= 1
			env2.PayloadType = "application/json"
			if err := Verify(env2, s.Public()); !errors.Is(err, ErrVerify) {
				t.Fatalf("type tamper: %v", err)
			}
			// Any other key fails.
			for other, o := range ss {
				if other != name {
					if err := Verify(env, o.Public()); err == nil {
						t.Fatalf("verified with %s key", other)
					}
				}
			}
		})
	}
}

func TestVerifyAnySignature(t *testing.T) {
	ss := signers(t)
	a, _ := Sign(ss["p256"], "a", "t", []byte("p"))
	b, _ := Sign(ss["ed25519"], "b", "t", []byte("p"))
	a.Signatures = append(a.Signatures, b.Signatures...)
	if err := Verify(a, ss["ed25519"].Public()); err != nil {
		t.Fatal(err)
	}
	if err := Verify(&Envelope{PayloadType: "t"}, ss["p256"].Public()); !errors.Is(err, ErrNoSignature) {
		t.Fatal(err)
	}
}

func TestJSONForm(t *testing.T) {
	env := &Envelope{PayloadType: "application/vnd.in-toto+json", Payload: []byte("hi"), Signatures: []Signature{{Sig: []byte{1, 2}}}}
	b, _ := json.Marshal(env)
	if want := `{"payload":"aGk=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AQI=","keyid":""}]}`; string(b) != want {
		t.Fatalf("got %s", b)
	}
}

func TestParseStrict(t *testing.T) {
	good := `{"payload":"aGk=","payloadType":"t","signatures":[{"sig":"AQI=","keyid":""}]}`
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatal(err)
	}
	// URL-safe and unpadded base64 are accepted, as DSSE asks.
	if e, err := Parse([]byte(`{"payload":"aGk","payloadType":"t","signatures":[{"sig":"-_8"}]}`)); err != nil || string(e.Payload) != "hi" {
		t.Fatalf("unpadded/url: %v", err)
	}
	for _, bad := range []string{
		``, `null`, `[]`, `{}`,
		`{"payload":"aGk=","signatures":[{"sig":"AQI="}]}`,
		`{"payload":"aGk=","payloadType":"t","signatures":[]}`,
		`{"payload":"aGk=","payloadType":"t"}`,
		`{"payload":"a!k=","payloadType":"t","signatures":[{"sig":"AQI="}]}`,
		`{"payload":"aGk=","payloadType":"t","signatures":[{"sig":""}]}`,
		`{"payload":"aGk=","payloadType":"t","signatures":[{"sig":"AQI="}],"extra":1}`,
		`{"payload":"aGk=","payloadType":"t","signatures":[{"sig":"AQI="}]} {}`,
		`{"payloadType":"t","signatures":[{"sig":"AQI="}]}`,
		`{"payload":"aGk=","payloadType":"t","signatures":[` + strings.Repeat(`{"sig":"AQI="},`, MaxSignatures) + `{"sig":"AQI="}]}`,
	} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%.60q: %v", bad, err)
		}
	}
}

func TestUnsupportedKey(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if _, err := Sign(k, "", "t", nil); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatal(err)
	}
	if _, err := HashFor("nope"); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatal(err)
	}
}
