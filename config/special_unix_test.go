//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test if it does not return within a few
// seconds (as a blocking open of a named pipe would not).
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s blocked", what)
		return nil
	}
}

func TestLoadRejectsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link} {
		err := within(t, "Load("+path+")", func() error { _, err := Load(path); return err })
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("Load(%q) error = %v, want one naming the path and a named pipe", path, err)
		}
		err = within(t, "LoadBaseline("+path+")", func() error { _, err := LoadBaseline(path); return err })
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("LoadBaseline(%q) error = %v, want one naming the path and a named pipe", path, err)
		}
	}
}

func TestLoadRejectsDevice(t *testing.T) {
	const dev = "/dev/null"
	if fi, err := os.Stat(dev); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Skipf("%s is not a device here", dev)
	}
	if _, err := Load(dev); err == nil || !strings.HasPrefix(err.Error(), dev+": ") || !strings.Contains(err.Error(), "device") {
		t.Errorf("Load(%s) error = %v", dev, err)
	}
	if _, err := LoadBaseline(dev); err == nil || !strings.HasPrefix(err.Error(), dev+": ") || !strings.Contains(err.Error(), "device") {
		t.Errorf("LoadBaseline(%s) error = %v", dev, err)
	}
}
