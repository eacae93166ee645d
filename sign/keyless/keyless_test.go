package keyless

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/mlgate/mlgate/sign/keyless/keylesstest"
)

const (
	identity = "ml-release@example.com"
	issuer   = "https://accounts.example.com"
)

var statement = []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"model","digest":{"sha256":"` +
	strings.Repeat("ab", 32) + `"}}],"predicateType":"https://model_signing/signature/v1.0","predicate":{}}`)

func setup(t testing.TB) (*keylesstest.Sigstore, *root.TrustedRoot, []byte) {
	t.Helper()
	ss, err := keylesstest.New()
	if err != nil {
		t.Fatal(err)
	}
	trJSON, err := ss.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, trJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrustedRoot(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ss.Bundle(identity, issuer, statement)
	if err != nil {
		t.Fatal(err)
	}
	return ss, tr, b
}

func wantKind(t *testing.T, err error, k Kind) {
	t.Helper()
	var f *Failure
	if !errors.As(err, &f) || f.Kind != k {
		t.Fatalf("got %v, want failure kind %s", err, k)
	}
}

func TestVerifyKeylessBundle(t *testing.T) {
	_, tr, b := setup(t)
	for name, p := range map[string]Policy{
		"exact":  {Identity: identity, Issuer: issuer},
		"regexp": {IdentityRegexp: `^ml-[a-z]+@example\.com$`, IssuerRegexp: `^https://accounts\.example\.com$`},
	} {
		res, err := Verify(b, tr, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Identity != identity || res.Issuer != issuer || !bytes.Equal(res.Payload, statement) ||
			res.PayloadType != "application/vnd.in-toto+json" || res.Certificate == nil || len(res.Timestamps) == 0 {
			t.Fatalf("%s: result %+v", name, res)
		}
	}
}

func TestVerifyKeylessFailures(t *testing.T) {
	ss, tr, b := setup(t)
	good := Policy{Identity: identity, Issuer: issuer}

	_, err := Verify(b, tr, Policy{Identity: "attacker@example.com", Issuer: issuer})
	wantKind(t, err, KindIdentity)
	_, err = Verify(b, tr, Policy{Identity: identity, Issuer: "https://token.actions.githubusercontent.com"})
	wantKind(t, err, KindIdentity)
	// A regexp that matches only a prefix of the real identity is not enough
	// when anchored.
	_, err = Verify(b, tr, Policy{IdentityRegexp: `^ml-release@example\.co$`, Issuer: issuer})
	wantKind(t, err, KindIdentity)

	// Another deployment's trusted root: nothing chains.
	_, otherRoot, _ := setup(t)
	_, err = Verify(b, otherRoot, good)
	wantKind(t, err, KindUntrusted)

	// A changed payload breaks the DSSE signature.
	tampered := bytes.Replace(b, []byte(`"payload": "`), []byte(`"payload": "AAAA`), 1)
	if bytes.Equal(tampered, b) {
		t.Fatal("test did not tamper")
	}
	_, err = Verify(tampered, tr, good)
	wantKind(t, err, KindUntrusted)

	// A trusted root with a CT log demands SCTs the certificate lacks.
	ctJSON, err := ss.TrustedRootWithCTJSON()
	if err != nil {
		t.Fatal(err)
	}
	ctRoot, err := root.NewTrustedRootFromJSON(ctJSON)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(b, ctRoot, good)
	wantKind(t, err, KindUntrusted)

	_, err = Verify([]byte(`{"mediaType":"nope"}`), tr, good)
	wantKind(t, err, KindMalformed)
	_, err = Verify([]byte(`not json`), tr, good)
	wantKind(t, err, KindMalformed)

	if _, err := Verify(b, tr, Policy{Identity: identity}); !errors.Is(err, ErrNoIdentityPolicy) {
		t.Fatalf("missing issuer: %v", err)
	}
	if _, err := Verify(b, tr, Policy{IdentityRegexp: "(", Issuer: issuer}); err == nil || errors.Is(err, ErrNoIdentityPolicy) {
		t.Fatalf("bad regexp: %v", err)
	}
}

func TestKeylessSigningIsOfflineError(t *testing.T) {
	if err := Sign(); !errors.Is(err, ErrSigningNeedsNetwork) || !strings.Contains(err.Error(), "network") {
		t.Fatalf("Sign() = %v", err)
	}
}

func TestLoadTrustedRootErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.json")
	os.WriteFile(p, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"publicKey":{"rawBytes":"!!"}}]}`), 0o644)
	if _, err := LoadTrustedRoot(p); err == nil {
		t.Fatal("bad trusted root accepted")
	}
	if _, err := LoadTrustedRoot(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("missing file accepted")
	}
}
