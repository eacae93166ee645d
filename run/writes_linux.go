//go:build linux && (amd64 || arm64)

package run

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// isWriteSyscall says whether nr is one of the write-monitored calls (in
// its *at form, after legacyWrite).
func isWriteSyscall(nr int32) bool {
	switch nr {
	case unix.SYS_OPENAT, unix.SYS_OPENAT2, unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2, unix.SYS_LINKAT, unix.SYS_SYMLINKAT, unix.SYS_TRUNCATE:
		return true
	}
	return false
}

// decodeWrite reads a write-monitored call's paths from the caller and
// resolves them. It returns false when the call cannot modify a file (an
// openat2 whose flags, read from memory, have no write bit) or touches
// nothing under the watched trees or the model output; such calls are
// answered at once and only counted.
func (s *supervisor) decodeWrite(pid int, n *seccompNotif, ev *Event) bool {
	a := n.Args
	ev.Kind = EventWrite
	type target struct {
		dirfd  int32
		addr   uint64
		follow bool
	}
	var to, from *target
	switch n.Nr {
	case unix.SYS_OPENAT:
		ev.Op = OpOpen
		to = &target{int32(a[0]), a[1], a[2]&(unix.O_NOFOLLOW|unix.O_EXCL) == 0}
	case unix.SYS_OPENAT2:
		// struct open_how starts with the 64-bit flags. A racing thread
		// can change them after this read (documented); a size below 8
		// makes the kernel refuse the call.
		b, ok := readMem(pid, a[2], 8)
		if !ok || len(b) < 8 || a[3] < 8 {
			return false
		}
		flags := binary.LittleEndian.Uint64(b)
		if flags&writeFlags == 0 {
			return false
		}
		ev.Op = OpOpen
		to = &target{int32(a[0]), a[1], flags&(unix.O_NOFOLLOW|unix.O_EXCL) == 0}
	case unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2:
		ev.Op = OpRename
		from, to = &target{int32(a[0]), a[1], false}, &target{int32(a[2]), a[3], false}
	case unix.SYS_LINKAT:
		ev.Op = OpLink
		from, to = &target{int32(a[0]), a[1], a[4]&unix.AT_SYMLINK_FOLLOW != 0}, &target{int32(a[2]), a[3], false}
	case unix.SYS_SYMLINKAT:
		ev.Op = OpSymlink
		// The link's content is not a path the stage writes; it is shown
		// as From.
		t, _ := readString(pid, a[0], maxArgLen)
		ev.From = t
		to = &target{int32(a[1]), a[2], false}
	case unix.SYS_TRUNCATE:
		ev.Op = OpTruncate
		to = &target{int32(unix.AT_FDCWD), a[0], true}
	default:
		return false
	}
	resolve := func(t *target) string {
		p, _ := readString(pid, t.addr, maxArgLen)
		return s.resolvePath(pid, t.dirfd, p, t.follow)
	}
	ev.Path = resolve(to)
	if from != nil {
		ev.From = resolve(from)
	}
	if underAny(ev.Path, s.writeRoots) || (from != nil && underAny(ev.From, s.writeRoots)) {
		return true
	}
	s.mu.Lock()
	s.res.WritesUnwatched++
	s.mu.Unlock()
	return false
}

// resolvePath turns a path argument into an absolute path as the stage
// sees it: relative paths are joined to the directory of dirfd or the
// caller's working directory, /proc/self/fd/N is replaced by what the
// descriptor names, and symbolic links are resolved inside the stage's
// root (openat2 RESOLVE_IN_ROOT on /proc/PID/root), the last component
// only when follow is set. When resolution fails, the lexically cleaned
// path is returned.
func (s *supervisor) resolvePath(pid int, dirfd int32, p string, follow bool) string {
	proc := "/proc/" + strconv.Itoa(pid)
	if p == "" {
		// AT_EMPTY_PATH: the descriptor itself.
		l, _ := os.Readlink(proc + "/fd/" + strconv.Itoa(int(dirfd)))
		return l
	}
	if !strings.HasPrefix(p, "/") {
		var base string
		if dirfd == unix.AT_FDCWD {
			base, _ = os.Readlink(proc + "/cwd")
		} else {
			base, _ = os.Readlink(proc + "/fd/" + strconv.Itoa(int(dirfd)))
		}
		if !strings.HasPrefix(base, "/") {
			return filepath.Clean("/" + p)
		}
		p = base + "/" + p
	}
	p = filepath.Clean(p)
	if isProcFDPath(p) {
		if l, err := os.Readlink(procPathFor(pid, p)); err == nil && strings.HasPrefix(l, "/") {
			return l
		}
		return p
	}
	root, err := unix.Open(proc+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return p
	}
	defer unix.Close(root)
	if follow {
		if r, ok := resolveIn(root, p, true); ok {
			return r
		}
	}
	dir, name := filepath.Split(p)
	if name == "" {
		return p
	}
	d, ok := resolveIn(root, dir, true)
	if !ok {
		return p
	}
	if follow {
		// A dangling symbolic link: open(O_CREAT) creates its target. One
		// level is followed.
		if t, err := readlinkIn(root, d, name); err == nil {
			if !strings.HasPrefix(t, "/") {
				t = d + "/" + t
			}
			t = filepath.Clean(t)
			td, tn := filepath.Split(t)
			if r, ok := resolveIn(root, td, true); ok && tn != "" {
				return filepath.Join(r, tn)
			}
			return t
		}
	}
	return filepath.Join(d, name)
}

// resolveIn resolves p inside the directory root as if root were "/",
// and returns the canonical path.
func resolveIn(root int, p string, follow bool) (string, bool) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	if !follow {
		how.Flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Openat2(root, p, &how)
	if err != nil {
		return "", false
	}
	defer unix.Close(fd)
	l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || !strings.HasPrefix(l, "/") {
		return "", false
	}
	return l, true
}

// readlinkIn reads the symbolic link dir/name (dir resolved in root).
func readlinkIn(root int, dir, name string) (string, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC | unix.O_DIRECTORY, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(root, dir, &how)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	b := make([]byte, 4096)
	n, err := unix.Readlinkat(fd, name, b)
	if err != nil {
		return "", err
	}
	return string(b[:n]), nil
}
