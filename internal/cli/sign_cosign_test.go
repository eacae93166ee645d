package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const cosignFixtures = "../../sign/cosign/testdata"

func cosignFixture(name string) string { return filepath.Join(cosignFixtures, name) }

func copyFile(t *testing.T, src, dst string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestCosignVerifyFixtures(t *testing.T) {
	for _, c := range []struct{ sig, pub string }{
		{"artifact.sig", "cosign.pub"},
		{"artifact.envkey.sig", "cosign.pub"},
		{"artifact.ed25519.sig", "cosign-ed25519.pub"},
		{"mlgate-artifact.sig", "cosign.pub"},
		{"mlgate-artifact.ed25519.sig", "cosign-ed25519.pub"},
		{"model.bin.signatures/artifact.sig", "cosign.pub"},
	} {
		code, out, errs := run(t, "verify", cosignFixture("model.bin"), "--signature", cosignFixture(c.sig), "--key", cosignFixture(c.pub))
		if code != 0 || !strings.HasPrefix(out, "OK: ") {
			t.Errorf("%s: exit %d\n%s%s", c.sig, code, out, errs)
		}
	}
	// The public key from the environment, as the seed script passes it.
	pub, _ := os.ReadFile(cosignFixture("cosign.pub"))
	t.Setenv("COSIGN_PUBLIC_KEY", string(pub))
	if code, out, errs := run(t, "verify", cosignFixture("model.bin"), "--signature", cosignFixture("artifact.sig"), "--key", "env://COSIGN_PUBLIC_KEY"); code != 0 {
		t.Errorf("env:// public key: exit %d\n%s%s", code, out, errs)
	}
}

func TestCosignVerifyFailures(t *testing.T) {
	dir := t.TempDir()
	blob := copyFile(t, cosignFixture("model.bin"), filepath.Join(dir, "model.bin"))
	sig := cosignFixture("artifact.sig")

	code, out, _ := run(t, "verify", blob, "--signature", sig, "--key", cosignFixture("cosign-ed25519.pub"))
	if code != 1 || !strings.Contains(out, "does not verify") {
		t.Errorf("wrong key: exit %d\n%s", code, out)
	}
	b, _ := os.ReadFile(blob)
	b[1000] ^= 1
	os.WriteFile(blob, b, 0o644)
	code, out, _ = run(t, "verify", blob, "--signature", sig, "--key", cosignFixture("cosign.pub"), "--format", "json")
	if code != 1 || !strings.Contains(out, `"failure_kind": "bad-signature"`) {
		t.Errorf("tampered blob: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, "verify", filepath.Join(dir, "absent.bin"), "--signature", sig, "--key", cosignFixture("cosign.pub"))
	if code != 1 || !strings.Contains(out, "does not exist") {
		t.Errorf("missing file: exit %d\n%s", code, out)
	}
	code, _, errs := run(t, "verify", blob, "--signature", sig, "--key", filepath.Join(dir, "nope.pub"))
	if code != 2 || !strings.Contains(errs, "load public key") {
		t.Errorf("missing key: exit %d\n%s", code, errs)
	}
	garbage := writeFile(t, filepath.Join(dir, "garbage.sig"), "%%% not base64 and not a signature")
	code, out, _ = run(t, "verify", cosignFixture("model.bin"), "--signature", garbage, "--key", cosignFixture("cosign.pub"))
	if code != 1 {
		t.Errorf("garbage signature: exit %d\n%s", code, out)
	}
}

func TestCosignSignRoundTrip(t *testing.T) {
	dir := t.TempDir()
	blob := copyFile(t, cosignFixture("model.bin"), filepath.Join(dir, "model.bin"))
	out := filepath.Join(dir, "model.bin.sig")
	t.Setenv("MLGATE_KEY_PASSWORD", "")
	os.Unsetenv("MLGATE_KEY_PASSWORD")
	t.Setenv("COSIGN_PASSWORD", "mlgate-test-password")
	code, stdout, errs := run(t, "sign", "--format", "cosign", blob, "--key", cosignFixture("cosign.key"), "--output", out)
	if code != 0 {
		t.Fatalf("sign: exit %d\n%s%s", code, stdout, errs)
	}
	if code, o, e := run(t, "verify", blob, "--signature", out, "--key", cosignFixture("cosign.pub")); code != 0 {
		t.Fatalf("verify own signature: exit %d\n%s%s", code, o, e)
	}
	// Without --output the signature goes to stdout, like cosign sign-blob.
	code, stdout, _ = run(t, "sign", "--format", "cosign", blob, "--key", cosignFixture("cosign-ed25519.key"))
	if code != 0 || len(strings.TrimSpace(stdout)) != 88 {
		t.Fatalf("stdout signature: exit %d %q", code, stdout)
	}
	// The private key from the environment (the seed's env://COSIGN_PRIVATE_KEY).
	key, _ := os.ReadFile(cosignFixture("cosign.key"))
	t.Setenv("COSIGN_PRIVATE_KEY", string(key))
	if code, o, e := run(t, "sign", "--format", "cosign", blob, "--key", "env://COSIGN_PRIVATE_KEY", "--output", out); code != 0 {
		t.Fatalf("env:// key: exit %d\n%s%s", code, o, e)
	}
	// Provenance signed as DSSE with the cosign key, checked with cosign.pub.
	ciEnv(t, nil)
	prov := filepath.Join(dir, "model.bin.provenance.json")
	if code, o, e := run(t, "provenance", blob, "--key", cosignFixture("cosign.key"), "--output", prov); code != 0 {
		t.Fatalf("provenance with cosign key: exit %d\n%s%s", code, o, e)
	}
	if code, o, e := run(t, "verify", blob, "--provenance", prov, "--key", cosignFixture("cosign.pub")); code != 0 {
		t.Fatalf("verify provenance with cosign.pub: exit %d\n%s%s", code, o, e)
	}
	t.Setenv("COSIGN_PASSWORD", "wrong")
	code, _, errs = run(t, "sign", "--format", "cosign", blob, "--key", cosignFixture("cosign.key"), "--output", out)
	if code != 2 || !strings.Contains(errs, "wrong password") {
		t.Fatalf("wrong password: exit %d\n%s", code, errs)
	}
	t.Setenv("COSIGN_PASSWORD", "mlgate-test-password")
	code, _, errs = run(t, "sign", "--format", "cosign", dir, "--key", cosignFixture("cosign.key"), "--output", out)
	if code != 2 || !strings.Contains(errs, "is a directory") {
		t.Fatalf("directory: exit %d\n%s", code, errs)
	}
}

func TestSeedLayoutProvenance(t *testing.T) {
	sigs := cosignFixture("model.bin.signatures")
	base := []string{"verify", cosignFixture("model.bin"), "--provenance", filepath.Join(sigs, "provenance.json"), "--key", cosignFixture("cosign.pub"),
		"--expect-repo", "acme/fraud-model", "--expect-ref", "main", "--expect-builder", "https://github.com/actions/runner/github-hosted"}
	for _, sig := range []string{"provenance.sig", "mlgate-provenance.sig"} {
		args := append(append([]string(nil), base...), "--provenance-signature", filepath.Join(sigs, sig))
		if code, out, errs := run(t, args...); code != 0 {
			t.Errorf("%s: exit %d\n%s%s", sig, code, out, errs)
		}
	}
	// The artifact signature made by cosign for the wrong key fails.
	args := append(append([]string(nil), base...), "--provenance-signature", filepath.Join(sigs, "provenance.sig"))
	args[5] = cosignFixture("cosign-ed25519.pub")
	if code, out, _ := run(t, args...); code != 1 || !strings.Contains(out, "does not verify") {
		t.Errorf("wrong key: exit %d\n%s", code, out)
	}
}

// `verify --format cosign`, the spelling, checks a cosign blob
// signature and refuses anything else.
func TestCosignVerifyFormatFlag(t *testing.T) {
	code, out, errs := run(t, "verify", cosignFixture("model.bin"), "--format", "cosign", "--signature", cosignFixture("artifact.sig"), "--key", cosignFixture("cosign.pub"))
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	bundle := filepath.Join(t.TempDir(), "model.sig")
	if err := os.WriteFile(bundle, []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "verify", cosignFixture("model.bin"), "--format", "cosign", "--signature", bundle, "--key", cosignFixture("cosign.pub")); code != 2 || !strings.Contains(errs, "not a cosign blob signature") {
		t.Fatalf("a bundle with --format cosign: exit %d, %s", code, errs)
	}
}

// A FIFO given as the signature (or provenance) is refused at once, not
// opened: opening it would block until a writer appears.
func TestVerifyRefusesFIFOSignature(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "model.sig")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan int, 1)
	go func() {
		code, _, _ := run(t, "verify", cosignFixture("model.bin"), "--signature", fifo, "--key", cosignFixture("cosign.pub"))
		done <- code
	}()
	select {
	case code := <-done:
		if code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("verify blocked on a FIFO signature")
	}
}
