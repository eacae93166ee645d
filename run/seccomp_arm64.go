//go:build linux

package run

import "golang.org/x/sys/unix"

// auditArch is the only architecture the filter lets through.
const auditArch = unix.AUDIT_ARCH_AARCH64

// checkX32 is an x86-64 concern only.
const checkX32 = false

// archDenied are denied system calls that exist only on this architecture.
var archDenied = []uint32{}

// arm64 has only the *at forms of open, rename, link and symlink.
var (
	archOpenFlagsArg1 = []uint32{}
	archWriteSyscalls = []uint32{}
)

// legacyWrite has nothing to rewrite on arm64.
func legacyWrite(n *seccompNotif) bool { return false }
