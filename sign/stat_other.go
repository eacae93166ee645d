//go:build !linux

package sign

import "io/fs"

// statOf has no inode or ctime outside Linux; the reuse cache then relies
// on size and mtime only.
func statOf(fi fs.FileInfo) FileStat {
	return FileStat{Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano()}
}

const openNoFollow = 0
