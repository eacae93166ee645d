//go:build linux && (amd64 || arm64)

package run

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// deniedSyscalls fail with EPERM inside the stage: nothing a training or
// build stage needs, and each one a known step of an escape or of hiding.
var deniedSyscalls = append([]uint32{
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_CHROOT,
	unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT, unix.SYS_FSPICK, unix.SYS_MOVE_MOUNT, unix.SYS_OPEN_TREE, unix.SYS_MOUNT_SETATTR,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD, unix.SYS_REBOOT,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_ACCT, unix.SYS_QUOTACTL,
	unix.SYS_SETNS, unix.SYS_OPEN_BY_HANDLE_AT,
	unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME, unix.SYS_CLOCK_ADJTIME, unix.SYS_ADJTIMEX,
	// io_uring performs connect and open without passing through seccomp.
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
}, archDenied...)

// monitoredSyscalls are reported to the supervisor before they run.
var monitoredSyscalls = []uint32{unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_CONNECT}

const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // low 32 bits of args[0] on little-endian
	offArg4 = 16 + 4*8
	x32Bit  = 0x40000000
)

func stmt(code uint16, k uint32) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k}
}

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// buildFilter assembles the seccomp program. Returns are placed at the
// end; each conditional jump is computed against them.
func buildFilter(monitor bool) []unix.SockFilter {
	const (
		ldW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
	)
	type cond struct {
		op     uint16
		k      uint32
		target int // index of the return block
	}
	const (
		tEPERM = iota
		tENOSYS
		tNotify
		tCheckNS
		tCheckDest
	)
	var conds []cond
	if checkX32 {
		conds = append(conds, cond{jge, x32Bit, tEPERM})
	}
	for _, nr := range deniedSyscalls {
		conds = append(conds, cond{jeq, nr, tEPERM})
	}
	conds = append(conds, cond{jeq, unix.SYS_CLONE, tCheckNS}, cond{jeq, unix.SYS_UNSHARE, tCheckNS})
	// clone3 takes its flags in memory a filter cannot read; libc falls
	// back to clone, whose flags it can.
	conds = append(conds, cond{jeq, unix.SYS_CLONE3, tENOSYS})
	if monitor {
		for _, nr := range monitoredSyscalls {
			conds = append(conds, cond{jeq, nr, tNotify})
		}
		conds = append(conds, cond{jeq, unix.SYS_SENDTO, tCheckDest})
	}
	prog := []unix.SockFilter{
		stmt(ldW, offArch),
		jump(jeq, auditArch, 1, 0),
		stmt(ret, unix.SECCOMP_RET_KILL_PROCESS),
		stmt(ldW, offNr),
	}
	// Layout after the conditions:
	//   [allow]
	//   [checkNS: ld arg0, jset NEWUSER -> eperm, allow]
	//   [checkDest: ld arg4 lo, jne 0 -> notify, ld arg4 hi, jne 0 -> notify, allow]
	//   [eperm] [enosys] [notify]
	n := len(conds)
	base := len(prog)
	allowAt := base + n
	checkAt := allowAt + 1
	destAt := checkAt + 3
	epermAt := destAt + 5
	enosysAt := epermAt + 1
	notifyAt := enosysAt + 1
	targets := map[int]int{tEPERM: epermAt, tENOSYS: enosysAt, tNotify: notifyAt, tCheckNS: checkAt, tCheckDest: destAt}
	for i, c := range conds {
		pc := base + i
		off := targets[c.target] - pc - 1
		if off > 255 {
			panic("seccomp filter too long")
		}
		prog = append(prog, jump(c.op, c.k, uint8(off), 0))
	}
	prog = append(prog,
		stmt(ret, unix.SECCOMP_RET_ALLOW),
		stmt(ldW, offArg0),
		jump(jset, unix.CLONE_NEWUSER, uint8(epermAt-(checkAt+1)-1), 0),
		stmt(ret, unix.SECCOMP_RET_ALLOW),
		// sendto with a destination address (an unconnected datagram).
		stmt(ldW, offArg4),
		jump(jeq, 0, 0, uint8(notifyAt-(destAt+1)-1)),
		stmt(ldW, offArg4+4),
		jump(jeq, 0, 0, uint8(notifyAt-(destAt+3)-1)),
		stmt(ret, unix.SECCOMP_RET_ALLOW),
		stmt(ret, unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)),
		stmt(ret, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)),
		stmt(ret, unix.SECCOMP_RET_USER_NOTIF),
	)
	if !monitor {
		prog[len(prog)-1] = stmt(ret, unix.SECCOMP_RET_ALLOW)
	}
	return prog
}

// installSeccomp loads the filter on the calling thread. With monitor it
// returns the user-notification listener; otherwise -1.
func installSeccomp(monitor bool) (int, error) {
	prog := buildFilter(monitor)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	var flags uintptr
	if monitor {
		flags = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return -1, fmt.Errorf("seccomp(SET_MODE_FILTER): %v", errno)
	}
	if !monitor {
		return -1, nil
	}
	return int(r), nil
}

// seccompNotif is struct seccomp_notif.
type seccompNotif struct {
	ID    uint64
	PID   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

// seccompNotifResp is struct seccomp_notif_resp.
type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

const seccompIoctlNotifIDValid = 0x40082102

func notifRecv(fd int, n *seccompNotif) error {
	*n = seccompNotif{}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(n)))
	if errno != 0 {
		return errno
	}
	return nil
}

func notifValid(fd int, id uint64) bool {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), seccompIoctlNotifIDValid, uintptr(unsafe.Pointer(&id)))
	return errno == 0
}

// notifContinue lets the syscall proceed; notifDeny fails it with errno.
func notifContinue(fd int, id uint64) error {
	r := seccompNotifResp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
	return notifSend(fd, &r)
}

func notifDeny(fd int, id uint64, errno unix.Errno) error {
	r := seccompNotifResp{ID: id, Error: -int32(errno)}
	return notifSend(fd, &r)
}

func notifSend(fd int, r *seccompNotifResp) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(r)))
	if errno != 0 {
		return errno
	}
	return nil
}
