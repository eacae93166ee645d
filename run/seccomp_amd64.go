//go:build linux

package run

import "golang.org/x/sys/unix"

// auditArch is the only architecture the filter lets through.
const auditArch = unix.AUDIT_ARCH_X86_64

// checkX32 refuses x32 system calls (numbers with bit 30 set), which
// would otherwise bypass a filter written for x86-64 numbers.
const checkX32 = true

// archDenied are denied system calls that exist only on this architecture.
var archDenied = []uint32{unix.SYS_IOPL, unix.SYS_IOPERM}

// archOpenFlagsArg1 are opens with their flags in args[1] (open(2));
// archWriteSyscalls are the legacy forms of the write-monitored calls.
var (
	archOpenFlagsArg1 = []uint32{unix.SYS_OPEN}
	archWriteSyscalls = []uint32{unix.SYS_CREAT, unix.SYS_RENAME, unix.SYS_LINK, unix.SYS_SYMLINK}
)

// legacyWrite rewrites the legacy write-monitored calls as their *at
// forms: open as openat(AT_FDCWD, ...), creat as openat with
// O_CREAT|O_WRONLY|O_TRUNC, rename, link and symlink as renameat,
// linkat and symlinkat relative to the working directory.
func legacyWrite(n *seccompNotif) bool {
	const cwd = uint64(0xffffffffffffff9c) // AT_FDCWD (-100) as a register holds it
	a := n.Args
	switch n.Nr {
	case unix.SYS_OPEN:
		n.Nr, n.Args = unix.SYS_OPENAT, [6]uint64{cwd, a[0], a[1], a[2]}
	case unix.SYS_CREAT:
		n.Nr, n.Args = unix.SYS_OPENAT, [6]uint64{cwd, a[0], unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC, a[1]}
	case unix.SYS_RENAME:
		n.Nr, n.Args = unix.SYS_RENAMEAT, [6]uint64{cwd, a[0], cwd, a[1]}
	case unix.SYS_LINK:
		n.Nr, n.Args = unix.SYS_LINKAT, [6]uint64{cwd, a[0], cwd, a[1], 0}
	case unix.SYS_SYMLINK:
		n.Nr, n.Args = unix.SYS_SYMLINKAT, [6]uint64{a[0], cwd, a[1]}
	default:
		return false
	}
	return true
}
