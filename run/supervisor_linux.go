//go:build linux && (amd64 || arm64)

package run

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mlgate/mlgate/finding"
)

// maxEvents bounds the events kept in the result; later ones are still
// checked by the rules, and counted.
const maxEvents = 100000

// supervisor holds the state of one run.
type supervisor struct {
	// initPID is the host PID of the sandbox's init, whose child the
	// shim is.
	initPID int
	opts    *Options
	det     *detector
	start   time.Time
	mu      sync.Mutex
	res     *Result
	seq     int
	halted  bool
	kill    func()
	// dead is closed once the init, and with it every process of the
	// stage, is gone.
	dead chan struct{}
	// writeRoots are the trees whose writes are recorded as events: the
	// watched trees and the model output, as given and with symbolic
	// links resolved.
	writeRoots []string
	// argvOf maps a process (host PID) to the argv of its last exec, for
	// write events. Only the monitor goroutine touches it.
	argvOf map[int][]string
	// nspidOf maps host PIDs to PIDs in the stage's namespace, and
	// statusBuf is reused for /proc/PID/status; monitor goroutine only.
	nspidOf   map[int]int
	statusBuf []byte
}

// maxArgvCache bounds argvOf; it is emptied when full.
const maxArgvCache = 1 << 16

// Run isolates and runs one stage, watching it, and returns what happened.
// The error is for runs that could not be set up at all; what the stage
// did, including failing, is in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	if len(o.Argv) == 0 {
		return nil, errors.New("no command to run")
	}
	// Descriptors mlgate inherited (a CI agent's log pipe, a lock or
	// secrets file) must not reach the stage: landlock does not apply to
	// descriptors that are already open. Mark every one above stderr
	// close-on-exec; Go's own are already, and os/exec passes the ones it
	// means to pass explicitly.
	closeInheritedOnExec()
	// The init's parent-death signal fires when the OS thread that started
	// it exits, not the process; keep this goroutine on one thread until
	// the init has been reaped.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if o.Network == "" {
		o.Network = NetworkNone
	}
	if o.Mode == "" {
		o.Mode = ModeAudit
	}
	switch o.Network {
	case NetworkNone, NetworkAllow, NetworkHost:
	default:
		return nil, fmt.Errorf("network must be none, allow or host, not %q", o.Network)
	}
	switch o.Mode {
	case ModeAudit, ModeEnforce:
	default:
		return nil, fmt.Errorf("mode must be audit or enforce, not %q", o.Mode)
	}
	if o.Network != NetworkAllow && len(o.AllowHosts) > 0 {
		return nil, errors.New("allow-host needs network allow")
	}
	home := homeDir(&o)
	if o.Dir == "" {
		o.Dir, _ = os.Getwd()
	}
	clean := func(ps []string) []string {
		var out []string
		for _, p := range ps {
			out = append(out, expandHome(p, home))
		}
		return out
	}
	o.RW, o.RO, o.Watch = clean(o.RW), clean(o.RO), clean(o.Watch)
	if o.ModelOutput != "" {
		// The model output must be writable and is always watched.
		o.ModelOutput = expandHome(o.ModelOutput, home)
		if !slicesContains(o.RW, o.ModelOutput) {
			o.RW = append(o.RW, o.ModelOutput)
		}
		if !slicesContains(o.Watch, o.ModelOutput) {
			o.Watch = append(o.Watch, o.ModelOutput)
		}
	}
	for _, p := range o.RW {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("--rw %s: %w", p, err)
		}
	}
	environ := o.Environ
	if environ == nil {
		environ = os.Environ()
	}
	env, envNames := buildEnv(environ, o.Env, o.Secrets)

	res := &Result{Command: o.Argv, Mode: o.Mode, Network: o.Network, Env: envNames, Events: []Event{}, FileChanges: []FileChange{},
		Dir: expandHome(o.Dir, home), Outputs: append([]string{}, o.RW...)}
	s := &supervisor{opts: &o, res: res, det: newDetector(&o), dead: make(chan struct{}), argvOf: map[int][]string{}, nspidOf: map[int]int{}}
	for _, r := range append(append([]string{}, o.Watch...), o.RW...) {
		s.writeRoots = append(s.writeRoots, r)
		if real, err := filepath.EvalSymlinks(r); err == nil && real != r {
			s.writeRoots = append(s.writeRoots, real)
		}
	}

	// File integrity: snapshot before.
	roots := watchRoots(&o, home)
	// Default trees (site-packages) that no --rw path overlaps are
	// read-only for the stage under landlock: the kernel refuses every
	// change, so they are not walked (a 60,000-file walk costs about a
	// third of a second of CPU, twice). If landlock turns out not to be
	// active, that is reported as an error below.
	var readOnly []string
	if abi, err := landlockABI(); err == nil && abi >= 1 {
		roots, readOnly = splitReadOnlyRoots(roots, &o)
	}
	res.Watched = roots
	res.ReadOnlyTrees = readOnly
	before, snapErr := snapshotAll(roots)

	cfg := childConfig{
		Argv: o.Argv, Env: env, Dir: o.Dir, Network: o.Network, RW: o.RW, RO: o.RO,
		Hide: append(credentialPaths(home, o.AllowCredentials), clean(o.Hide)...), Monitor: !o.NoMonitor,
		// Without a writable path the stage can only write to its private
		// /tmp and /dev/shm, which vanish with it: nothing to attribute.
		MonitorWrites: !o.NoMonitor && len(o.RW) > 0,
		// Only the host network lets a datagram leave the machine; in the
		// stage's own namespace there is nowhere for sendmsg to go but
		// loopback, so its calls are not held there.
		MonitorDatagrams: !o.NoMonitor && o.Network == NetworkHost,
	}
	res.HiddenLinked = hiddenHardLinks(cfg.Hide)

	// Egress proxy.
	var proxyDir *os.File
	var proxyLn net.Listener
	var px *proxy
	if o.Network == NetworkAllow {
		dir, err := os.MkdirTemp("", "mlgate-run-")
		if err != nil {
			return nil, fmt.Errorf("proxy socket directory: %w", err)
		}
		defer os.RemoveAll(dir)
		proxyLn, err = net.Listen("unix", filepath.Join(dir, "proxy.sock"))
		if err != nil {
			return nil, fmt.Errorf("proxy socket: %w", err)
		}
		defer proxyLn.Close()
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_CLOEXEC|unix.O_DIRECTORY, 0)
		if err != nil {
			return nil, fmt.Errorf("proxy socket directory: %w", err)
		}
		proxyDir = os.NewFile(uintptr(fd), dir)
		defer proxyDir.Close()
		dial := o.Dial
		if dial == nil {
			dial = safeDialer(o.AllowPrivateEgress)
		}
		px = &proxy{allow: o.AllowHosts, dial: dial, resolve: o.Resolve, allowPrivate: o.AllowPrivateEgress, decide: s.onEgress}
		go px.serve(proxyLn)
		cfg.Proxy = true
	}

	// Descriptors for the init.
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer cfgR.Close()
	defer cfgW.Close()
	stR, stW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer stR.Close()
	defer stW.Close()
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	notifParent := os.NewFile(uintptr(pair[0]), "notify")
	notifChild := os.NewFile(uintptr(pair[1]), "notify-child")
	defer notifParent.Close()
	defer notifChild.Close()
	slot5 := proxyDir
	if slot5 == nil {
		slot5, err = os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		defer slot5.Close()
	}

	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS)
	if o.Network != NetworkHost {
		flags |= unix.CLONE_NEWNET
	}
	useUserNS := !o.NoUserNS
	if o.NoUserNS && os.Geteuid() != 0 {
		return nil, errors.New("running without a user namespace needs root")
	}
	var cmd *exec.Cmd
	var startErr error
	for attempt := 0; attempt < 2; attempt++ {
		cfg.UserNS = useUserNS
		cmd = exec.Command("/proc/self/exe")
		cmd.Args = []string{"mlgate-run-init"}
		cmd.Env = []string{envMode + "=" + modeInit}
		cmd.Dir = "/"
		cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
		cmd.ExtraFiles = []*os.File{cfgR, notifChild, slot5, stW}
		// Setsid: the stage gets no controlling terminal, so it cannot push
		// keystrokes into the caller's terminal with TIOCSTI (run after mlgate
		// exits, outside every layer) or open /dev/tty.
		sp := &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL, Setsid: true}
		if useUserNS {
			sp.Cloneflags |= unix.CLONE_NEWUSER
			sp.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
			sp.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
			sp.GidMappingsEnableSetgroups = false
		}
		cmd.SysProcAttr = sp
		startErr = cmd.Start()
		if startErr == nil {
			break
		}
		if useUserNS && os.Geteuid() == 0 {
			res.Layers = setLayer(res.Layers, LayerUserNS, false, "cannot create a user namespace ("+startErr.Error()+"); running as real root without one")
			useUserNS = false
			continue
		}
		break
	}
	if startErr != nil {
		return nil, fmt.Errorf("start the sandbox (namespaces): %w", startErr)
	}
	s.start = time.Now()
	res.Started = s.start
	s.kill = func() { _ = cmd.Process.Signal(syscall.SIGKILL) }
	s.initPID = cmd.Process.Pid
	cfgR.Close()
	notifChild.Close()
	stW.Close()
	switch {
	case useUserNS:
		res.Layers = setLayer(res.Layers, LayerUserNS, true, fmt.Sprintf("uid %d and gid %d mapped to 0 inside", os.Geteuid(), os.Getegid()))
	case o.NoUserNS:
		res.Layers = setLayer(res.Layers, LayerUserNS, false, "disabled by request (running as real root)")
	}
	res.Layers = setLayer(res.Layers, LayerMountNS, true, "")
	res.Layers = setLayer(res.Layers, LayerPIDNS, true, "")
	res.Layers = setLayer(res.Layers, LayerIPCNS, true, "")
	res.Layers = setLayer(res.Layers, LayerUTSNS, true, "")
	if o.Network == NetworkHost {
		res.Layers = setLayer(res.Layers, LayerNetNS, false, "--network host: the stage shares the runner's network")
	} else {
		res.Layers = setLayer(res.Layers, LayerNetNS, true, "loopback only")
	}
	switch o.Network {
	case NetworkAllow:
		var hs []string
		for _, h := range o.AllowHosts {
			hs = append(hs, h.String())
		}
		res.Layers = setLayer(res.Layers, LayerEgressProxy, true, "CONNECT/HTTP proxy relayed into the namespace; allow-list: "+strings.Join(hs, ", ")+egressPrivateNote(o.AllowPrivateEgress))
	case NetworkNone:
		res.Layers = setLayer(res.Layers, LayerEgressProxy, false, "not needed: --network none gives the stage no route out at all")
	default:
		res.Layers = setLayer(res.Layers, LayerEgressProxy, false, "--network host: egress is not filtered")
	}
	res.Layers = setLayer(res.Layers, LayerEnvScrub, true, "passed: "+strings.Join(envNames, ", "))
	res.Layers = setLayer(res.Layers, LayerCgroup, false, "not used: the whole process tree is stopped by killing the PID namespace's init, and mlgate sets no resource limits")
	if snapErr != "" {
		res.Layers = setLayer(res.Layers, LayerFileIntegrity, false, snapErr)
	} else {
		reason := fmt.Sprintf("%d trees", len(roots))
		if len(readOnly) > 0 {
			reason += fmt.Sprintf("; %d default trees kept read-only by landlock instead (not walked)", len(readOnly))
		}
		res.Layers = setLayer(res.Layers, LayerFileIntegrity, true, reason)
	}
	if o.NoMonitor {
		res.Layers = setLayer(res.Layers, LayerExecMonitor, false, "disabled by request")
		res.Layers = setLayer(res.Layers, LayerConnectMon, false, "disabled by request")
		res.Layers = setLayer(res.Layers, LayerWriteMonitor, false, "disabled by request")
	} else if len(o.RW) == 0 {
		res.Layers = setLayer(res.Layers, LayerWriteMonitor, false, "not needed: without --rw or --model-output the stage can write only its private /tmp and /dev/shm")
	}

	b, _ := json.Marshal(cfg)
	if _, err := cfgW.Write(b); err != nil {
		s.kill()
	}
	cfgW.Close()

	var wg sync.WaitGroup
	stop := make(chan struct{})
	if !o.NoMonitor {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One OS thread serves every notification: the kernel's
			// synchronous wake-up hands the CPU to this thread, and the Go
			// scheduler does not move the loop between threads.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			s.monitor(notifParent, stop)
		}()
	}
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		s.readStatus(stR)
	}()
	var timer *time.Timer
	if o.Timeout > 0 {
		timer = time.AfterFunc(o.Timeout, func() { s.halt("timeout after " + o.Timeout.String()) })
	}
	ctxDone := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			s.halt("cancelled: " + ctx.Err().Error())
		case <-ctxDone:
		}
	}()
	waitErr := cmd.Wait()
	close(s.dead)
	close(ctxDone)
	if timer != nil {
		timer.Stop()
	}
	res.Duration = time.Since(s.start)
	<-statusDone
	close(stop)
	wg.Wait()
	if proxyLn != nil {
		proxyLn.Close()
		px.wg.Wait()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if res.Signal == "" && res.ExitCode == 0 && waitErr != nil {
		// The init itself died (killed on halt or timeout) before it could
		// report the stage's status.
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				res.ExitCode = 128 + int(ws.Signal())
				res.Signal = unix.SignalName(ws.Signal())
			} else {
				res.ExitCode = ee.ExitCode()
			}
		}
	}

	// A layer the stage never reached (it failed to start) is reported as
	// such rather than left out.
	for _, name := range allLayers {
		found := false
		for _, l := range res.Layers {
			found = found || l.Name == name
		}
		if !found {
			res.Layers = setLayer(res.Layers, name, false, "not reached: the stage failed before this layer was applied")
		}
	}

	order := map[string]int{}
	for i, n := range allLayers {
		order[n] = i
	}
	sort.SliceStable(res.Layers, func(i, j int) bool { return order[res.Layers[i].Name] < order[res.Layers[j].Name] })
	noteHiddenLinks(res)

	if len(readOnly) > 0 && !layerIsActive(res.Layers, LayerLandlock) {
		res.Errors = append(res.Errors, "not compared: "+strings.Join(readOnly, ", ")+" (left to landlock, which was not active)")
	}
	after, snapErr2 := snapshotAll(roots)
	if snapErr2 != "" {
		res.Errors = append(res.Errors, "after-run snapshot: "+snapErr2)
	}
	res.FileChanges = diffSnapshots(before, after)
	res.Findings = append(res.Findings, s.det.final(res)...)
	if s.det.dropped > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("%d further findings were dropped after the first %d", s.det.dropped, maxFindings))
	}
	finding.Sort(res.Findings)
	switch {
	case s.halted:
		res.Verdict = VerdictHalted
	case len(res.Findings) > 0:
		res.Verdict = VerdictFindings
	case len(res.Errors) > 0:
		res.Verdict = VerdictError
	default:
		res.Verdict = VerdictClean
	}
	return res, nil
}

// halt stops the whole stage at once: killing the PID namespace's init
// makes the kernel kill every process in it.
func (s *supervisor) halt(reason string) {
	s.mu.Lock()
	first := !s.halted
	if first {
		s.halted = true
		s.res.HaltReason = reason
	}
	s.mu.Unlock()
	if first && s.kill != nil {
		s.kill()
	}
}

// record adds an event, runs the event rules, and says whether the call
// must be refused (enforce mode, critical finding).
func (s *supervisor) record(ev *Event) bool {
	s.mu.Lock()
	s.seq++
	ev.Seq = s.seq
	ev.At = time.Since(s.start)
	fs := s.det.event(ev)
	block := false
	var reason string
	if s.opts.Mode == ModeEnforce {
		for _, f := range fs {
			if f.Severity >= finding.Critical {
				block = true
				reason = f.RuleID + ": " + f.Message
				break
			}
		}
	}
	ev.Blocked = block
	s.res.Findings = append(s.res.Findings, fs...)
	if len(s.res.Events) < maxEvents {
		s.res.Events = append(s.res.Events, *ev)
	} else {
		s.res.EventsDropped++
	}
	s.mu.Unlock()
	if block {
		s.halt(reason)
	}
	return block
}

// onEgress is the proxy's hook; false refuses the request. A request
// that halts the stage is answered only once the stage is dead, so the
// stage never learns the outcome.
func (s *supervisor) onEgress(ev Event) bool {
	if s.record(&ev) {
		s.awaitDeath()
		return false
	}
	return true
}

// awaitDeath waits until the halted stage is gone (bounded, in case the
// kill could not be delivered).
func (s *supervisor) awaitDeath() {
	select {
	case <-s.dead:
	case <-time.After(10 * time.Second):
	}
}

// readStatus consumes the init's status lines until it exits.
func (s *supervisor) readStatus(r *os.File) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m statusMsg
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		s.mu.Lock()
		switch m.Kind {
		case "layer":
			if m.Layer != nil {
				s.res.Layers = setLayer(s.res.Layers, m.Layer.Name, m.Layer.Active, m.Layer.Reason)
			}
		case "exited":
			s.res.ExitCode = m.Status
			s.res.Signal = m.Signal
		case "error":
			s.res.Errors = append(s.res.Errors, m.Error)
		}
		s.mu.Unlock()
	}
}

// monitor receives the seccomp listener from the shim and serves its
// notifications until stop is closed.
func (s *supervisor) monitor(sock *os.File, stop <-chan struct{}) {
	fdCh := make(chan int, 1)
	go func() {
		buf := make([]byte, 8)
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
		if err == nil && oobn == 0 && n == 5 && buf[0] == handoffFDNumber {
			lfd, err := s.takeListener(int(int32(binary.LittleEndian.Uint32(buf[1:5]))))
			ack := []byte{1}
			if err != nil {
				ack[0] = 0
				s.mu.Lock()
				s.res.Errors = append(s.res.Errors, "seccomp listener: "+err.Error())
				s.mu.Unlock()
			}
			_, _ = unix.Write(int(sock.Fd()), ack)
			fdCh <- lfd
			return
		}
		if err != nil || oobn == 0 {
			fdCh <- -1
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) == 0 {
			fdCh <- -1
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) == 0 {
			fdCh <- -1
			return
		}
		for _, extra := range fds[1:] {
			unix.Close(extra)
		}
		fdCh <- fds[0]
	}()
	var fd int
	select {
	case fd = <-fdCh:
	case <-stop:
		sock.Close() // unblocks the receiver
		fd = <-fdCh
		if fd >= 0 {
			unix.Close(fd)
		}
		s.setLayer(LayerExecMonitor, false, "the stage ended before the seccomp listener arrived")
		s.setLayer(LayerConnectMon, false, "the stage ended before the seccomp listener arrived")
		s.setLayer(LayerWriteMonitor, false, "the stage ended before the seccomp listener arrived")
		return
	}
	if fd < 0 {
		s.setLayer(LayerExecMonitor, false, "no seccomp listener received from the stage")
		s.setLayer(LayerConnectMon, false, "no seccomp listener received from the stage")
		s.setLayer(LayerWriteMonitor, false, "no seccomp listener received from the stage")
		return
	}
	defer unix.Close(fd)
	_ = notifSyncWakeUp(fd)
	s.setLayer(LayerExecMonitor, true, "seccomp user notification on execve and execveat; every call is held until recorded")
	if s.opts.Network == NetworkHost {
		s.setLayer(LayerConnectMon, true, "seccomp user notification on connect, on sendto with a destination and on sendmsg/sendmmsg (host network); every attempt is held until recorded")
	} else {
		s.setLayer(LayerConnectMon, true, "seccomp user notification on connect and on sendto with a destination; every attempt is held until recorded")
	}
	if len(s.opts.RW) > 0 {
		s.setLayer(LayerWriteMonitor, true, "seccomp user notification on opens with a write flag, openat2, creat, truncate, rename, link and symlink; writes under the watched trees and the model output are recorded with their process")
	}
	var n seccompNotif
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		select {
		case <-stop:
			return
		default:
		}
		pfd[0].Revents = 0
		k, err := unix.Poll(pfd, 100)
		if err == unix.EINTR || k == 0 {
			continue
		}
		if err != nil {
			return
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			if pfd[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
				return
			}
			continue
		}
		if err := notifRecv(fd, &n); err != nil {
			if err == unix.EINTR || err == unix.ENOENT {
				continue
			}
			return
		}
		s.handle(fd, &n)
	}
}

func (s *supervisor) setLayer(name string, active bool, reason string) {
	s.mu.Lock()
	s.res.Layers = setLayer(s.res.Layers, name, active, reason)
	s.mu.Unlock()
}

// handle decodes one notification, records it and answers it. Everything
// the event reports is read while the caller is held (after an exec its
// memory and image are gone); in audit mode the caller is let go before
// the event is recorded and the rules run, in enforce mode only after.
func (s *supervisor) handle(fd int, n *seccompNotif) {
	pid := int(n.PID)
	ev := Event{}
	var more []Event // further destinations of one sendmmsg
	legacyWrite(n)
	if n.Nr == unix.SYS_EXECVE && execTargetMissing(pid, n.Args[0]) {
		// execvp tries every PATH directory in turn: most attempts name a
		// file that does not exist. The supervisor answers those itself
		// with the kernel's ENOENT, so nothing runs whatever the file
		// system does afterwards, and they are only counted.
		s.mu.Lock()
		s.res.ExecsNotFound++
		s.mu.Unlock()
		_ = notifDeny(fd, n.ID, unix.ENOENT)
		return
	}
	switch n.Nr {
	case unix.SYS_EXECVE, unix.SYS_EXECVEAT:
		ev.Kind = EventExec
		pathArg, argvArg := n.Args[0], n.Args[1]
		if n.Nr == unix.SYS_EXECVEAT {
			pathArg, argvArg = n.Args[1], n.Args[2]
		}
		ev.Path, ev.Argv, ev.Truncated = readExecArgs(pid, pathArg, argvArg)
		if n.Nr == unix.SYS_EXECVEAT {
			dirfd := int32(n.Args[0])
			if n.Args[4]&unix.AT_EMPTY_PATH != 0 && ev.Path == "" {
				ev.FromFD = true
				ev.Path, _ = os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(int(dirfd)))
			} else if !strings.HasPrefix(ev.Path, "/") && dirfd >= 0 {
				if d, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(int(dirfd))); err == nil {
					ev.Path = filepath.Join(d, ev.Path)
				}
			}
		}
		if isProcFDPath(ev.Path) {
			ev.FromFD = true
			if target, err := os.Readlink(procPathFor(pid, ev.Path)); err == nil {
				ev.Path = ev.Path + " -> " + target
			}
		}
		if needsStdio(&ev) {
			ev.Stdio = stdioKinds(pid)
		}
	case unix.SYS_CONNECT, unix.SYS_SENDTO:
		ev.Kind = EventConnect
		addr, size := n.Args[1], n.Args[2]
		if n.Nr == unix.SYS_SENDTO {
			ev.Kind = EventSendto
			addr, size = n.Args[4], n.Args[5]
		}
		if size > 128 {
			size = 128
		}
		if b, ok := readMem(pid, addr, int(size)); ok {
			ev.Family, ev.Addr, ev.Port, _ = parseSockaddr(b)
		}
	case unix.SYS_SENDMSG, unix.SYS_SENDMMSG:
		dests := sendmsgDestinations(pid, n)
		if len(dests) == 0 {
			// A connected socket: its destination was seen at connect.
			_ = notifContinue(fd, n.ID)
			return
		}
		ev = dests[0]
		more = dests[1:]
	default:
		if !isWriteSyscall(n.Nr) || !s.decodeWrite(pid, n, &ev) {
			_ = notifContinue(fd, n.ID)
			return
		}
	}
	st := s.status(pid)
	ev.PID, ev.Comm = st.NSpid, st.Name
	switch ev.Kind {
	case EventExec:
		if len(s.argvOf) >= maxArgvCache {
			clear(s.argvOf)
		}
		if st.Tgid > 0 {
			s.argvOf[st.Tgid] = ev.Argv
		}
	case EventWrite:
		// A write belongs to the process, not the thread.
		if st.NStgid > 0 {
			ev.PID = st.NStgid
		}
		ev.Argv = s.argvOf[st.Tgid]
	}
	if st.PPid > 0 {
		if ns, ok := s.nspidOf[st.PPid]; ok {
			ev.PPID = ns
		} else {
			ev.PPID = s.status(st.PPid).NSpid
		}
	}
	ev.Exe, _ = os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if !notifValid(fd, n.ID) {
		// The caller died while we looked; what we read may belong to a
		// recycled PID, so keep only what came from its memory.
		ev.PID, ev.PPID, ev.Comm, ev.Exe, ev.Stdio = 0, 0, "", "", nil
		if ev.Kind == EventWrite {
			ev.Argv = nil
		}
	}
	for i := range more {
		more[i].PID, more[i].PPID, more[i].Comm, more[i].Exe = ev.PID, ev.PPID, ev.Comm, ev.Exe
	}
	if s.opts.Mode != ModeEnforce {
		// Audit: nothing depends on the verdict; let the caller go first.
		_ = notifContinue(fd, n.ID)
		s.record(&ev)
		for i := range more {
			s.record(&more[i])
		}
		return
	}
	halt := s.record(&ev)
	for i := range more {
		halt = s.record(&more[i]) || halt
	}
	if halt {
		// The caller stays blocked in the kernel until the kill reaches
		// it; answering first would let it run on for a moment.
		s.awaitDeath()
		_ = notifDeny(fd, n.ID, unix.EPERM)
		return
	}
	_ = notifContinue(fd, n.ID)
}

// execTargetMissing says whether the path an execve names does not exist
// as the caller would resolve it: relative to its working directory,
// symbolic links inside its root (openat2 RESOLVE_IN_ROOT on
// /proc/PID/root). Anything else (found, a permission or type error,
// /proc paths, unreadable arguments) is false: the call takes the full
// path and the kernel decides.
func execTargetMissing(pid int, pathAddr uint64) bool {
	p, trunc := readString(pid, pathAddr, maxArgLen)
	if p == "" || trunc || strings.Contains(p, "/proc") {
		return false
	}
	proc := "/proc/" + strconv.Itoa(pid)
	if !strings.HasPrefix(p, "/") {
		cwd, err := os.Readlink(proc + "/cwd")
		if err != nil || !strings.HasPrefix(cwd, "/") {
			return false
		}
		p = cwd + "/" + p
	}
	root, err := unix.Open(proc+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(root)
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(root, p, &how)
	if err == nil {
		unix.Close(fd)
		return false
	}
	return err == unix.ENOENT
}

// maxNSpidCache bounds nspidOf; it is emptied when full.
const maxNSpidCache = 1 << 16

// status reads /proc/PID/status into a reused buffer and remembers the
// process's PID in the stage's namespace, so that a later event whose
// parent it is need not read the parent's status. A host PID is reused
// only after the kernel has cycled through pid_max PIDs, so a stale
// entry is not a practical concern within one run.
func (s *supervisor) status(pid int) procStatus {
	if s.statusBuf == nil {
		s.statusBuf = make([]byte, 8<<10)
	}
	f, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/status", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return procStatus{}
	}
	n, _ := unix.Read(f, s.statusBuf)
	unix.Close(f)
	st := parseStatus(s.statusBuf[:max(n, 0)])
	if st.NSpid > 0 {
		if len(s.nspidOf) >= maxNSpidCache {
			clear(s.nspidOf)
		}
		s.nspidOf[pid] = st.NSpid
	}
	return st
}

// needsStdio says whether an exec's descriptors 0-2 matter to a rule:
// shells (a shell on a TCP socket is a reverse shell) and env/printenv
// (the environment written to a socket). Other programs' are not read,
// which saves three readlinks per exec.
func needsStdio(ev *Event) bool {
	b := base(ev.Path)
	if shells[b] || b == "env" || b == "printenv" {
		return true
	}
	if len(ev.Argv) > 0 {
		a := base(ev.Argv[0])
		return shells[a] || a == "env" || a == "printenv"
	}
	return false
}

func isProcFDPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, '/')
	return i > 0 && strings.HasPrefix(rest[i:], "/fd/")
}

// procPathFor rewrites /proc/self/... to the caller's PID, so the
// supervisor reads the caller's descriptor table and not its own. A
// numeric PID inside the stage's namespace cannot be mapped; it is read
// as /proc/self of the caller (the common case, a process executing
// its own descriptor).
func procPathFor(pid int, p string) string {
	rest := strings.TrimPrefix(p, "/proc/")
	i := strings.IndexByte(rest, '/')
	return "/proc/" + strconv.Itoa(pid) + rest[i:]
}

const (
	maxArgLen   = 4096
	maxArgs     = 512
	maxArgBytes = 64 << 10
)

// readMem reads n bytes at addr in pid's memory.
func readMem(pid int, addr uint64, n int) ([]byte, bool) {
	if n <= 0 || addr == 0 {
		return nil, false
	}
	b := make([]byte, n)
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(n)
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: n}}
	got, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err != nil || got <= 0 {
		return nil, false
	}
	return b[:got], true
}

// readString reads a NUL-terminated string of at most max bytes, page by
// page so that an unmapped page after the string does not fail the read.
func readString(pid int, addr uint64, max int) (string, bool) {
	if addr == 0 {
		return "", false
	}
	var out []byte
	for len(out) < max {
		chunk := 4096 - int(addr%4096)
		if chunk > max-len(out) {
			chunk = max - len(out)
		}
		b, ok := readMem(pid, addr, chunk)
		if !ok {
			return string(out), false
		}
		for i, c := range b {
			if c == 0 {
				return string(append(out, b[:i]...)), false
			}
		}
		out = append(out, b...)
		addr += uint64(len(b))
	}
	return string(out), true
}

// readExecArgs reads an exec's path and argv. The path's first bytes and
// the first page of the pointer array come in one process_vm_readv, the
// argument strings in a second one; longer data is read on.
func readExecArgs(pid int, pathAddr, argvAddr uint64) (string, []string, bool) {
	pn := min(4096-int(pathAddr%4096), argPeek)
	an := min(4096-int(argvAddr%4096), 8*maxArgs)
	if pathAddr == 0 || argvAddr == 0 || an < 8 {
		path, t1 := readString(pid, pathAddr, maxArgLen)
		argv, t2 := readArgv(pid, argvAddr)
		return path, argv, t1 || t2
	}
	buf := make([]byte, pn+an)
	local := []unix.Iovec{{Base: &buf[0]}, {Base: &buf[pn]}}
	local[0].SetLen(pn)
	local[1].SetLen(an)
	remote := []unix.RemoteIovec{{Base: uintptr(pathAddr), Len: pn}, {Base: uintptr(argvAddr), Len: an}}
	got, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err != nil || got < pn+an {
		path, t1 := readString(pid, pathAddr, maxArgLen)
		argv, t2 := readArgv(pid, argvAddr)
		return path, argv, t1 || t2
	}
	var path string
	var t1 bool
	if j := bytes.IndexByte(buf[:pn], 0); j >= 0 {
		path = string(buf[:j])
	} else {
		rest, t := readString(pid, pathAddr+uint64(pn), maxArgLen-pn)
		path, t1 = string(buf[:pn])+rest, t
	}
	argv, t2 := argvFrom(pid, argvAddr, buf[pn:])
	return path, argv, t1 || t2
}

// readArgv reads a NULL-terminated array of string pointers. The
// pointer array is read a page at a time and the strings in one
// process_vm_readv for all of them (the first argPeek bytes of each, up
// to its page end); only a string longer than that is read again on its
// own. A typical exec costs two reads of the caller's memory.
func readArgv(pid int, addr uint64) ([]string, bool) {
	return argvFrom(pid, addr, nil)
}

// argvFrom is readArgv with the array's first bytes already read (first,
// a whole number of pointers ending at a page boundary, may be nil).
func argvFrom(pid int, addr uint64, first []byte) ([]string, bool) {
	var ptrs []uint64
	truncated := true
	for len(ptrs) < maxArgs {
		n := 4096 - int((addr+uint64(8*len(ptrs)))%4096)
		if n < 8 {
			n = 8 // a pointer straddling a page (misaligned array)
		}
		if rest := 8 * (maxArgs - len(ptrs)); n > rest {
			n = rest
		}
		var b []byte
		ok := true
		if first != nil {
			b, first = first[:len(first)/8*8], nil
		} else {
			b, ok = readMem(pid, addr+uint64(8*len(ptrs)), n)
		}
		if !ok || len(b) < 8 {
			// The array runs into unreadable memory before its NULL.
			return readArgStrings(pid, ptrs, true)
		}
		done := false
		for i := 0; i+8 <= len(b); i += 8 {
			p := binary.LittleEndian.Uint64(b[i:])
			if p == 0 {
				done = true
				break
			}
			ptrs = append(ptrs, p)
			if len(ptrs) == maxArgs {
				break
			}
		}
		if done {
			truncated = false
			break
		}
	}
	return readArgStrings(pid, ptrs, truncated)
}

// argPeek is how much of each argument readArgStrings reads in its
// batched pass.
const argPeek = 256

func readArgStrings(pid int, ptrs []uint64, truncated bool) ([]string, bool) {
	if len(ptrs) == 0 {
		return nil, truncated
	}
	sizes := make([]int, len(ptrs))
	total := 0
	for i, p := range ptrs {
		n := 4096 - int(p%4096)
		if n > argPeek {
			n = argPeek
		}
		sizes[i] = n
		total += n
	}
	buf := make([]byte, total)
	got := make([]int, len(ptrs)) // bytes read per string; -1: not read
	for i := range got {
		got[i] = -1
	}
	// process_vm_readv takes at most IOV_MAX (1024) vectors and stops at
	// the first remote vector that faults; what follows is read again.
	off := 0
	for start := 0; start < len(ptrs); {
		end := min(start+1024, len(ptrs))
		local := make([]unix.Iovec, 0, end-start)
		remote := make([]unix.RemoteIovec, 0, end-start)
		o := off
		for i := start; i < end; i++ {
			if ptrs[i] == 0 {
				break
			}
			v := unix.Iovec{Base: &buf[o]}
			v.SetLen(sizes[i])
			local = append(local, v)
			remote = append(remote, unix.RemoteIovec{Base: uintptr(ptrs[i]), Len: sizes[i]})
			o += sizes[i]
		}
		n := 0
		if len(local) > 0 {
			n, _ = unix.ProcessVMReadv(pid, local, remote, 0)
		}
		// Account for what arrived, vector by vector.
		i := start
		for ; i < start+len(local) && n > 0; i++ {
			k := min(n, sizes[i])
			got[i] = k
			n -= k
			off += sizes[i]
		}
		if i == start {
			// The first vector faulted (or a NULL pointer): skip it.
			off += sizes[i]
			i++
		}
		start = i
	}
	var argv []string
	sum := 0
	off = 0
	for i, p := range ptrs {
		chunk := buf[off : off+max(got[i], 0)]
		off += sizes[i]
		var a string
		trunc := false
		if j := bytes.IndexByte(chunk, 0); j >= 0 {
			a = string(chunk[:j])
		} else if got[i] < 0 {
			a, trunc = readString(pid, p, maxArgLen)
		} else {
			rest, t := readString(pid, p+uint64(len(chunk)), maxArgLen-len(chunk))
			a, trunc = string(chunk)+rest, t
		}
		sum += len(a)
		argv = append(argv, a)
		if trunc || sum > maxArgBytes {
			return argv, true
		}
	}
	return argv, truncated
}

func readProcStatus(pid int) procStatus {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procStatus{}
	}
	defer f.Close()
	b := make([]byte, 16<<10)
	n, _ := f.Read(b)
	return parseStatus(b[:n])
}

// stdioKinds classifies descriptors 0-2 of pid; sockets are told apart as
// tcp when the inode is in the process's TCP tables.
func stdioKinds(pid int) []string {
	out := make([]string, 3)
	for i := range out {
		link, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(i))
		k := classifyFD(link)
		if k == "socket" {
			if ino, ok := socketInode(link); ok && isTCPSocket(pid, ino) {
				k = "tcp"
			}
		}
		out[i] = k
	}
	return out
}

func isTCPSocket(pid int, ino uint64) bool {
	for _, t := range []string{"tcp", "tcp6"} {
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/" + t)
		if err != nil {
			continue
		}
		b := make([]byte, 1<<20)
		n, _ := readFull(f, b)
		f.Close()
		if tcpTableHasInode(b[:n], ino) {
			return true
		}
	}
	return false
}

func readFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := f.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			break
		}
	}
	return n, nil
}

// closeInheritedOnExec marks every descriptor above 2 close-on-exec, with
// close_range(2) when the kernel has it, else one by one from /proc/self/fd.
func closeInheritedOnExec() {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

// takeListener takes the shim's seccomp listener, descriptor num of the
// init's child, with pidfd_getfd (the shim cannot pass it with sendmsg
// once sendmsg is held). Only a seccomp listener is accepted.
func (s *supervisor) takeListener(num int) (int, error) {
	if s.initPID <= 0 || num < 0 {
		return -1, errors.New("no shim to take it from")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.initPID) + "/task/" + strconv.Itoa(s.initPID) + "/children")
	if err != nil {
		return -1, fmt.Errorf("find the shim: %w", err)
	}
	last := errors.New("the sandbox's init has no child")
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		pidfd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			last = fmt.Errorf("pidfd_open: %w", err)
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, num, 0)
		unix.Close(pidfd)
		if err != nil {
			last = fmt.Errorf("pidfd_getfd: %w", err)
			continue
		}
		if link, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd)); !strings.Contains(link, "seccomp") {
			unix.Close(fd)
			last = fmt.Errorf("descriptor %d of the shim is %q, not a seccomp listener", num, link)
			continue
		}
		return fd, nil
	}
	return -1, last
}

// Layout of struct msghdr and struct mmsghdr on the 64-bit architectures
// the sandbox supports (amd64, arm64).
const (
	msghdrSize  = 56
	mmsghdrSize = 64
	// maxMmsgs bounds the messages of one sendmmsg whose destinations are
	// read; the kernel itself sends at most 1,024.
	maxMmsgs = 64
)

// sendmsgDestinations reads the destinations named by a held sendmsg or
// sendmmsg, one event each (distinct destinations of one sendmmsg only
// once), or none when no message names one (a connected socket).
func sendmsgDestinations(pid int, n *seccompNotif) []Event {
	count := 1
	stride := msghdrSize
	if n.Nr == unix.SYS_SENDMMSG {
		count, stride = int(min(n.Args[2], maxMmsgs)), mmsghdrSize
	}
	if count <= 0 {
		return nil
	}
	hdrs, ok := readMem(pid, n.Args[1], count*stride)
	if !ok {
		return nil
	}
	var out []Event
	seen := map[string]bool{}
	for i := 0; i+msghdrSize <= len(hdrs); i += stride {
		name := binary.LittleEndian.Uint64(hdrs[i:])
		size := binary.LittleEndian.Uint32(hdrs[i+8:])
		if name == 0 || size == 0 {
			continue
		}
		b, ok := readMem(pid, name, int(min(size, 128)))
		if !ok {
			continue
		}
		ev := Event{Kind: EventSendto}
		ev.Family, ev.Addr, ev.Port, _ = parseSockaddr(b)
		key := ev.Family + " " + ev.Addr + " " + strconv.Itoa(ev.Port)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, ev)
	}
	return out
}
