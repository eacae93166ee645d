package sign

import (
	"io/fs"
	"syscall"
)

func statOf(fi fs.FileInfo) FileStat {
	s := FileStat{Size: fi.Size(), MtimeNS: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.Inode = st.Ino
		s.Dev = st.Dev
		s.CtimeNS = st.Ctim.Sec*1e9 + st.Ctim.Nsec
	}
	return s
}

const openNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
