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

// devNlink returns the device and link count of fi.
func devNlink(fi fs.FileInfo) (uint64, uint64) {
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Dev), uint64(s.Nlink)
	}
	return 0, 0
}
