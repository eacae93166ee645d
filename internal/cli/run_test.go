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

	"github.com/santhosh-tekuri/jsonschema/v6"

	sandbox "github.com/mlgate/mlgate/run"
)

func requireSandbox(t *testing.T) {
	t.Helper()
	if m := sandbox.Probe(); !m.UserNS.Active {
		t.Skip("namespaces unavailable: " + m.UserNS.Reason)
	}
}

func TestRunKeepsStageExitCode(t *testing.T) {
	requireSandbox(t)
	code, out, errs := run(t, "run", "--no-default-watch", "--", "sh", "-c", "echo from-stage; exit 3")
	if code != 3 || !strings.Contains(out, "from-stage") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	if !strings.Contains(errs, "run: verdict clean, stage exit 3") || !strings.Contains(errs, "active   landlock") {
		t.Errorf("text summary on stderr: %q", errs)
	}
}

func TestRunJSONReportValidates(t *testing.T) {
	requireSandbox(t)
	dir := t.TempDir()
	outFile := filepath.Join(dir, "run.json")
	code, _, errs := run(t, "run", "--no-default-watch", "-f", "json", "-o", outFile, "--", "sh", "-c", "curl -s http://example.invalid/ || true")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Inputs []struct {
			Format  string         `json:"format"`
			Details sandbox.Result `json:"details"`
		} `json:"inputs"`
		Findings []struct {
			RuleID string `json:"rule_id"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Inputs) != 1 || doc.Inputs[0].Format != "run" || len(doc.Inputs[0].Details.Layers) < 10 || len(doc.Inputs[0].Details.Events) < 2 {
		t.Fatalf("report: %s", b)
	}
	found := false
	for _, f := range doc.Findings {
		found = found || f.RuleID == "run/network-tool-offline"
	}
	if !found {
		t.Errorf("findings: %+v", doc.Findings)
	}
	schemaPath, _ := filepath.Abs("../../docs/schema/report-v1.schema.json")
	if _, err := os.Stat(schemaPath); err == nil {
		schema, err := jsonschema.NewCompiler().Compile(schemaPath)
		if err != nil {
			t.Fatal(err)
		}
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
		if err := schema.Validate(inst); err != nil {
			t.Errorf("run report does not validate: %v", err)
		}
	}
}

func TestRunEnforceHalts(t *testing.T) {
	requireSandbox(t)
	dir, err := os.MkdirTemp("/var/tmp", "mlgate-cli-run-")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(dir)
	miner := filepath.Join(dir, "xmrig")
	if err := os.Symlink("/bin/true", miner); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "run", "--no-default-watch", "--mode", "enforce", "--", "sh", "-c", miner+"; echo survived")
	if code != exitHalted || strings.Contains(out, "survived") || !strings.Contains(errs, "stage halted: run/crypto-miner") {
		t.Fatalf("exit %d stdout %q stderr %q", code, out, errs)
	}
	// Audit mode keeps going and keeps the exit code.
	code, out, _ = run(t, "run", "--no-default-watch", "--", "sh", "-c", miner+"; echo survived")
	if code != 0 || !strings.Contains(out, "survived") {
		t.Fatalf("audit: exit %d stdout %q", code, out)
	}
	// --fail-on turns findings into exit 1 when the stage succeeded.
	if code, _, _ = run(t, "run", "--no-default-watch", "--fail-on", "high", "--", "sh", "-c", miner); code != 1 {
		t.Errorf("--fail-on high: exit %d", code)
	}
}

func TestRunLearnAndPolicy(t *testing.T) {
	requireSandbox(t)
	dir := t.TempDir()
	pol := filepath.Join(dir, "stage.run.yaml")
	if code, _, errs := run(t, "run", "--no-default-watch", "--learn", pol, "--", "sh", "-c", "/bin/true; ls / >/dev/null"); code != 0 {
		t.Fatalf("learn: exit %d %s", code, errs)
	}
	b, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sandbox.ParsePolicy(b)
	if err != nil {
		t.Fatalf("learned policy: %v\n%s", err, b)
	}
	if !strings.Contains(strings.Join(p.Executables, " "), "/bin/true") {
		t.Errorf("learned executables %v", p.Executables)
	}
	// The learned policy accepts the same run and reports a new program.
	code, _, errs := run(t, "run", "--no-default-watch", "--policy", pol, "--fail-on", "medium", "--", "sh", "-c", "/bin/true; ls / >/dev/null")
	if code != 0 {
		t.Errorf("same run under its learned policy: exit %d %s", code, errs)
	}
	code, _, errs = run(t, "run", "--no-default-watch", "--policy", pol, "--fail-on", "medium", "--", "sh", "-c", "/bin/true; ls / >/dev/null; id >/dev/null")
	if code != 1 || !strings.Contains(errs, "run/unexpected-executable") {
		t.Errorf("new program under the learned policy: exit %d %s", code, errs)
	}
}

func TestRunModelOutputLearnAndPolicy(t *testing.T) {
	requireSandbox(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "stage.run.yaml")
	script := "echo w > " + out + "/model.bin; cp " + out + "/model.bin " + out + "/copy.bin; cat " + out + "/model.bin >/dev/null"
	code, _, errs := run(t, "run", "--no-default-watch", "--model-output", out, "--learn", pol, "--fail-on", "high", "--", "sh", "-c", script)
	if code != 1 || !strings.Contains(errs, "run/unexpected-model-writer") || !strings.Contains(errs, "/cp opened") {
		t.Fatalf("cp into the model output: exit %d %s", code, errs)
	}
	if strings.Count(errs, "run/unexpected-model-writer") != 1 {
		t.Errorf("only cp is unexpected (the shell is the stage's own program; cat only reads): %s", errs)
	}
	b, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sandbox.ParsePolicy(b)
	if err != nil || p.ModelOutput == nil || p.ModelOutput.Path != out || len(p.ModelOutput.Writers) != 2 {
		t.Fatalf("learned policy (%v):\n%s", err, b)
	}
	// Under the learned policy the same run is clean; a new writer is not.
	if code, _, errs = run(t, "run", "--no-default-watch", "--policy", pol, "--fail-on", "high", "--", "sh", "-c", script); code != 0 {
		t.Errorf("same run under its learned policy: exit %d %s", code, errs)
	}
	code, _, errs = run(t, "run", "--no-default-watch", "--policy", pol, "--fail-on", "high", "--", "sh", "-c", script+"; ln "+out+"/model.bin "+out+"/hard")
	if code != 1 || !strings.Contains(errs, "/ln linked") {
		t.Errorf("new writer under the learned policy: exit %d %s", code, errs)
	}
	if code, _, _ := run(t, "run", "--model-output", filepath.Join(dir, "missing"), "--", "true"); code != 2 {
		t.Errorf("missing model output: exit %d, want 2", code)
	}
}

func TestRunHistoryAnomaly(t *testing.T) {
	requireSandbox(t)
	hist := filepath.Join(t.TempDir(), "history.txt")
	// Earlier runs took a millisecond; any real run takes longer than three times that.
	if err := os.WriteFile(hist, []byte("# test\n1ms\n1ms\n1ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "run", "--no-default-watch", "--history", hist, "--", "sh", "-c", "sleep 0.05")
	if code != 0 || !strings.Contains(errs, "run/duration-anomaly") {
		t.Errorf("exit %d stderr %q", code, errs)
	}
	b, _ := os.ReadFile(hist)
	if strings.Count(string(b), "\n") != 5 {
		t.Errorf("history not appended: %q", b)
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run"},
		{"run", "--mode", "paranoid", "--", "true"},
		{"run", "--network", "bridge", "--", "true"},
		{"run", "--allow-host", "nohostport", "--", "true"},
		{"run", "--policy", "/nonexistent/policy.yaml", "--", "true"},
		{"run", "--network", "none", "--allow-host", "a.example:443", "--", "true"},
	} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestRunProbe(t *testing.T) {
	code, out, _ := run(t, "run", "--probe")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil || m["kernel"] == nil {
		t.Errorf("exit %d %q", code, out)
	}
}

func TestRunSARIFValidates(t *testing.T) {
	requireSandbox(t)
	schemaPath, _ := filepath.Abs("../../../shared/schemas/sarif-schema-2.1.0.json")
	if _, err := os.Stat(schemaPath); err != nil {
		t.Skip("../shared is absent")
	}
	outFile := filepath.Join(t.TempDir(), "run.sarif")
	code, _, errs := run(t, "run", "--no-default-watch", "-f", "sarif", "-o", outFile, "--", "sh", "-c", "wget -q http://example.invalid/ || true")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	schema, err := jsonschema.NewCompiler().Compile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(outFile)
	defer f.Close()
	inst, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
	b, _ := os.ReadFile(outFile)
	if !strings.Contains(string(b), "run/network-tool-offline") {
		t.Errorf("finding missing from SARIF")
	}
}

// writeKeyPair writes a P-256 private key (PKCS #8 PEM) and its public key
// (PKIX PEM) under dir.
func writeKeyPair(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pder, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	priv = writeFile(t, filepath.Join(dir, name+".pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	pub = writeFile(t, filepath.Join(dir, name+".pub"), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder})))
	return priv, pub
}

func TestRunSignedReportAndVerify(t *testing.T) {
	requireSandbox(t)
	dir := t.TempDir()
	// The key lies where the stage can see the file system (not under the
	// private /tmp): only hiding keeps it from the stage.
	keyDir, err := os.MkdirTemp("/var/tmp", "mlgate-cli-key-")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(keyDir) })
	_ = os.Chmod(keyDir, 0o755)
	priv, pub := writeKeyPair(t, keyDir, "run")
	_ = os.Chmod(priv, 0o644)
	_, otherPub := writeKeyPair(t, keyDir, "other")
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	rep := filepath.Join(dir, "run-report.intoto.json")
	code, stageOut, errs := run(t, "run", "--no-default-watch", "--rw", out, "--sign-key", priv, "-o", rep, "--",
		"sh", "-c", "echo weights > "+out+"/model.bin; cat "+priv+" && echo KEY-READ")
	if code != 1 || !strings.Contains(errs, "wrote signed json report to "+rep) || strings.Contains(stageOut, "KEY-READ") || strings.Contains(stageOut, "PRIVATE KEY") {
		t.Fatalf("run exit %d (the stage's cat must fail): %s%s", code, stageOut, errs)
	}
	b, _ := os.ReadFile(rep)
	if !strings.Contains(string(b), `"payloadType":"application/vnd.in-toto+json"`) {
		t.Fatalf("not a DSSE envelope: %.200s", b)
	}
	code, stdout, errs := run(t, "verify", dir, "--run-report", rep, "--key", pub)
	if code != 0 || !strings.Contains(stdout, "OK: run report") || !strings.Contains(stdout, "1 output files match") || !strings.Contains(stdout, "stage exit 1") {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout, errs)
	}
	code, stdout, _ = run(t, "verify", dir, "--run-report", rep, "--key", pub, "--format", "json")
	var res RunReportVerifyResult
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Status != "verified" || res.Checked != 1 || res.Verdict == "" {
		t.Errorf("verify json: exit %d %s", code, stdout)
	}
	if code, stdout, _ := run(t, "verify", dir, "--run-report", rep, "--key", otherPub); code != 1 || !strings.Contains(stdout, "FAILED") || !strings.Contains(stdout, "wrong key") {
		t.Errorf("wrong key: exit %d %s", code, stdout)
	}
	os.WriteFile(filepath.Join(out, "model.bin"), []byte("swapped\n"), 0o644)
	if code, stdout, _ := run(t, "verify", dir, "--run-report", rep, "--key", pub); code != 1 || !strings.Contains(stdout, "model.bin: sha256") {
		t.Errorf("changed output: exit %d %s", code, stdout)
	}
	tampered := strings.Replace(string(b), `"payload":"`, `"payload":"AAAA`, 1)
	writeFile(t, rep, tampered)
	if code, stdout, _ := run(t, "verify", dir, "--run-report", rep, "--key", pub); code != 1 || !strings.Contains(stdout, "FAILED") {
		t.Errorf("tampered envelope: exit %d %s", code, stdout)
	}

	// Usage errors: checked before the stage runs.
	for _, args := range [][]string{
		{"run", "--sign-key", priv, "--", "true"},
		{"run", "--sign-key", priv, "-o", rep, "-f", "sarif", "--", "true"},
		{"run", "--sign-key", "env://MLGATE_TEST_KEY", "--secret", "MLGATE_TEST_KEY", "-o", rep, "--", "true"},
		{"verify", dir, "--run-report", rep},
	} {
		if code, _, errs := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d %s", args, code, errs)
		}
	}
}

func TestRunAllowPrivateEgressFlag(t *testing.T) {
	requireSandbox(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--allow-private-egress"}, "private, loopback and shared addresses allowed (--allow-private-egress)"},
		{nil, "names that resolve to private, loopback, link-local or metadata addresses are refused"},
	} {
		args := append([]string{"run", "--no-default-watch", "--allow-host", "mirror.internal:443"}, c.args...)
		code, _, errs := run(t, append(args, "--", "true")...)
		if code != 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, summary lacks %q:\n%s", c.args, code, c.want, errs)
		}
	}
	dir := t.TempDir()
	pol := writeFile(t, filepath.Join(dir, "p.yaml"), "network: allow\nallow_hosts: [mirror.internal:443]\nallow_private_egress: true\n")
	if code, _, errs := run(t, "run", "--no-default-watch", "--policy", pol, "--", "true"); code != 0 || !strings.Contains(errs, "(--allow-private-egress)") {
		t.Errorf("policy allow_private_egress: exit %d\n%s", code, errs)
	}
}
