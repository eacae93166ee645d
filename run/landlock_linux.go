//go:build linux && (amd64 || arm64)

package run

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// landlockABI returns the kernel's landlock ABI version, or an error
// saying why landlock is unusable.
func landlockABI() (int, error) {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 {
		switch errno {
		case unix.ENOSYS:
			return 0, fmt.Errorf("kernel built without landlock (ENOSYS)")
		case unix.EOPNOTSUPP:
			return 0, fmt.Errorf("landlock not enabled at boot (add it to the lsm= kernel parameter)")
		}
		return 0, fmt.Errorf("landlock_create_ruleset: %v", errno)
	}
	return int(v), nil
}

// Landlock access-right groups.
const (
	llRead = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	llABI1 = 0x1fff
)

// Landlock scopes (ABI 6).
const (
	llScopeAbstractUnix = 0x1
	llScopeSignal       = 0x2
)

func llHandled(abi int) uint64 {
	h := uint64(llABI1)
	if abi >= 2 {
		h |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		h |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= 5 {
		h |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	return h
}

type llResult struct {
	active bool
	reason string
}

// applyLandlock restricts the calling thread: everything readable and
// executable, nothing writable except the --rw paths, the private /tmp and
// /dev/shm, and the harmless character devices.
func applyLandlock(cfg *childConfig) llResult {
	abi, err := landlockABI()
	if err != nil {
		return llResult{false, err.Error()}
	}
	handled := llHandled(abi)
	attr := unix.LandlockRulesetAttr{Access_fs: handled}
	size := unsafe.Sizeof(attr)
	if abi < 4 {
		size = 8 // only access_fs is known to the kernel
	} else if abi < 6 {
		size = 16
	}
	if abi >= 6 {
		attr.Scoped = llScopeAbstractUnix | llScopeSignal
	}
	rfd, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if errno != 0 {
		return llResult{false, "landlock_create_ruleset: " + errno.Error()}
	}
	defer unix.Close(int(rfd))
	var notes []string
	add := func(path string, access uint64) {
		fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			if !os.IsNotExist(err) {
				notes = append(notes, path+": "+err.Error())
			}
			return
		}
		defer unix.Close(fd)
		var s unix.Stat_t
		if unix.Fstat(fd, &s) == nil && s.Mode&unix.S_IFMT != unix.S_IFDIR {
			// Directory-only rights are rejected on files.
			access &^= unix.LANDLOCK_ACCESS_FS_READ_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_FILE |
				unix.LANDLOCK_ACCESS_FS_MAKE_CHAR | unix.LANDLOCK_ACCESS_FS_MAKE_DIR | unix.LANDLOCK_ACCESS_FS_MAKE_REG |
				unix.LANDLOCK_ACCESS_FS_MAKE_SOCK | unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK |
				unix.LANDLOCK_ACCESS_FS_MAKE_SYM | unix.LANDLOCK_ACCESS_FS_REFER
		}
		pb := unix.LandlockPathBeneathAttr{Allowed_access: access & handled, Parent_fd: int32(fd)}
		if _, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, rfd, unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&pb)), 0, 0, 0); errno != 0 {
			notes = append(notes, path+": "+errno.Error())
		}
	}
	add("/", llRead)
	for _, p := range []string{"/tmp", "/dev/shm"} {
		add(p, handled)
	}
	for _, p := range cfg.RW {
		add(p, handled)
	}
	devRW := uint64(unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV)
	for _, p := range []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts"} {
		add(p, devRW|llRead)
	}
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, rfd, 0, 0); errno != 0 {
		return llResult{false, "landlock_restrict_self: " + errno.Error()}
	}
	reason := fmt.Sprintf("ABI %d; read-only except %s", abi, strings.Join(append([]string{"/tmp", "/dev/shm"}, cfg.RW...), ", "))
	if abi >= 6 {
		reason += "; signals and abstract unix sockets scoped to the stage"
	}
	if len(notes) > 0 {
		reason += "; rules not added: " + strings.Join(notes, "; ")
	}
	return llResult{true, reason}
}
