//go:build !linux

package run

import "os"

// listDir calls fn for each entry of dir (see the Linux version).
func listDir(dir string, fn func(name string, isDir bool, st fileState)) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() {
			fn(e.Name(), true, fileState{})
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		st := fileState{size: fi.Size(), mode: fi.Mode(), mtime: fi.ModTime().UnixNano()}
		st.ino, st.ctime = inodeCtime(fi)
		fn(e.Name(), false, st)
	}
}
