//go:build linux && (amd64 || arm64)

package run

import (
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Machine is what Probe found out about the kernel and the caller.
type Machine struct {
	Kernel   string `json:"kernel"`
	UID      int    `json:"uid"`
	UserNS   Layer  `json:"user_namespaces"`
	Landlock Layer  `json:"landlock"`
	Seccomp  Layer  `json:"seccomp_user_notification"`
	ProcConn Layer  `json:"proc_connector"`
	Ptrace   Layer  `json:"ptrace"`
	CgroupV2 Layer  `json:"cgroup_v2"`
}

// Probe checks which isolation and monitoring features work for the
// calling user. It starts one short-lived copy of the running binary in
// new namespaces (that copy exits at once) and changes nothing else.
func Probe() Machine {
	var m Machine
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	m.UID = os.Geteuid()

	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{"mlgate-run-probe"}
	cmd.Env = []string{envMode + "=" + modeProbe}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
	}
	if err := cmd.Run(); err != nil {
		m.UserNS = Layer{Name: "user-namespaces", Reason: "clone(CLONE_NEWUSER|NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS): " + err.Error()}
	} else {
		m.UserNS = Layer{Name: "user-namespaces", Active: true, Reason: "new user, mount, PID, network, IPC and UTS namespaces created"}
	}

	if abi, err := landlockABI(); err != nil {
		m.Landlock = Layer{Name: "landlock", Reason: err.Error()}
	} else {
		m.Landlock = Layer{Name: "landlock", Active: true, Reason: "ABI " + itoa(abi)}
	}

	action := uint32(unix.SECCOMP_RET_USER_NOTIF)
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafePointer(&action))); errno != 0 {
		m.Seccomp = Layer{Name: "seccomp-user-notification", Reason: "SECCOMP_GET_ACTION_AVAIL(USER_NOTIF): " + errno.Error()}
	} else {
		m.Seccomp = Layer{Name: "seccomp-user-notification", Active: true, Reason: "SECCOMP_RET_USER_NOTIF and the CONTINUE response are available"}
	}

	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		m.ProcConn = Layer{Name: "proc-connector", Reason: "netlink connector socket: " + err.Error()}
	} else {
		unix.Close(fd)
		if hasCap(unix.CAP_NET_ADMIN) {
			m.ProcConn = Layer{Name: "proc-connector", Active: true, Reason: "available (CAP_NET_ADMIN held); not used: it reports exec after the fact and needs privilege"}
		} else {
			m.ProcConn = Layer{Name: "proc-connector", Reason: "needs CAP_NET_ADMIN in the initial namespace"}
		}
	}

	scope := "no Yama LSM: same-user ptrace allowed"
	if b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil {
		scope = "Yama ptrace_scope " + strings.TrimSpace(string(b))
	}
	m.Ptrace = Layer{Name: "ptrace", Active: true, Reason: scope + "; not used (seccomp user notification instead)"}

	switch {
	case fileExists("/sys/fs/cgroup/cgroup.controllers"):
		m.CgroupV2 = Layer{Name: "cgroup-v2", Active: true, Reason: "unified hierarchy at /sys/fs/cgroup"}
	case fileExists("/sys/fs/cgroup/unified/cgroup.controllers"):
		b, _ := os.ReadFile("/sys/fs/cgroup/unified/cgroup.controllers")
		m.CgroupV2 = Layer{Name: "cgroup-v2", Active: true, Reason: "hybrid: v2 at /sys/fs/cgroup/unified with controllers [" + strings.TrimSpace(string(b)) + "]"}
	default:
		m.CgroupV2 = Layer{Name: "cgroup-v2", Reason: "no cgroup2 mount"}
	}
	return m
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// hasCap reports whether the effective set holds capability c.
func hasCap(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil {
		return false
	}
	return data[c/32].Effective&(1<<(uint(c)%32)) != 0
}
