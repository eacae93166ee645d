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

// writeFlags are the open(2) flags that can change a file: write access
// (O_WRONLY, O_RDWR, which O_TMPFILE requires), O_CREAT, O_TRUNC and
// O_APPEND. An open without any of them cannot modify anything, so the
// filter lets it through without a round trip to the supervisor: a
// Python import reads thousands of files.
const writeFlags = unix.O_WRONLY | unix.O_RDWR | unix.O_CREAT | unix.O_TRUNC | unix.O_APPEND

// writeSyscalls are always reported when writes are monitored: they
// create or replace a name (creat, rename*, link*, symlink*), shorten a
// file by name (truncate), or carry their flags in memory a filter cannot
// read (openat2; the supervisor reads them and lets read-only opens go).
var writeSyscalls = append([]uint32{
	unix.SYS_OPENAT2, unix.SYS_RENAMEAT, unix.SYS_RENAMEAT2, unix.SYS_LINKAT, unix.SYS_SYMLINKAT, unix.SYS_TRUNCATE,
}, archWriteSyscalls...)

const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // low 32 bits of args[0] on little-endian
	offArg4 = 16 + 4*8
	x32Bit  = 0x40000000
)

func offArg(i int) uint32 { return uint32(16 + 8*i) }

// insn is one BPF instruction whose jump targets are labels, resolved by
// assemble.
type insn struct {
	code   uint16
	k      uint32
	jt, jf string // "" = next instruction
	label  string // label of this instruction
}

// assemble resolves labels into relative jump offsets.
func assemble(p []insn) []unix.SockFilter {
	at := map[string]int{}
	for i, in := range p {
		if in.label != "" {
			at[in.label] = i
		}
	}
	rel := func(pc int, l string) uint8 {
		if l == "" {
			return 0
		}
		t, ok := at[l]
		if !ok || t <= pc || t-pc-1 > 255 {
			panic("seccomp filter: bad jump to " + l)
		}
		return uint8(t - pc - 1)
	}
	out := make([]unix.SockFilter, len(p))
	for i, in := range p {
		out[i] = unix.SockFilter{Code: in.code, K: in.k, Jt: rel(i, in.jt), Jf: rel(i, in.jf)}
	}
	return out
}

// buildFilter assembles the seccomp program. With monitor, exec and
// connect calls (and sendto with a destination) are reported to the
// supervisor; with writes also, the calls of writeSyscalls and the opens
// whose flags can modify a file; with datagrams also every sendmsg and
// sendmmsg (their destinations are in memory the filter cannot read).
func buildFilter(monitor, writes, datagrams bool) []unix.SockFilter {
	const (
		ldW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
	)
	notify := uint32(unix.SECCOMP_RET_USER_NOTIF)
	if !monitor {
		notify = unix.SECCOMP_RET_ALLOW
	}
	p := []insn{
		{code: ldW, k: offArch},
		{code: jeq, k: auditArch, jt: "arch-ok"},
		{code: ret, k: unix.SECCOMP_RET_KILL_PROCESS},
		{code: ldW, k: offNr, label: "arch-ok"},
	}
	if checkX32 {
		p = append(p, insn{code: jge, k: x32Bit, jt: "eperm"})
	}
	for _, nr := range deniedSyscalls {
		p = append(p, insn{code: jeq, k: nr, jt: "eperm"})
	}
	p = append(p, insn{code: jeq, k: unix.SYS_CLONE, jt: "check-ns"}, insn{code: jeq, k: unix.SYS_UNSHARE, jt: "check-ns"})
	// clone3 takes its flags in memory a filter cannot read; libc falls
	// back to clone, whose flags it can.
	p = append(p, insn{code: jeq, k: unix.SYS_CLONE3, jt: "enosys"})
	if monitor {
		for _, nr := range monitoredSyscalls {
			p = append(p, insn{code: jeq, k: nr, jt: "notify"})
		}
		p = append(p, insn{code: jeq, k: unix.SYS_SENDTO, jt: "check-dest"})
		if datagrams {
			p = append(p, insn{code: jeq, k: unix.SYS_SENDMSG, jt: "notify"}, insn{code: jeq, k: unix.SYS_SENDMMSG, jt: "notify"})
		}
		if writes {
			p = append(p, insn{code: jeq, k: unix.SYS_OPENAT, jt: "check-flags2"})
			for _, nr := range archOpenFlagsArg1 {
				p = append(p, insn{code: jeq, k: nr, jt: "check-flags1"})
			}
			for _, nr := range writeSyscalls {
				p = append(p, insn{code: jeq, k: nr, jt: "notify"})
			}
		}
	}
	p = append(p,
		insn{code: ret, k: unix.SECCOMP_RET_ALLOW, label: "allow"},
		insn{code: ldW, k: offArg0, label: "check-ns"},
		insn{code: jset, k: unix.CLONE_NEWUSER, jt: "eperm"},
		insn{code: ret, k: unix.SECCOMP_RET_ALLOW},
		// sendto with a destination address (an unconnected datagram).
		insn{code: ldW, k: offArg4, label: "check-dest"},
		insn{code: jeq, k: 0, jf: "notify"},
		insn{code: ldW, k: offArg4 + 4},
		insn{code: jeq, k: 0, jf: "notify"},
		insn{code: ret, k: unix.SECCOMP_RET_ALLOW},
		// open(path, flags) and openat(dirfd, path, flags): only the
		// flags' low 32 bits exist (an int).
		insn{code: ldW, k: offArg(1), label: "check-flags1"},
		insn{code: jset, k: writeFlags, jt: "notify"},
		insn{code: ret, k: unix.SECCOMP_RET_ALLOW},
		insn{code: ldW, k: offArg(2), label: "check-flags2"},
		insn{code: jset, k: writeFlags, jt: "notify"},
		insn{code: ret, k: unix.SECCOMP_RET_ALLOW},
		insn{code: ret, k: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM), label: "eperm"},
		insn{code: ret, k: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS), label: "enosys"},
		insn{code: ret, k: notify, label: "notify"},
	)
	return assemble(p)
}

// installSeccomp loads the filter on the calling thread. With monitor it
// returns the user-notification listener; otherwise -1.
func installSeccomp(monitor, writes, datagrams bool) (int, error) {
	prog := buildFilter(monitor, writes, datagrams)
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

const (
	seccompIoctlNotifIDValid  = 0x40082102 // SECCOMP_IOW(2, __u64)
	seccompIoctlNotifSetFlags = 0x40082104 // SECCOMP_IOW(4, __u64)
)

// notifSyncWakeUp asks the kernel (6.6 and later) to wake the supervisor
// on the caller's CPU and the caller on the supervisor's: each held call
// then costs two direct context switches instead of two cross-CPU
// wake-ups. Older kernels refuse it; the monitor works the same, slower.
func notifSyncWakeUp(fd int) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), seccompIoctlNotifSetFlags, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
	if errno != 0 {
		return errno
	}
	return nil
}

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
