package sign

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/sign/keys"
)

var sigField = regexp.MustCompile(`"sig":"[A-Za-z0-9+/=]*"`)

func refPayload(t *testing.T, sig string) ([]byte, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, sig))
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DSSEEnvelope struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	p, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return data, p
}

// ignoreOrder rewrites the ignore_paths list of a statement in sorted
// order: model_signing takes it from a Python frozenset, whose order is
// arbitrary.
func ignoreOrder(t *testing.T, p []byte) []byte {
	t.Helper()
	re := regexp.MustCompile(`(?s)"ignore_paths": \[\n(.*?)\n\s*\]`)
	return re.ReplaceAllFunc(p, func(m []byte) []byte {
		sub := re.FindSubmatch(m)
		lines := strings.Split(string(sub[1]), "\n")
		for i := range lines {
			lines[i] = strings.TrimSuffix(lines[i], ",")
		}
		slices.Sort(lines)
		return []byte(`"ignore_paths": [` + strings.Join(lines, ",") + `]`)
	})
}

// TestSignMatchesReference signs the fixture models with the fixture key
// and compares with the reference signatures: the statement byte for byte
// (ignore_paths as a set, since the reference's order is arbitrary) and the
// bundle byte for byte except the ECDSA signature value (random nonce).
func TestSignMatchesReference(t *testing.T) {
	signer, err := keys.LoadPrivateKey(filepath.Join(fixtureDir, "keys/ec-p256-private.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := keys.LoadPublicKey(filepath.Join(fixtureDir, "keys/ec-p256-public.pem"))
	for _, c := range []struct {
		ref, model string
		cfg        HashConfig
		exactOrder bool
	}{
		{"model-a.files.sig", "model-a", HashConfig{}, true},
		{"model-a.shards.sig", "model-a", HashConfig{Method: MethodShards, ShardSize: 1024}, true},
		{"model-a.ignore.sig", "model-a", HashConfig{IgnorePaths: []string{"scratch"}}, false},
		{"single-file.sig", "single-file/weights.bin", HashConfig{}, true},
	} {
		t.Run(c.ref, func(t *testing.T) {
			refBundle, refStmt := refPayload(t, c.ref)
			model := filepath.Join(fixtureDir, c.model)
			out, err := Sign(model, SignOptions{HashConfig: c.cfg, Signer: signer, SignaturePath: filepath.Join(t.TempDir(), "model.sig")})
			if err != nil {
				t.Fatal(err)
			}
			got, want := out.Statement, refStmt
			if !c.exactOrder {
				got, want = ignoreOrder(t, got), ignoreOrder(t, want)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("statement differs from the reference:\n--- mlgate\n%s\n--- reference\n%s", got, want)
			}
			if c.exactOrder {
				g := sigField.ReplaceAll(out.Bundle, []byte(`"sig":""`))
				w := sigField.ReplaceAll(refBundle, []byte(`"sig":""`))
				if !bytes.Equal(g, w) {
					t.Fatalf("bundle differs from the reference beyond the signature value:\n%s\n%s", g, w)
				}
			}
			// The same code path that accepts the reference bundles
			// accepts mlgate's.
			res, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: pub})
			if err != nil || !res.Verified {
				t.Fatalf("mlgate bundle does not verify: %v", err)
			}
		})
	}
}

// extractTar unpacks a .tar.gz fixture (which keeps the .git directories
// git cannot store) into dir.
func extractTar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Fatalf("bad entry %q", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestGitDirectoryIgnored verifies the reference signature against the
// model with its real .git directory (from model-a.tar.gz), then changes
// .git and a root .gitignore: still OK; then a nested .gitignore: FAIL.
func TestGitDirectoryIgnored(t *testing.T) {
	dir := t.TempDir()
	extractTar(t, filepath.Join(fixtureDir, "model-a.tar.gz"), dir)
	model := filepath.Join(dir, "model-a")
	if _, err := os.Stat(filepath.Join(model, ".git", "HEAD")); err != nil {
		t.Fatalf("tarball lacks .git: %v", err)
	}
	pub, _ := keys.LoadPublicKey(filepath.Join(fixtureDir, "keys/ec-p256-public.pem"))
	sig, _ := os.ReadFile(filepath.Join(fixtureDir, "model-a.files.sig"))
	if _, err := Verify(model, sig, VerifyOptions{PublicKey: pub}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(model, ".git", "HEAD"), []byte("ref: refs/heads/evil\n"), 0o644)
	os.WriteFile(filepath.Join(model, ".gitignore"), []byte("*\n"), 0o644)
	os.MkdirAll(filepath.Join(model, ".github", "workflows"), 0o755)
	os.WriteFile(filepath.Join(model, ".github", "workflows", "x.yml"), []byte("on: push\n"), 0o644)
	if _, err := Verify(model, sig, VerifyOptions{PublicKey: pub}); err != nil {
		t.Fatalf("git metadata change rejected: %v", err)
	}
	os.WriteFile(filepath.Join(model, "tokenizer", ".gitignore"), []byte("*.py\n"), 0o644)
	if _, err := Verify(model, sig, VerifyOptions{PublicKey: pub}); err == nil {
		t.Fatal("nested .gitignore change accepted")
	}
}

// TestCompleteTreeWithGitDirs runs the EXPECTED.md matrix on the complete
// generated tree (with its .git directories) from ../shared.
func TestCompleteTreeWithGitDirs(t *testing.T) {
	up := sharedUpstream(t)
	if up == "" {
		t.Skip("../shared/fixtures/oms not present")
	}
	dir := t.TempDir()
	extractTar(t, filepath.Join(filepath.Dir(up), "complete-with-git-dirs.tar.gz"), dir)
	root := filepath.Join(dir, "oms")
	if _, err := os.Stat(filepath.Join(root, "model-a", ".git")); err != nil {
		t.Fatalf("no .git in the complete tree: %v", err)
	}
	for _, c := range readExpected(t) {
		_, err := runCase(t, root, filepath.Join(root, "upstream"), c)
		if (err == nil) != (c.expected == "OK") {
			t.Errorf("%s: expected %s, got %v", c.id, c.expected, err)
		}
	}
}

// TestReferenceVerifiesMlgate runs the reference verifier on an mlgate
// signature when the Python model_signing package is importable here
// (it is not on machines without PyPI access; the test then skips, and
// TestSignMatchesReference's byte comparison is the evidence).
func TestReferenceVerifiesMlgate(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	if err := exec.Command(py, "-c", "import model_signing").Run(); err != nil {
		t.Skip("python model_signing not importable")
	}
	signer, err := keys.LoadPrivateKey(filepath.Join(fixtureDir, "keys/ec-p256-private.pem"))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(fixtureDir, "model-a")
	sig := filepath.Join(t.TempDir(), "model.sig")
	out, err := Sign(model, SignOptions{Signer: signer, SignaturePath: sig})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(sig, out.Bundle, 0o644)
	cmd := exec.Command(py, "-m", "model_signing", "verify", "key", "--signature", sig, "--public-key", filepath.Join(fixtureDir, "keys/ec-p256-public.pem"), model)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("model_signing rejects the mlgate signature: %v\n%s", err, b)
	}
}
