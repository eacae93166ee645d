package run

import "testing"

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
