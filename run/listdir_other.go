//go:build !linux

package run

import "os"

// listDir calls fn for each entry of dir (see the Linux version).
func listDir(dir string, fn func(name string, isDir bool, st fileState)) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
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
		fn(e.Name(), false, stateOf(fi))
	}
	return true
}
