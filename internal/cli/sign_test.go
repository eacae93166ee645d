package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const omsDir = "../../sign/testdata/oms"

func signFixtureModel(t *testing.T) (model, sig string) {
	t.Helper()
	dir := t.TempDir()
	model = filepath.Join(dir, "model")
	writeFile(t, filepath.Join(model, "config.json"), `{"a":1}`)
	writeFile(t, filepath.Join(model, "weights", "w.bin"), strings.Repeat("w", 5000))
	sig = filepath.Join(dir, "model.sig")
	code, out, errs := run(t, "sign", model, "--key", filepath.Join(omsDir, "keys/ec-p256-private.pem"), "--output", sig)
	if code != 0 {
		t.Fatalf("sign: exit %d\n%s%s", code, out, errs)
	}
	if !strings.HasPrefix(out, "signed ") {
		t.Fatalf("sign output %q", out)
	}
	return model, sig
}

func TestSignVerifyCommands(t *testing.T) {
	model, sig := signFixtureModel(t)
	pub := filepath.Join(omsDir, "keys/ec-p256-public.pem")
	code, out, _ := run(t, "verify", model, "--signature", sig, "--key", pub)
	if code != 0 || !strings.HasPrefix(out, "OK: ") {
		t.Fatalf("verify: %d %q", code, out)
	}
	// Wrong key: exit 1, one FAILED line.
	code, out, _ = run(t, "verify", model, "--signature", sig, "--key", filepath.Join(omsDir, "keys/ec-p256-other-public.pem"))
	if code != 1 || !strings.HasPrefix(out, "FAILED: ") || !strings.Contains(out, "wrong key") {
		t.Fatalf("wrong key: %d %q", code, out)
	}
	// Tampered file: exit 1, names the file; JSON result is typed.
	writeFile(t, filepath.Join(model, "config.json"), `{"a":2}`)
	code, out, _ = run(t, "verify", model, "--signature", sig, "--key", pub, "--format", "json")
	var res struct {
		Status      string `json:"status"`
		FailureKind string `json:"failure_kind"`
		Mismatches  []struct{ Kind, Path string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if code != 1 || res.Status != "failed" || res.FailureKind != "file-changed" || len(res.Mismatches) != 1 || res.Mismatches[0].Path != "config.json" {
		t.Fatalf("tampered: %d %+v", code, res)
	}
	// --only skips the changed file.
	code, out, _ = run(t, "verify", model, "--signature", sig, "--key", pub, "--only", "weights/w.bin")
	if code != 0 || !strings.Contains(out, "1 of 2 files") {
		t.Fatalf("only: %d %q", code, out)
	}
	// Could not run: missing signature, missing key, corrupt key: exit 2.
	for _, args := range [][]string{
		{"verify", model, "--signature", sig + ".nope", "--key", pub},
		{"verify", model, "--signature", sig},
		{"verify", model, "--signature", sig, "--key", sig},
		{"verify", model, "--signature", sig, "--key", pub, "--format", "xml"},
	} {
		if code, out, errs := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	// Corrupt bundle: exit 1.
	bad := filepath.Join(t.TempDir(), "bad.sig")
	writeFile(t, bad, "{not json")
	if code, _, _ := run(t, "verify", model, "--signature", bad, "--key", pub); code != 1 {
		t.Errorf("corrupt bundle: exit %d", code)
	}
}

func TestVerifyReferenceFixture(t *testing.T) {
	code, out, _ := run(t, "verify", filepath.Join(omsDir, "model-a"), "--signature", filepath.Join(omsDir, "model-a.shards.sig"), "--key", filepath.Join(omsDir, "keys/ec-p256-public.pem"))
	if code != 0 {
		t.Fatalf("reference shard signature: %d %q", code, out)
	}
}

func TestSignReuse(t *testing.T) {
	model, sig := signFixtureModel(t)
	if _, err := os.Stat(sig + ".cache"); err != nil {
		t.Fatal("no cache written")
	}
	code, out, errs := run(t, "sign", model, "--key", filepath.Join(omsDir, "keys/ec-p256-private.pem"), "--output", sig, "--reuse", sig)
	if code != 0 {
		t.Fatalf("re-sign: %d %s %s", code, out, errs)
	}
	code, _, _ = run(t, "verify", model, "--signature", sig, "--key", filepath.Join(omsDir, "keys/ec-p256-public.pem"))
	if code != 0 {
		t.Fatal("re-signed model does not verify")
	}
}

func TestSignUsageErrors(t *testing.T) {
	model, _ := signFixtureModel(t)
	for _, args := range [][]string{
		{"sign", model},
		{"sign", model, "--key", filepath.Join(omsDir, "keys/ec-p256-private.pem"), "--method", "blocks"},
		{"sign", model, "--key", filepath.Join(omsDir, "keys/ec-p256-public.pem")},
		{"sign", model, "--key", filepath.Join(omsDir, "keys/ec-p256-private.pem"), "--format", "nope"},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestDigestCommand(t *testing.T) {
	model, _ := signFixtureModel(t)
	manifest := filepath.Join(t.TempDir(), "m.sha256")
	code, out, _ := run(t, "digest", model)
	if code != 0 || len(strings.Split(strings.TrimSpace(out), "\n")) != 2 {
		t.Fatalf("digest: %d %q", code, out)
	}
	writeFile(t, manifest, out)
	if code, out, _ := run(t, "digest", "--check", manifest); code != 0 || strings.Count(out, ": OK") != 2 {
		t.Fatalf("check: %d %q", code, out)
	}
	// sha256sum accepts the same file, when available.
	if _, err := exec.LookPath("sha256sum"); err == nil {
		if b, err := exec.Command("sha256sum", "-c", manifest).CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, b)
		}
	}
	writeFile(t, filepath.Join(model, "config.json"), "changed")
	os.Remove(filepath.Join(model, "weights", "w.bin"))
	code, out, errs := run(t, "digest", "--check", manifest)
	if code != 1 || !strings.Contains(out, "config.json: FAILED\n") || !strings.Contains(out, "w.bin: FAILED open or read") || !strings.Contains(errs, "1 computed checksum did NOT match") {
		t.Fatalf("check failures: %d %q %q", code, out, errs)
	}
}
