package run

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParallelSnapshotMatchesSequential(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for i := 0; i < 30; i++ {
		d := filepath.Join(a, "pkg", strings.Repeat("x", i%5+1), "sub")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "f"+itoa(i)+".py"), []byte(strings.Repeat("y", i)), 0o644)
	}
	os.MkdirAll(filepath.Join(a, "empty"), 0o755)
	os.Symlink("/etc", filepath.Join(a, "dirlink"))      // not followed
	os.Symlink("missing", filepath.Join(a, "dangling"))  // recorded as a link
	os.WriteFile(filepath.Join(b, "lonely"), nil, 0o644) // b does not exist: skipped
	os.MkdirAll(b, 0o755)
	os.WriteFile(filepath.Join(b, "x"), []byte("x"), 0o600)
	roots := []string{a, b, filepath.Join(dir, "nonexistent")}
	seq, _ := snapshotSequential(roots)
	for _, w := range []int{1, 2, 4} {
		par, n := snapshotParallel(roots, w)
		if n != 33 {
			t.Errorf("workers %d: %d files, want 33", w, n)
		}
		if !reflect.DeepEqual(seq, par) {
			t.Errorf("workers %d: parallel snapshot differs from the sequential walk:\n%v\n%v", w, seq, par)
		}
	}
	// A rewrite that restores size and mtime is still a change (ctime).
	f := filepath.Join(b, "x")
	fi, _ := os.Stat(f)
	time.Sleep(10 * time.Millisecond)
	os.WriteFile(f, []byte("z"), 0o600)
	os.Chtimes(f, fi.ModTime(), fi.ModTime())
	after, _ := snapshotAll(roots)
	ch := diffSnapshots(seq, after)
	if len(ch) != 1 || ch[0].Path != f || ch[0].Change != ChangeModified {
		t.Errorf("changes %+v", ch)
	}
}

func TestSplitReadOnlyRoots(t *testing.T) {
	o := &Options{RW: []string{"/home/u/.venv", "/data/out"}, Watch: []string{"/srv/models"}}
	walk, ro := splitReadOnlyRoots([]string{"/data", "/home/u/.venv/lib/python3.11/site-packages", "/srv/models", "/usr/lib/python3/dist-packages", "/data/out"}, o)
	if strings.Join(walk, " ") != "/data /home/u/.venv/lib/python3.11/site-packages /srv/models /data/out" || strings.Join(ro, " ") != "/usr/lib/python3/dist-packages" {
		t.Errorf("walk %v read-only %v", walk, ro)
	}
}

func TestDiffUnreadableDirectories(t *testing.T) {
	before := []snapshot{{root: "/o", files: map[string]fileState{}, unreadable: map[string]bool{"/o/was-locked": true}}}
	after := []snapshot{{root: "/o", files: map[string]fileState{}, unreadable: map[string]bool{"/o/was-locked": true, "/o/hid": true}}}
	ch := diffSnapshots(before, after)
	if len(ch) != 1 || ch[0].Path != "/o/hid" || ch[0].Change != ChangeUnreadable || ch[0].Type != FileTypeDir {
		t.Errorf("changes %+v: want only the directory that became unreadable", ch)
	}
	d := newDetector(&Options{Watch: []string{"/o"}})
	if !ids(d.final(&Result{FileChanges: ch}))["run/watched-path-changed"] {
		t.Error("a watched directory that became unreadable is not reported")
	}
}

// TestParallelSnapshotRootsLikeWalkDir: a root that is a file or a
// symbolic link is itself recorded, a missing root is empty, and an
// unreadable directory is listed as unreadable, on both walks.
func TestParallelSnapshotRootsLikeWalkDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "model.bin")
	os.WriteFile(file, []byte("w"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(file, link)
	locked := filepath.Join(dir, "tree", "locked")
	os.MkdirAll(locked, 0o755)
	os.WriteFile(filepath.Join(locked, "f"), nil, 0o644)
	os.Chmod(locked, 0)
	defer os.Chmod(locked, 0o755)
	roots := []string{file, link, filepath.Join(dir, "missing"), filepath.Join(dir, "tree")}
	seq, _ := snapshotSequential(roots)
	par, _ := snapshotParallel(roots, 2)
	if !reflect.DeepEqual(seq, par) {
		t.Errorf("parallel snapshot differs from the sequential walk:\n%v\n%v", seq, par)
	}
	if _, ok := par[0].files[file]; !ok {
		t.Error("a file root is not recorded")
	}
	if os.Geteuid() != 0 && !par[3].unreadable[locked] {
		t.Error("an unreadable directory is not listed")
	}
}
