//go:build !linux

package run

import "io/fs"

func inodeCtime(fi fs.FileInfo) (uint64, int64) { return 0, 0 }

func devNlink(fi fs.FileInfo) (uint64, uint64) { return 0, 0 }
