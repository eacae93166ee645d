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
