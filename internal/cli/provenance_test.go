package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/sign/dsse"
)

// ciEnv clears every CI variable provenance reads, then sets vars.
func ciEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, k := range []string{"GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_REF",
		"GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_WORKFLOW", "GITHUB_WORKFLOW_REF", "GITHUB_SERVER_URL",
		"RUNNER_NAME", "RUNNER_ENVIRONMENT", "CI_PROJECT_PATH", "CI_PROJECT_URL", "CI_SERVER_URL", "CI_COMMIT_SHA",
		"CI_COMMIT_REF_NAME", "CI_COMMIT_TAG", "CI_JOB_URL", "CI_JOB_ID", "CI_RUNNER_ID", "CI_CONFIG_PATH", "CI_JOB_STARTED_AT"} {
		t.Setenv(k, "")
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

var ghaVars = map[string]string{
	"GITHUB_ACTIONS":      "true",
	"GITHUB_SERVER_URL":   "https://github.com",
	"GITHUB_REPOSITORY":   "acme/fraud-model",
	"GITHUB_SHA":          "0123456789abcdef0123456789abcdef01234567",
	"GITHUB_REF":          "refs/heads/main",
	"GITHUB_RUN_ID":       "11",
	"GITHUB_RUN_ATTEMPT":  "1",
	"GITHUB_WORKFLOW":     "train",
	"GITHUB_WORKFLOW_REF": "acme/fraud-model/.github/workflows/train.yml@refs/heads/main",
	"RUNNER_NAME":         "runner-7",
	"RUNNER_ENVIRONMENT":  "github-hosted",
}

// pemKeys writes a fresh ECDSA P-256 key pair as PEM files.
func pemKeys(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pder, _ := x509.MarshalPKIXPublicKey(k.Public())
	priv = writeFile(t, filepath.Join(dir, name+".pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	pub = writeFile(t, filepath.Join(dir, name+".pub"), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})))
	return priv, pub
}

func provenanceModel(t *testing.T) (dir, model string) {
	t.Helper()
	dir = t.TempDir()
	model = filepath.Join(dir, "model")
	writeFile(t, filepath.Join(model, "config.json"), `{"layers": 2}`)
	writeFile(t, filepath.Join(model, "weights", "model.safetensors"), strings.Repeat("w", 5000))
	writeFile(t, filepath.Join(model, ".gitattributes"), "*.safetensors filter=lfs\n")
	return dir, model
}

func TestProvenanceSignVerify(t *testing.T) {
	ciEnv(t, ghaVars)
	dir, model := provenanceModel(t)
	priv, pub := pemKeys(t, dir, "signer")
	prov := filepath.Join(dir, "model.provenance.json")
	code, out, errs := run(t, "provenance", model, "--key", priv, "--output", prov)
	if code != 0 {
		t.Fatalf("provenance: exit %d\n%s%s", code, out, errs)
	}
	data, _ := os.ReadFile(prov)
	env, err := dsse.Parse(data)
	if err != nil || env.PayloadType != "application/vnd.in-toto+json" {
		t.Fatalf("not a DSSE envelope: %v", err)
	}
	var st map[string]any
	json.Unmarshal(env.Payload, &st)
	subj := st["subject"].([]any)
	if len(subj) != 2 || subj[0].(map[string]any)["name"] != "config.json" || subj[1].(map[string]any)["name"] != "weights/model.safetensors" {
		t.Fatalf("subjects (git paths must be left out): %v", subj)
	}

	ok := []string{"verify", model, "--provenance", prov, "--key", pub}
	policy := []string{"--expect-repo", "acme/fraud-model", "--expect-ref", "main", "--expect-builder", "https://github.com/actions/runner/github-hosted"}
	code, out, errs = run(t, append(ok, policy...)...)
	if code != 0 || !strings.Contains(out, "OK: ") || !strings.Contains(out, "commit 0123456789abcdef") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}

	// Policy mismatches, one per field, each with its own message.
	for flag, c := range map[string]struct{ value, msg string }{
		"--expect-repo":    {"acme/fraud", `repository is "https://github.com/acme/fraud-model", policy expects acme/fraud`},
		"--expect-ref":     {"release", `ref is "refs/heads/main", policy expects release`},
		"--expect-builder": {"https://github.com/actions/runner/self-hosted", `builder is "https://github.com/actions/runner/github-hosted"`},
	} {
		code, out, _ := run(t, append(ok, flag, c.value)...)
		if code != 1 || !strings.Contains(out, c.msg) {
			t.Errorf("%s %s: exit %d\n%s", flag, c.value, code, out)
		}
	}

	// Wrong key.
	_, other := pemKeys(t, dir, "other")
	code, out, _ = run(t, "verify", model, "--provenance", prov, "--key", other)
	if code != 1 || !strings.Contains(out, "does not verify") {
		t.Errorf("wrong key: exit %d\n%s", code, out)
	}

	// Tampering: a changed file, an added file, a removed file.
	weights := filepath.Join(model, "weights", "model.safetensors")
	writeFile(t, weights, strings.Repeat("w", 4999)+"X")
	code, out, _ = run(t, "verify", model, "--provenance", prov, "--key", pub, "--format", "json")
	if code != 1 || !strings.Contains(out, `"kind": "digest-mismatch"`) || !strings.Contains(out, `"subject": "weights/model.safetensors"`) {
		t.Errorf("changed file: exit %d\n%s", code, out)
	}
	writeFile(t, weights, strings.Repeat("w", 5000))
	writeFile(t, filepath.Join(model, "backdoor.pkl"), "x")
	code, out, _ = run(t, "verify", model, "--provenance", prov, "--key", pub)
	if code != 1 || !strings.Contains(out, "backdoor.pkl: present in the model but not covered") {
		t.Errorf("added file: exit %d\n%s", code, out)
	}
	os.Remove(filepath.Join(model, "backdoor.pkl"))
	os.Remove(filepath.Join(model, "config.json"))
	code, out, _ = run(t, "verify", model, "--provenance", prov, "--key", pub)
	if code != 1 || !strings.Contains(out, "config.json: listed in the provenance but missing") {
		t.Errorf("missing file: exit %d\n%s", code, out)
	}
}

func TestProvenanceCouldNotRun(t *testing.T) {
	ciEnv(t, nil)
	dir, model := provenanceModel(t)
	priv, pub := pemKeys(t, dir, "signer")
	prov := filepath.Join(dir, "p.json")
	if code, o, e := run(t, "provenance", model, "--key", priv, "--output", prov); code != 0 {
		t.Fatalf("exit %d %s%s", code, o, e)
	}
	for name, args := range map[string][]string{
		"no key":              {"verify", model, "--provenance", prov},
		"missing provenance":  {"verify", model, "--provenance", filepath.Join(dir, "absent.json"), "--key", pub},
		"missing key file":    {"verify", model, "--provenance", prov, "--key", filepath.Join(dir, "absent.pub")},
		"expect without prov": {"verify", model, "--expect-repo", "a/b", "--key", pub},
		"sig-output no key":   {"provenance", model, "--signature-output", filepath.Join(dir, "x.sig"), "--output", prov},
		"missing model":       {"provenance", filepath.Join(dir, "absent-model")},
	} {
		if code, out, errs := run(t, args...); code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s%s", name, code, out, errs)
		}
	}
	// Provenance stored inside the model directory is not a model file.
	inside := filepath.Join(model, "provenance.json")
	if code, o, e := run(t, "provenance", model, "--key", priv, "--output", inside); code != 0 {
		t.Fatalf("exit %d %s%s", code, o, e)
	}
	if code, o, e := run(t, "verify", model, "--provenance", inside, "--key", pub); code != 0 {
		t.Fatalf("provenance inside the model: exit %d\n%s%s", code, o, e)
	}
	os.Remove(inside)
	// A local build: builder local://user@host, and a repository policy
	// cannot be met.
	code, out, _ := run(t, "verify", model, "--provenance", prov, "--key", pub, "--expect-repo", "acme/fraud-model")
	if code != 1 || !strings.Contains(out, "repository is absent") {
		t.Errorf("local provenance vs repo policy: exit %d\n%s", code, out)
	}
	// An unsigned statement is not accepted as provenance.
	bare := filepath.Join(dir, "bare.json")
	if code, _, _ := run(t, "provenance", model, "--output", bare); code != 0 {
		t.Fatal("unsigned provenance failed")
	}
	code, out, _ = run(t, "verify", model, "--provenance", bare, "--key", pub)
	if code != 1 || !strings.Contains(out, "bare statement") {
		t.Errorf("unsigned statement: exit %d\n%s", code, out)
	}
}

func TestProvenanceGitLabSingleFile(t *testing.T) {
	ciEnv(t, map[string]string{
		"GITLAB_CI":          "true",
		"CI_SERVER_URL":      "https://gitlab.example.com",
		"CI_PROJECT_PATH":    "ml/ranker",
		"CI_COMMIT_SHA":      "89abcdef0123456789abcdef0123456789abcdef",
		"CI_COMMIT_REF_NAME": "release",
		"CI_JOB_ID":          "77",
		"CI_RUNNER_ID":       "5",
	})
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "model.gguf"), "GGUF....")
	priv, pub := pemKeys(t, dir, "k")
	prov := filepath.Join(dir, "model.gguf.provenance.json")
	if code, o, e := run(t, "provenance", file, "--key", priv, "--output", prov); code != 0 {
		t.Fatalf("exit %d %s%s", code, o, e)
	}
	code, out, errs := run(t, "verify", file, "--provenance", prov, "--key", pub, "--format", "json",
		"--expect-repo", "https://gitlab.example.com/ml/ranker", "--expect-ref", "refs/heads/release",
		"--expect-builder", "https://gitlab.example.com/ml/ranker/-/runners/5")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var res ProvenanceVerifyResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "verified" || res.Subjects != 1 || res.InvocationID != "https://gitlab.example.com/ml/ranker/-/jobs/77" ||
		res.Commit != "89abcdef0123456789abcdef0123456789abcdef" {
		t.Fatalf("result %+v", res)
	}
}
