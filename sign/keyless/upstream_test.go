package keyless

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir finds the shared fixtures by walking up to the directory that
// contains "shared".
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "fixtures", "oms", "upstream")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared OMS fixtures not found")
		}
		dir = parent
	}
}

// TestUpstreamBundlesAreNotKeyless runs the reference project's own test
// signatures (model_signing v0.3.1 to v1.1.0) through the keyless verifier.
// They are all signed with a P-384 key, not keylessly (the reference test
// data has no keyless bundle with a matching trusted root), so each must be
// rejected as not keyless (or as malformed for the pre-1.0 layout sigstore-go
// cannot read), never accepted.
func TestUpstreamBundlesAreNotKeyless(t *testing.T) {
	up := sharedDir(t)
	_, tr, _ := setup(t)
	sigs, _ := filepath.Glob(filepath.Join(up, "*", "model.sig"))
	if len(sigs) == 0 {
		t.Skip("no upstream signatures")
	}
	for _, s := range sigs {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(data, tr, Policy{Identity: identity, Issuer: issuer})
		var f *Failure
		if !errors.As(err, &f) || (f.Kind != KindNotKeyless && f.Kind != KindMalformed) {
			t.Errorf("%s: got %v", s, err)
			continue
		}
		t.Logf("%s: %s: %s", filepath.Base(filepath.Dir(s)), f.Kind, f.Msg)
	}
}
