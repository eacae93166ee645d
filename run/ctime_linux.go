//go:build linux

package run

import (
	"io/fs"
	"syscall"
)

func inodeCtime(fi fs.FileInfo) (uint64, int64) {
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Ino), int64(s.Ctim.Sec)*1e9 + int64(s.Ctim.Nsec)
	}
	return 0, 0
}
