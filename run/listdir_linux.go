//go:build linux

package run

import (
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// listDir calls fn for each entry of dir: directories (not followed when
// they are symbolic links) with isDir set, everything else with its
// state from fstatat relative to the directory's descriptor, which spares
// a path lookup per file. Entries that vanish are skipped; it reports
// false when dir could not be opened or listed to the end.
func listDir(dir string, fn func(name string, isDir bool, st fileState)) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	fd := int(f.Fd())
	for {
		ents, err := f.ReadDir(1024)
		for _, e := range ents {
			t := e.Type()
			if t.IsDir() {
				fn(e.Name(), true, fileState{})
				continue
			}
			var st unix.Stat_t
			if unix.Fstatat(fd, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
				continue
			}
			m := statMode(st.Mode)
			if m.IsDir() { // the type was unknown in the listing
				fn(e.Name(), true, fileState{})
				continue
			}
			fn(e.Name(), false, fileState{
				ino: st.Ino, size: st.Size, mode: m,
				mtime: st.Mtim.Sec*1e9 + st.Mtim.Nsec, ctime: st.Ctim.Sec*1e9 + st.Ctim.Nsec,
				dev: uint64(st.Dev), nlink: uint64(st.Nlink),
			})
		}
		if err != nil || len(ents) == 0 {
			return err == nil || err == io.EOF
		}
	}
}

// statMode converts st_mode as package os does.
func statMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
