//go:build linux && (amd64 || arm64)

package run

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// runFilter interprets the classic-BPF subset the filter uses on one
// struct seccomp_data.
func runFilter(t *testing.T, prog []unix.SockFilter, nr int32, args ...uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], uint32(nr))
	binary.LittleEndian.PutUint32(data[4:], auditArch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var ok bool
			switch in.Code & 0xf0 {
			case unix.BPF_JEQ:
				ok = acc == in.K
			case unix.BPF_JGE:
				ok = acc >= in.K
			case unix.BPF_JSET:
				ok = acc&in.K != 0
			}
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			t.Fatalf("unexpected instruction %#x", in.Code)
		}
	}
	t.Fatal("fell off the filter")
	return 0
}

func TestFilterWriteMonitoring(t *testing.T) {
	const (
		notify = unix.SECCOMP_RET_USER_NOTIF
		allow  = unix.SECCOMP_RET_ALLOW
	)
	cwd := uint64(0xffffffffffffff9c)
	w := buildFilter(true, true, false)
	cases := []struct {
		name string
		nr   int32
		args []uint64
		want uint32
	}{
		{"openat read-only", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_RDONLY | unix.O_CLOEXEC}, allow},
		{"openat directory listing", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NONBLOCK}, allow},
		{"openat O_PATH", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_PATH}, allow},
		{"openat write-only", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_WRONLY}, notify},
		{"openat read-write", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_RDWR}, notify},
		{"openat create read-only", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_CREAT}, notify},
		{"openat truncate", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_TRUNC}, notify},
		{"openat append", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_APPEND}, notify},
		{"openat O_TMPFILE", unix.SYS_OPENAT, []uint64{cwd, 0x1000, unix.O_TMPFILE | unix.O_WRONLY}, notify},
		{"openat2 always", unix.SYS_OPENAT2, []uint64{cwd, 0x1000, 0x2000, 24}, notify},
		{"renameat2", unix.SYS_RENAMEAT2, nil, notify},
		{"linkat", unix.SYS_LINKAT, nil, notify},
		{"symlinkat", unix.SYS_SYMLINKAT, nil, notify},
		{"truncate", unix.SYS_TRUNCATE, nil, notify},
		{"execve", unix.SYS_EXECVE, nil, notify},
		{"read", unix.SYS_READ, nil, allow},
		{"write", unix.SYS_WRITE, nil, allow},
	}
	for _, c := range cases {
		if got := runFilter(t, w, c.nr, c.args...); got != c.want {
			t.Errorf("%s: got %#x want %#x", c.name, got, c.want)
		}
	}
	for _, nr := range archWriteSyscalls {
		if got := runFilter(t, w, int32(nr)); got != notify {
			t.Errorf("legacy call %d: got %#x", nr, got)
		}
	}
	for _, nr := range archOpenFlagsArg1 {
		if got := runFilter(t, w, int32(nr), 0x1000, unix.O_RDONLY); got != allow {
			t.Errorf("open read-only: got %#x", got)
		}
		if got := runFilter(t, w, int32(nr), 0x1000, unix.O_WRONLY|unix.O_CREAT); got != notify {
			t.Errorf("open for writing: got %#x", got)
		}
	}
	// Without write monitoring, write opens are not reported; without the
	// monitor, nothing is.
	nw := buildFilter(true, false, false)
	if got := runFilter(t, nw, unix.SYS_OPENAT, cwd, 0x1000, unix.O_WRONLY); got != allow {
		t.Errorf("write monitoring off: openat got %#x", got)
	}
	if got := runFilter(t, nw, unix.SYS_EXECVE); got != notify {
		t.Errorf("write monitoring off: execve got %#x", got)
	}
	nm := buildFilter(false, true, false)
	if got := runFilter(t, nm, unix.SYS_EXECVE); got != allow {
		t.Errorf("monitor off: execve got %#x", got)
	}
	for _, f := range []([]unix.SockFilter){w, nw, nm} {
		if got := runFilter(t, f, unix.SYS_PTRACE); got != unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM) {
			t.Errorf("ptrace got %#x", got)
		}
		if got := runFilter(t, f, unix.SYS_UNSHARE, unix.CLONE_NEWUSER); got != unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM) {
			t.Errorf("unshare(NEWUSER) got %#x", got)
		}
	}
}

func TestFilterDatagrams(t *testing.T) {
	d := buildFilter(true, false, true)
	for _, nr := range []int32{unix.SYS_SENDMSG, unix.SYS_SENDMMSG} {
		if got := runFilter(t, d, nr); got != unix.SECCOMP_RET_USER_NOTIF {
			t.Errorf("datagrams on: syscall %d got %#x", nr, got)
		}
		if got := runFilter(t, buildFilter(true, false, false), nr); got != unix.SECCOMP_RET_ALLOW {
			t.Errorf("datagrams off: syscall %d got %#x", nr, got)
		}
	}
	if got := runFilter(t, d, unix.SYS_SENDTO, 3, 0x1000, 1, 0, 0, 0); got != unix.SECCOMP_RET_ALLOW {
		t.Errorf("sendto without a destination got %#x", got)
	}
}
