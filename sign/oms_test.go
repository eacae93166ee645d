package sign

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/sign/keys"
)

// fixtureDir holds the generated OMS interop fixtures copied from
// ../shared/fixtures/oms (made by the reference model_signing; see
// testdata/oms/README.md).
const fixtureDir = "testdata/oms"

// sharedUpstream finds ../shared/fixtures/oms/upstream by walking up.
func sharedUpstream(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "fixtures", "oms", "upstream")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

type expectedCase struct {
	id, model, sig, key, options, expected, why string
}

func readExpected(t *testing.T) []expectedCase {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, "EXPECTED.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile(`^\| ([PNU]\d\d) \|`)
	var out []expectedCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !row.MatchString(line) {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`*")
		}
		if len(cells) < 11 {
			t.Fatalf("bad row %q", line)
		}
		out = append(out, expectedCase{cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], cells[10]})
	}
	return out
}

// runCase verifies one EXPECTED.md row with root as the fixture directory.
func runCase(t *testing.T, root, upstream string, c expectedCase) (*VerifyResult, error) {
	t.Helper()
	base := root
	if strings.HasPrefix(c.id, "U") {
		base = upstream
	}
	keyPath := filepath.Join(root, c.key)
	if strings.HasPrefix(c.key, "upstream/") {
		keyPath = filepath.Join(upstream, strings.TrimPrefix(c.key, "upstream/"))
	}
	pub, err := keys.LoadPublicKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(base, c.model)
	sigPath := filepath.Join(base, c.sig)
	data, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	o := VerifyOptions{PublicKey: pub, SignaturePath: sigPath}
	switch {
	case c.options == "":
	case c.options == "ignore_unsigned_files=True":
		o.IgnoreUnsignedFiles = true
	case strings.HasPrefix(c.options, "ignore_paths=['"):
		p := strings.TrimSuffix(strings.TrimPrefix(c.options, "ignore_paths=['"), "']")
		rel, dropped := ResolveIgnorePaths(model, []string{filepath.Join(base, p)})
		if len(dropped) > 0 {
			t.Fatalf("ignore path %s dropped", p)
		}
		o.IgnorePaths = rel
	default:
		t.Fatalf("unknown options %q", c.options)
	}
	return Verify(model, data, o)
}

// failWant is the failure each FAIL row must produce: its kind and the
// file it names (the reason, not only the outcome, must match).
var failWant = map[string]struct {
	kind Kind
	path string
}{
	"N01": {KindChanged, "model.safetensors"},
	"N02": {KindChanged, "model.safetensors"},
	"N03": {KindChanged, "model.safetensors"},
	"N04": {KindAdded, "extra_added.bin"},
	"N05": {KindAdded, "extra_added.bin"},
	"N06": {KindMissing, "tokenizer/vocab.txt"},
	"N07": {KindMissing, "tokenizer/vocab.txt"},
	"N08": {KindMissing, "config.json"},
	"N09": {KindMissing, "config.json"},
	"N10": {KindMissing, "empty.bin"},
	"N11": {KindChanged, "."},
	"N12": {KindAdded, "scratch/new.txt"},
	"N13": {KindMissing, "."},
	"N14": {KindWrongKey, ""},
	"N15": {KindBadSignature, ""},
	"N16": {KindBadSignature, ""},
	"N17": {KindBadSignature, ""},
	"N18": {KindUnknownPredicate, ""},
	"N19": {KindCorruptBundle, ""},
}

// TestExpectedMatrix reproduces every row of EXPECTED.md: the reference
// verifier's outcome for 36 (model, signature, key) combinations.
func TestExpectedMatrix(t *testing.T) {
	cases := readExpected(t)
	if len(cases) != 36 {
		t.Fatalf("EXPECTED.md has %d cases, want 36", len(cases))
	}
	upstream := sharedUpstream(t)
	pass := 0
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			if strings.HasPrefix(c.id, "U") && upstream == "" {
				t.Skip("../shared/fixtures/oms/upstream not present")
			}
			res, err := runCase(t, fixtureDir, upstream, c)
			switch c.expected {
			case "OK":
				if err != nil {
					t.Fatalf("%s (%s): want OK, got %v", c.id, c.why, err)
				}
				if !res.Verified {
					t.Fatalf("not verified")
				}
				if len(res.Warnings) > 0 {
					t.Logf("%s: warnings %q", c.id, res.Warnings)
				}
			case "FAIL":
				if err == nil {
					t.Fatalf("%s (%s): want FAIL, verified", c.id, c.why)
				}
				if !IsFailure(err) {
					t.Fatalf("%s: want a verification failure, got an operational error: %v", c.id, err)
				}
				var f *Failure
				errors.As(err, &f)
				if w := failWant[c.id]; f.Kind != w.kind || f.Path != w.path {
					t.Fatalf("%s: failure %s %q, want %s %q: %v", c.id, f.Kind, f.Path, w.kind, w.path, err)
				}
				t.Logf("%s: %v", c.id, err)
			default:
				t.Fatalf("bad expectation %q", c.expected)
			}
			pass++
		})
	}
	t.Logf("EXPECTED.md reproduced: %d/%d", pass, len(cases))
}
