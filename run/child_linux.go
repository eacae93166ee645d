//go:build linux && (amd64 || arm64)

package run

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// File descriptors the supervisor passes to the init process.
const (
	initFDConfig = 3 // pipe: childConfig as JSON
	initFDNotify = 4 // unix socket: the shim sends the seccomp listener here
	initFDProxy  = 5 // O_PATH directory holding proxy.sock (network allow)
	initFDStatus = 6 // pipe: statusMsg lines to the supervisor
)

// File descriptors init passes to the shim.
const (
	shimFDNotify = 3
	// handoffFDNumber starts the message that names the listener's
	// descriptor instead of passing it (see Config.MonitorDatagrams).
	handoffFDNumber = 2
	shimFDStatus    = 4
)

func init() {
	switch os.Getenv(envMode) {
	case modeInit:
		os.Exit(initMain())
	case modeShim:
		runtime.LockOSThread()
		os.Exit(shimMain())
	case modeProbe:
		os.Exit(0)
	}
}

// statusWriter sends statusMsg lines; writes are small enough to be atomic
// on a pipe.
type statusWriter struct{ f *os.File }

func (w statusWriter) send(m statusMsg) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	_, _ = w.f.Write(append(b, '\n'))
}

func (w statusWriter) layer(name string, active bool, reason string) {
	w.send(statusMsg{Kind: "layer", Layer: &Layer{Name: name, Active: active, Reason: reason}})
}

func (w statusWriter) fail(format string, args ...any) int {
	w.send(statusMsg{Kind: "error", Error: fmt.Sprintf(format, args...)})
	return 125
}

// initMain is PID 1 of the stage: it finishes the namespaces (mounts,
// loopback, hostname, proxy relay), starts the shim that becomes the stage,
// reaps orphans, and reports the stage's exit status.
func initMain() int {
	st := statusWriter{os.NewFile(initFDStatus, "status")}
	unix.CloseOnExec(initFDStatus)
	unix.CloseOnExec(initFDConfig)
	unix.CloseOnExec(initFDNotify)
	unix.CloseOnExec(initFDProxy)
	var cfg childConfig
	cf := os.NewFile(initFDConfig, "config")
	if err := json.NewDecoder(io.LimitReader(cf, 16<<20)).Decode(&cfg); err != nil {
		return st.fail("init: read config: %v", err)
	}
	cf.Close()
	// The init must not be inspectable by the stage through /proc.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)

	setupMounts(&cfg, st)
	if cfg.Network != NetworkHost {
		setupLoopback(st)
	}
	if err := unix.Sethostname([]byte("mlgate-stage")); err != nil {
		st.layer(LayerUTSNS, false, "sethostname in the new UTS namespace: "+err.Error())
	}

	env := append([]string{}, cfg.Env...)
	if cfg.Proxy {
		port, err := startRelay()
		if err != nil {
			st.layer(LayerEgressProxy, false, "relay inside the network namespace: "+err.Error())
		} else {
			u := "http://127.0.0.1:" + strconv.Itoa(port)
			for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
				env = append(env, k+"="+u)
			}
			env = append(env, "NO_PROXY=", "no_proxy=")
			st.send(statusMsg{Kind: "relay", Port: port})
		}
	}
	shimCfg := cfg
	shimCfg.Env = env
	b, err := json.Marshal(shimCfg)
	if err != nil {
		return st.fail("init: %v", err)
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	attr := &os.ProcAttr{
		Dir:   dir,
		Env:   []string{envMode + "=" + modeShim, envConfig + "=" + string(b)},
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, os.NewFile(initFDNotify, "notify"), st.f},
	}
	p, err := os.StartProcess("/proc/self/exe", []string{"mlgate-run-shim"}, attr)
	if err != nil {
		return st.fail("init: start stage: %v", err)
	}
	st.send(statusMsg{Kind: "started", PID: p.Pid})
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return st.fail("init: wait: %v", err)
		}
		if pid != p.Pid {
			continue // an orphan reparented to us
		}
		m := statusMsg{Kind: "exited"}
		switch {
		case ws.Exited():
			m.Status = ws.ExitStatus()
		case ws.Signaled():
			m.Status = 128 + int(ws.Signal())
			m.Signal = unix.SignalName(ws.Signal())
		}
		st.send(m)
		// Leaving kills every process still in the PID namespace.
		return 0
	}
}

func setupMounts(cfg *childConfig, st statusWriter) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		st.layer(LayerMountNS, false, "make / private in the new mount namespace: "+err.Error())
		for _, n := range []string{LayerPrivateTmp, LayerCredentials, LayerReadOnlyBinds} {
			st.layer(n, false, "mount namespace unusable")
		}
		return
	}
	// Granted paths that a private tmpfs would hide are kept by handle and
	// bound back in after the tmpfs is mounted.
	tmpDirs := []string{"/tmp", "/dev/shm"}
	type keep struct {
		path string
		fd   int
		dir  bool
	}
	var kept []keep
	// The working directory is kept too, so that a stage started in /tmp/x
	// still finds it (read-only unless it is also an --rw path).
	for _, p := range append(append(append([]string{}, cfg.RW...), cfg.RO...), cfg.Dir) {
		for _, t := range tmpDirs {
			if under(p, t) && p != t {
				fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
				if err != nil {
					continue
				}
				var s unix.Stat_t
				_ = unix.Fstat(fd, &s)
				kept = append(kept, keep{p, fd, s.Mode&unix.S_IFMT == unix.S_IFDIR})
			}
		}
	}
	tmpOK := true
	var tmpErr []string
	for _, t := range tmpDirs {
		if fi, err := os.Stat(t); err != nil || !fi.IsDir() {
			continue
		}
		if err := unix.Mount("tmpfs", t, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
			tmpOK = false
			tmpErr = append(tmpErr, t+": "+err.Error())
		}
	}
	for _, k := range kept {
		if k.dir {
			_ = os.MkdirAll(k.path, 0o755)
		} else {
			_ = os.MkdirAll(filepath.Dir(k.path), 0o755)
			if f, err := os.OpenFile(k.path, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
				f.Close()
			}
		}
		if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(k.fd), k.path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			tmpOK = false
			tmpErr = append(tmpErr, "bind "+k.path+" back: "+err.Error())
		} else if !underAny(k.path, cfg.RW) {
			// Landlock lets the stage write under /tmp; a runner directory
			// bound back in there must stay read-only.
			if err := remountRO(k.path); err != nil {
				tmpOK = false
				tmpErr = append(tmpErr, "make "+k.path+" read-only: "+err.Error())
			}
		}
		unix.Close(k.fd)
	}
	if tmpOK {
		st.layer(LayerPrivateTmp, true, "")
	} else {
		st.layer(LayerPrivateTmp, false, strings.Join(tmpErr, "; "))
	}

	// Credential files and directories are covered with empty, mode-0
	// stand-ins. The stage has no capabilities, so it cannot read them.
	var hidden, hideErr []string
	for _, p := range cfg.Hide {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, "mode=000,size=4k")
		} else {
			err = coverFile(p)
		}
		if err != nil {
			hideErr = append(hideErr, p+": "+err.Error())
			continue
		}
		hidden = append(hidden, p)
	}
	switch {
	case len(hideErr) > 0:
		st.layer(LayerCredentials, false, strings.Join(hideErr, "; "))
	case len(hidden) == 0:
		st.layer(LayerCredentials, true, "none of the credential files exist on this runner")
	default:
		st.layer(LayerCredentials, true, "hidden: "+strings.Join(hidden, ", "))
	}

	var roErr []string
	for _, p := range cfg.RO {
		if err := bindReadOnly(p); err != nil {
			roErr = append(roErr, p+": "+err.Error())
		}
	}
	switch {
	case len(cfg.RO) == 0:
		st.layer(LayerReadOnlyBinds, true, "no --ro paths; landlock keeps the rest read-only")
	case len(roErr) > 0:
		st.layer(LayerReadOnlyBinds, false, strings.Join(roErr, "; "))
	default:
		st.layer(LayerReadOnlyBinds, true, "")
	}

	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		st.layer(LayerPIDNS, false, "mount /proc for the new PID namespace: "+err.Error()+" (the stage would see the runner's processes)")
	}
}

// coverFile bind-mounts an empty mode-0 file over p.
func coverFile(p string) error {
	f, err := os.CreateTemp("/tmp", ".mlgate-cover-")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	if err := os.Chmod(name, 0); err != nil {
		return err
	}
	if err := unix.Mount(name, p, "", unix.MS_BIND, ""); err != nil {
		return err
	}
	return remountRO(p)
}

func bindReadOnly(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return remountRO(p)
}

// remountRO makes the bind mount at p read-only, keeping the flags the
// kernel locks in a user namespace.
func remountRO(p string) error {
	var s unix.Statfs_t
	if err := unix.Statfs(p, &s); err != nil {
		return err
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	for st, ms := range map[int64]uintptr{unix.ST_NOSUID: unix.MS_NOSUID, unix.ST_NODEV: unix.MS_NODEV, unix.ST_NOEXEC: unix.MS_NOEXEC, unix.ST_NOATIME: unix.MS_NOATIME, unix.ST_NODIRATIME: unix.MS_NODIRATIME, unix.ST_RELATIME: unix.MS_RELATIME} {
		if s.Flags&st != 0 {
			flags |= ms
		}
	}
	return unix.Mount("", p, "", flags, "")
}

// setupLoopback brings lo up in the new network namespace.
func setupLoopback(st statusWriter) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		st.layer(LayerNetNS, false, "socket in the new network namespace: "+err.Error())
		return
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err == nil {
		err = unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr)
	}
	if err == nil {
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		err = unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
	}
	if err != nil {
		st.layer(LayerNetNS, true, "isolated, but loopback could not be brought up: "+err.Error())
	}
}

// startRelay listens on 127.0.0.1 inside the network namespace and
// forwards every connection to the supervisor's proxy over the unix
// socket in the directory passed as initFDProxy.
func startRelay() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	sock := "/proc/self/fd/" + strconv.Itoa(initFDProxy) + "/proxy.sock"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("unix", sock)
				if err != nil {
					return
				}
				defer u.Close()
				relay(c, u)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// shimMain runs on a locked OS thread, restricts it (no_new_privs,
// landlock, capabilities, seccomp) and executes the stage command in its
// place, so the stage and everything it starts inherit the restrictions.
func shimMain() int {
	unix.CloseOnExec(shimFDNotify)
	unix.CloseOnExec(shimFDStatus)
	st := statusWriter{os.NewFile(shimFDStatus, "status")}
	var cfg childConfig
	if err := json.Unmarshal([]byte(os.Getenv(envConfig)), &cfg); err != nil {
		return st.fail("shim: config: %v", err)
	}
	if len(cfg.Argv) == 0 {
		return st.fail("shim: no command")
	}
	path, err := lookPath(cfg.Argv[0], cfg.Env)
	if err != nil {
		st.fail("%s: %v", cfg.Argv[0], err)
		return 127
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		st.layer(LayerNoNewPrivs, false, err.Error())
	} else {
		st.layer(LayerNoNewPrivs, true, "")
	}
	ll := applyLandlock(&cfg)
	st.layer(LayerLandlock, ll.active, ll.reason)
	if err := dropCapabilities(); err != nil {
		st.layer(LayerCapabilities, false, err.Error())
	} else {
		st.layer(LayerCapabilities, true, "bounding, ambient, effective, permitted and inheritable sets emptied; securebits NOROOT locked")
	}
	listener, err := installSeccomp(cfg.Monitor, cfg.MonitorWrites, cfg.MonitorDatagrams)
	if err != nil {
		st.layer(LayerSeccomp, false, err.Error())
		if cfg.Monitor {
			st.layer(LayerExecMonitor, false, "seccomp filter not installed: "+err.Error())
			st.layer(LayerConnectMon, false, "seccomp filter not installed: "+err.Error())
			if cfg.MonitorWrites {
				st.layer(LayerWriteMonitor, false, "seccomp filter not installed: "+err.Error())
			}
		}
	} else {
		st.layer(LayerSeccomp, true, "")
		if listener >= 0 {
			if cfg.MonitorDatagrams {
				// sendmsg is itself held now, by a listener nobody serves
				// yet: say which descriptor it is and let the supervisor
				// take it (pidfd_getfd); wait until it has.
				msg := []byte{handoffFDNumber, 0, 0, 0, 0}
				binary.LittleEndian.PutUint32(msg[1:], uint32(listener))
				if _, err := unix.Write(shimFDNotify, msg); err != nil {
					return st.fail("shim: hand over the seccomp listener: %v", err)
				}
				ack := make([]byte, 1)
				if n, err := unix.Read(shimFDNotify, ack); err != nil || n != 1 || ack[0] != 1 {
					return st.fail("shim: the supervisor could not take the seccomp listener (pidfd_getfd); the stage does not run unmonitored")
				}
			} else if err := unix.Sendmsg(shimFDNotify, []byte{1}, unix.UnixRights(listener), nil, 0); err != nil {
				return st.fail("shim: hand over the seccomp listener: %v", err)
			}
			unix.Close(listener)
		}
	}
	unix.Close(shimFDNotify)
	st.f.Close()
	err = syscall.Exec(path, cfg.Argv, cfg.Env)
	// Only reached on failure; the status pipe is closed, so say it on stderr.
	fmt.Fprintf(os.Stderr, "mlgate run: exec %s: %v\n", cfg.Argv[0], err)
	if err == syscall.ENOENT || err == syscall.EACCES {
		return 127
	}
	return 126
}

// lookPath resolves name against PATH from env.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	pathVar := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range filepath.SplitList(pathVar) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("executable file not found in the stage's PATH")
}

// Securebits (linux/securebits.h).
const (
	secbitNoRoot               = 1 << 0
	secbitNoRootLocked         = 1 << 1
	secbitNoSetuidFixup        = 1 << 2
	secbitNoSetuidFixupLocked  = 1 << 3
	secbitKeepCapsLocked       = 1 << 5
	secbitNoCapAmbientRaise    = 1 << 6
	secbitNoCapAmbientRaiseLck = 1 << 7
)

// dropCapabilities empties every capability set of the calling thread and
// locks securebits so that executing a program as (namespace) root does
// not grant any back.
func dropCapabilities() error {
	bits := secbitNoRoot | secbitNoRootLocked | secbitNoSetuidFixup | secbitNoSetuidFixupLocked |
		secbitKeepCapsLocked | secbitNoCapAmbientRaise | secbitNoCapAmbientRaiseLck
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(bits), 0, 0, 0); err != nil {
		return fmt.Errorf("set securebits: %w", err)
	}
	last := 40
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 && n < 64 {
			last = n
		}
	}
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}
