package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFileKinds(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{dir, filepath.Join(dir, "sub.yaml")} {
		mkdir(t, path)
		if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Load(%q) error = %v", path, err)
		}
		if _, err := LoadBaseline(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("LoadBaseline(%q) error = %v", path, err)
		}
	}

	// Symbolic links to regular files are followed.
	cfg := filepath.Join(dir, "real.yaml")
	writeFile(t, cfg, "fail_on: low\n")
	base := filepath.Join(dir, "real.json")
	writeFile(t, base, `{"schema_version": "1", "findings": [{"fingerprint": "aa"}]}`)
	cfgLink, baseLink := filepath.Join(dir, "cfg-link.yaml"), filepath.Join(dir, "base-link.json")
	if err := os.Symlink(cfg, cfgLink); err != nil {
		t.Skipf("symlink: %v", err)
	}
	if err := os.Symlink(base, baseLink); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(cfgLink); err != nil || c.FailOn == nil {
		t.Errorf("Load(symlink) = %+v, %v", c, err)
	}
	if b, err := LoadBaseline(baseLink); err != nil || !b["aa"] {
		t.Errorf("LoadBaseline(symlink) = %v, %v", b, err)
	}

	// A dangling symbolic link is reported like a missing file.
	dangling := filepath.Join(dir, "dangling.yaml")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dangling); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), dangling+": ") {
		t.Errorf("Load(dangling) error = %v", err)
	}
}
