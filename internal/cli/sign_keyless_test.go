package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/sign"
	"github.com/mlgate/mlgate/sign/keyless/keylesstest"
)

// TestKeylessVerify signs a real OMS statement over a model with an
// in-process test Sigstore (Fulcio-like CA, Rekor-like log, TSA) and
// verifies it offline with --trusted-root.
func TestKeylessVerify(t *testing.T) {
	dir, model := provenanceModel(t)
	m, _, err := sign.BuildManifest(model, sign.HashConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := sign.StatementJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := keylesstest.New()
	if err != nil {
		t.Fatal(err)
	}
	const id, iss = "release-bot@example.com", "https://accounts.example.com"
	b, err := ss.Bundle(id, iss, stmt)
	if err != nil {
		t.Fatal(err)
	}
	bundle := writeFile(t, filepath.Join(dir, "model.sig"), string(b))
	tr, err := ss.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	root := writeFile(t, filepath.Join(dir, "trusted_root.json"), string(tr))

	base := []string{"verify", model, "--signature", bundle, "--trusted-root", root}
	code, out, errs := run(t, append(base, "--identity", id, "--issuer", iss)...)
	if code != 0 || !strings.Contains(out, "keyless release-bot@example.com") {
		t.Fatalf("keyless verify: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = run(t, append(base, "--identity-regexp", `^release-bot@example\.com$`, "--issuer-regexp", `^https://accounts\.example\.com$`)...)
	if code != 0 {
		t.Fatalf("regexp policy: exit %d\n%s%s", code, out, errs)
	}

	code, out, _ = run(t, append(base, "--identity", "someone-else@example.com", "--issuer", iss)...)
	if code != 1 || !strings.Contains(out, "identity policy does not allow") {
		t.Errorf("wrong identity: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, append(base, "--identity", id, "--issuer", "https://token.actions.githubusercontent.com", "--format", "json")...)
	if code != 1 || !strings.Contains(out, `"failure_kind": "wrong-key"`) {
		t.Errorf("wrong issuer: exit %d\n%s", code, out)
	}
	// Another deployment's root does not trust this bundle.
	other, _ := keylesstest.New()
	otr, _ := other.TrustedRootJSON()
	otherRoot := writeFile(t, filepath.Join(dir, "other_root.json"), string(otr))
	code, out, _ = run(t, "verify", model, "--signature", bundle, "--trusted-root", otherRoot, "--identity", id, "--issuer", iss)
	if code != 1 || !strings.Contains(out, "does not verify against the trusted root") {
		t.Errorf("untrusted root: exit %d\n%s", code, out)
	}
	// A changed model file fails after the bundle verified.
	writeFile(t, filepath.Join(model, "config.json"), `{"layers": 3}`)
	code, out, _ = run(t, append(base, "--identity", id, "--issuer", iss)...)
	if code != 1 || !strings.Contains(out, "config.json") {
		t.Errorf("tampered model: exit %d\n%s", code, out)
	}
	// Usage errors: no issuer; policy flags without a trusted root; missing root.
	for name, args := range map[string][]string{
		"no issuer":         append(base, "--identity", id),
		"identity only":     {"verify", model, "--signature", bundle, "--identity", id, "--issuer", iss},
		"missing root file": {"verify", model, "--signature", bundle, "--trusted-root", filepath.Join(dir, "absent.json"), "--identity", id, "--issuer", iss},
	} {
		if code, out, errs := run(t, args...); code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s%s", name, code, out, errs)
		}
	}
}

func TestKeylessSigningNeedsNetwork(t *testing.T) {
	dir, model := provenanceModel(t)
	code, out, errs := run(t, "sign", "--format", "keyless", model, "--output", filepath.Join(dir, "m.sig"))
	if code != 2 || !strings.Contains(errs, "needs network") {
		t.Fatalf("keyless sign: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.sig")); err == nil {
		t.Fatal("a signature file was written")
	}
}

// TestKeylessProvenance verifies SLSA provenance carried in a keyless
// Sigstore bundle, the form GitHub's artifact attestations take.
func TestKeylessProvenance(t *testing.T) {
	ciEnv(t, ghaVars)
	dir, model := provenanceModel(t)
	code, stmt, errs := run(t, "provenance", model)
	if code != 0 {
		t.Fatalf("provenance: exit %d %s", code, errs)
	}
	ss, err := keylesstest.New()
	if err != nil {
		t.Fatal(err)
	}
	const id = "https://github.com/acme/fraud-model/.github/workflows/train.yml@refs/heads/main"
	const iss = "https://token.actions.githubusercontent.com"
	b, err := ss.Bundle(id, iss, []byte(stmt))
	if err != nil {
		t.Fatal(err)
	}
	bundle := writeFile(t, filepath.Join(dir, "model.intoto.sigstore.json"), string(b))
	tr, _ := ss.TrustedRootJSON()
	root := writeFile(t, filepath.Join(dir, "trusted_root.json"), string(tr))
	base := []string{"verify", model, "--provenance", bundle, "--trusted-root", root, "--issuer", iss,
		"--expect-repo", "acme/fraud-model", "--expect-ref", "main"}

	code, out, errs := run(t, append(base, "--identity", id)...)
	if code != 0 || !strings.Contains(out, "signed by keyless "+id) {
		t.Fatalf("keyless provenance: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, append(base, "--identity-regexp", `^https://github\.com/evil/`, "--format", "json")...)
	if code != 1 || !strings.Contains(out, `"kind": "identity-mismatch"`) {
		t.Errorf("wrong identity: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, append(base, "--identity", id, "--expect-ref", "release")...)
	if code != 1 || !strings.Contains(out, "policy expects release") {
		t.Errorf("policy: exit %d\n%s", code, out)
	}
	writeFile(t, filepath.Join(model, "config.json"), `{"layers": 3}`)
	code, out, _ = run(t, append(base, "--identity", id)...)
	if code != 1 || !strings.Contains(out, "config.json: sha256") {
		t.Errorf("changed file: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, append(base, "--identity", id, "--key", "k.pub")...); code != 2 {
		t.Errorf("--key with --trusted-root: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "verify", model, "--provenance", bundle, "--identity", id, "--issuer", iss); code != 2 {
		t.Errorf("identity without trusted root: exit %d, want 2", code)
	}
}
