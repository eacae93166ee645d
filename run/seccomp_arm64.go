//go:build linux

package run

import "golang.org/x/sys/unix"

// auditArch is the only architecture the filter lets through.
const auditArch = unix.AUDIT_ARCH_AARCH64

// checkX32 is an x86-64 concern only.
const checkX32 = false

// archDenied are denied system calls that exist only on this architecture.
var archDenied = []uint32{}
