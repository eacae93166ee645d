package run

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mlgate/mlgate/finding"
)

// The run/* rules. Event rules see each exec, connect and egress request
// as it happens (in enforce mode a critical one halts the stage); run
// rules see the whole result at the end.
var (
	RuleMiner = finding.Register(&finding.Rule{
		ID: "run/crypto-miner", Title: "Cryptocurrency miner", Severity: finding.Critical,
		Doc:         "The stage executed a program named like a known cryptocurrency miner (xmrig, xmr-stak, cpuminer, minerd, ethminer, t-rex, lolminer, nbminer and others), passed a mining-pool URL (stratum+tcp://, stratum+ssl://), or reached a known mining-pool domain. Mining on CI runners and GPU training nodes is the most common payload of poisoned packages and model loaders: it turns stolen compute into money and is rarely legitimate inside a pipeline stage.",
		Remediation: "Treat the stage's inputs as compromised: find which dependency, model file or script started the miner (the event's parent PID and argv), remove it, rotate any credentials the stage could reach, and run the stage in enforce mode.",
	})
	RulePoolPort = finding.Register(&finding.Rule{
		ID: "run/miner-pool-port", Title: "Connection to a mining-pool port", Severity: finding.High,
		Doc:         "The stage tried to connect, directly or through the egress proxy, to a non-loopback address on a port mining pools commonly listen on (3333, 4444, 5555, 7777, 14433, 14444, 45560, 45700). The port alone is weaker evidence than a miner's name or a stratum URL, so this rule is high rather than critical.",
		Remediation: "Check which process made the connection (event PID and argv) and why; if it is not a service the stage is meant to use, treat it as a miner.",
	})
	RuleReverseShell = finding.Register(&finding.Rule{
		ID: "run/reverse-shell", Title: "Reverse shell", Severity: finding.Critical,
		Doc:         "A shell was started with its standard input or output connected to a TCP socket, or a command line built a reverse shell (bash -i >& /dev/tcp/HOST/PORT, nc -e, ncat --sh-exec, socat exec:, an inline Python/Perl/Ruby script that connects a socket and duplicates it onto a shell). This gives an outside party interactive control of the stage and everything it can reach.",
		Remediation: "Halt the pipeline, find the code that started the shell (event parent), and treat every secret and artifact the stage touched as exposed.",
	})
	RuleNetTool = finding.Register(&finding.Rule{
		ID: "run/network-tool-offline", Title: "Network tool in a no-network stage", Severity: finding.High,
		Doc:         "A stage that runs with --network none executed a network client or transfer tool (curl, wget, nc, ncat, netcat, socat, ssh, scp, sftp, telnet, ftp). The stage has no route out, so the call fails, but a stage that was declared offline has no reason to try: this is usually a download-and-execute or exfiltration attempt by a dependency.",
		Remediation: "Find which code ran the tool (event parent and argv). If the stage really needs the network, run it with --network allow and an explicit --allow-host list instead.",
	})
	RuleHTTPServer = finding.Register(&finding.Rule{
		ID: "run/http-server", Title: "Ad-hoc HTTP server started", Severity: finding.High,
		Doc:         "The stage started Python's built-in web server (python -m http.server or SimpleHTTPServer). Inside a pipeline this serves the working directory, including data sets, model weights and any secrets in it, to whoever can reach the runner.",
		Remediation: "Remove the server from the stage; pipeline stages exchange artifacts through declared outputs, not through servers.",
	})
	RuleMetadata = finding.Register(&finding.Rule{
		ID: "run/cloud-metadata", Title: "Cloud metadata service access", Severity: finding.Critical,
		Doc:         "The stage tried to reach a cloud instance-metadata service (169.254.169.254, fd00:ec2::254, 169.254.170.2, 100.100.100.200, metadata.google.internal), directly, through the proxy or named on a command line. The metadata service hands out the runner's cloud credentials; reaching it from a training stage is the classic step from code execution to cloud account takeover.",
		Remediation: "Block the metadata service for the runner (IMDSv2 with hop limit 1, or a firewall rule), keep the stage in a network namespace, and find the code that made the request.",
	})
	RuleHostSocket = finding.Register(&finding.Rule{
		ID: "run/host-socket-connect", Title: "Connection to a host service through a Unix socket", Severity: finding.High,
		Doc:         "The stage connected to a Unix-domain socket file of the host (outside its private /tmp and /dev/shm); the host's name-service sockets (nscd, systemd-resolved), which libc uses for lookups, are reported at medium severity since queries through them leave the sandbox as DNS. A network namespace does not cover Unix sockets, and the host's file system stays visible read-only, so a stage can still talk to host daemons this way: the Docker, containerd, Podman or CRI-O socket (root on the host: reported as critical, and stopped in enforce mode), a CI agent, D-Bus, a database. mlgate's own proxy socket is not reported.",
		Remediation: "Find the code that made the connection. Do not expose daemon sockets to pipeline stages; if the stage legitimately needs a local service, run that service inside the stage.",
	})
	RuleCredentials = finding.Register(&finding.Rule{
		ID: "run/credential-access", Title: "Credential hunting", Severity: finding.High,
		Doc:         "A command line named one of the runner's credential stores (~/.aws/credentials, ~/.netrc, ~/.git-credentials, ~/.docker/config.json, ~/.config/gcloud, the Hugging Face token, SSH keys, kubeconfig), read another process's environment (/proc/*/environ), or sent the environment to the network (env or printenv piped into curl, wget, nc). mlgate hides those files from the stage, so the read itself fails, but the attempt shows what the code is after.",
		Remediation: "Find the code that made the attempt; rotate the credentials it targeted if the stage ever ran without mlgate.",
	})
	RuleMemExec = finding.Register(&finding.Rule{
		ID: "run/exec-from-memory", Title: "Execution from memory or /dev/shm", Severity: finding.Critical,
		Doc:         "The stage executed a program from a file descriptor (execveat with AT_EMPTY_PATH, /proc/self/fd/N), from a memfd, from a deleted file, or from /dev/shm. Fileless execution is how droppers avoid leaving a binary on disk for scanners; legitimate stages run programs from installed paths.",
		Remediation: "Halt the stage and find the code that wrote and executed the payload (event parent).",
	})
	RuleSitePackages = finding.Register(&finding.Rule{
		ID: "run/site-packages-modified", Title: "Python packages changed during the stage", Severity: finding.High,
		Doc:         "Files were added, modified or removed in a Python site-packages or dist-packages directory while the stage ran. A training or evaluation stage has no reason to change installed packages; a change there persists into later stages and runs (package poisoning, .pth start-up hooks).",
		Remediation: "Rebuild the environment from a pinned lock file, and find which code wrote the files. Do not grant --rw on site-packages to a stage.",
	})
	RuleWatched = finding.Register(&finding.Rule{
		ID: "run/watched-path-changed", Title: "Watched path changed", Severity: finding.Low,
		Doc:         "A file in a tree named with --watch was added, modified or removed while the stage ran. Watches are for paths that should change only in known ways, such as the model output directory; this rule lists each change so it can be reviewed.",
		Remediation: "Check that the change is expected; if it is, record it in the stage's policy, otherwise find the process that made it.",
	})
	RuleOutputSymlink = finding.Register(&finding.Rule{
		ID: "run/output-symlink-escape", Title: "Symbolic link in an output pointing outside it", Severity: finding.High,
		Doc:         "The stage left a symbolic link in one of its --rw outputs (or a --watch tree) that points outside that tree: an absolute target, or a relative one that climbs out with \"..\". An absolute target inside the same tree, and a relative link that stays inside it, are not reported. A Python virtual environment created inside an output is reported for its bin/python links to the system interpreter: build environments do not belong in outputs that later jobs consume. The sandbox kept the stage from touching the target, but the link outlives the stage: a later job that reads the output (a signing, upload or deployment step, often with more privilege and no sandbox) follows it and reads or overwrites a file of the runner, such as its credentials or a CI script.",
		Remediation: "Find the code that made the link (file_changes in the report lists its target). Outputs should contain regular files; copy the target in, or make the link relative and inside the output. Later jobs should not follow links in artifacts (mlgate sign refuses them unless --allow-symlinks, and then only inside the model).",
	})
	RuleOutputHardlink = finding.Register(&finding.Rule{
		ID: "run/output-hardlink-escape", Title: "New file in an output is a hard link to a file elsewhere", Severity: finding.High,
		Doc:         "A file that appeared in one of the stage's --rw outputs during the run has more hard links than mlgate found names for inside the trees it watches: the same inode is also reachable from somewhere else on the runner. Writing to the output file (a later job updating or truncating it) writes that other file, and reading it reads that file. The sandbox's landlock policy keeps the stage itself from linking files from outside its writable trees into them, so this points to a sandbox layer that was not active or to another process on the runner working in the output while the stage ran. Links between files inside the watched trees are not reported.",
		Remediation: "Find which file the link shares its inode with (find / -xdev -samefile PATH), remove the output, and check that the landlock layer was active and that nothing else writes into the stage's output directories while it runs.",
	})
	RuleCredentialLinked = finding.Register(&finding.Rule{
		ID: "run/credential-hard-link", Title: "Hidden credential file has another hard link", Severity: finding.Medium,
		Doc:         "mlgate hides the runner's credential files from the stage by covering their paths. A credential file (or the signing key) that has another hard link is the same file under a second name, and that name is not covered: wherever it lies outside the hidden directories and is readable, the stage can read the credential through it. The report's credential layer lists the files concerned; mlgate cannot tell where the other names are without searching the whole file system.",
		Remediation: "Find the other names (find / -xdev -samefile PATH) and remove them, or move the credential so it has one link; backup tools and dotfile managers that hard-link files are the usual cause.",
	})
	RuleDuration = finding.Register(&finding.Rule{
		ID: "run/duration-anomaly", Title: "Stage ran far longer than its history", Severity: finding.Medium,
		Doc:         "The stage took more than three times the median of its recorded history (--history, at least three earlier runs). A build or training step that suddenly runs much longer is on the seed's checklist of signs of compromise: miners, exfiltration and brute force all cost time.",
		Remediation: "Compare the events of this run with a normal one; if the change is legitimate (more data, a new model), the new duration enters the history and the baseline adapts.",
	})
	RuleEgressDenied = finding.Register(&finding.Rule{
		ID: "run/egress-denied", Title: "Egress outside the allow-list", Severity: finding.High,
		Doc:         "The stage asked the egress proxy for a destination that is not on its --allow-host list, and the proxy refused it. Either the allow-list is incomplete or code in the stage is trying to reach somewhere it should not.",
		Remediation: "If the destination is legitimate, add it to the stage's policy (allow_hosts); otherwise find the code that made the request.",
	})
	RuleEgressPrivate = finding.Register(&finding.Rule{
		ID: "run/egress-private-address", Title: "Allowed host resolved to a private or internal address", Severity: finding.High,
		Doc:         "The stage asked the egress proxy for a host on its allow-list, but the name resolved only to addresses the proxy does not connect to: loopback (the runner's own services), private (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), shared (100.64.0.0/10), unique-local (fc00::/7), link-local, cloud metadata, unspecified or multicast, also in IPv4-mapped and NAT64 form. The proxy checks the addresses it resolved and dials one of them itself, so a DNS answer that changes between the check and the connection (DNS rebinding) cannot redirect it. Either the allowed name points into the runner's network, or its DNS has been tampered with to reach internal services from the stage.",
		Remediation: "Check what the name resolves to. If it is an internal mirror the stage should reach, run with --allow-private-egress (policy: allow_private_egress: true); metadata, link-local and multicast addresses stay refused even then.",
	})
	RuleUnexpectedExec = finding.Register(&finding.Rule{
		ID: "run/unexpected-executable", Title: "Executable outside the stage policy", Severity: finding.Medium,
		Doc:         "The stage's policy lists the programs it is expected to run (usually learned with mlgate run --learn), and the stage executed one that is not on the list.",
		Remediation: "If the program is expected, add it to the policy's executables; otherwise find the code that ran it.",
	})
	RuleModelWriter = finding.Register(&finding.Rule{
		ID: "run/unexpected-model-writer", Title: "Model output written by an unexpected process", Severity: finding.High,
		Doc:         "With --model-output DIR, every open for writing, creat, truncate, rename, link and symlink into DIR is attributed to the process that made it, and a process that is not an expected writer is reported. The expected writers are, by default, the stage's own top-level program (for a script, its interpreter; a program it executes in its own place, as env and shell wrappers do) and every process running the same executable (forked workers, multiprocessing); a policy's model_output.writers list replaces that default. A model file replaced by a shell, cp, curl or another helper after training is how a poisoned dependency swaps the artifact a later stage signs and ships; the before/after file comparison shows that the file changed, this rule shows who changed it. Reads of the directory are never reported.",
		Remediation: "Find the code that started the process (event PID, parent and argv). If the writer is legitimate (e.g. the training script copies the checkpoint with cp), add its executable to the policy's model_output.writers (mlgate run --learn records them); otherwise treat the model output as tampered and do not sign or publish it.",
	})
	RuleLayerMissing = finding.Register(&finding.Rule{
		ID: "run/isolation-layer-missing", Title: "Isolation layer not active", Severity: finding.Medium,
		Doc:         "One of the isolation or monitoring layers mlgate run applies could not be put in place on this runner (the report's layer list says why: kernel too old, landlock disabled at boot, user namespaces forbidden). The stage ran with less protection than its policy assumes, and what that layer would have caught may be missing from the report.",
		Remediation: "Enable the missing feature on the runner (kernel version, lsm=landlock, user.max_user_namespaces), or run the stage on a runner that has it.",
	})
)

// Known miner executables (lower case, matched on the base name, with or
// without a version or platform suffix after a dash or dot).
var minerNames = []string{
	"xmrig", "xmr-stak", "xmr-stak-cpu", "xmr-stak-rx", "minerd", "cpuminer", "cpuminer-multi", "cpuminer-opt",
	"ethminer", "t-rex", "nbminer", "lolminer", "phoenixminer", "teamredminer", "gminer", "nanominer",
	"srbminer", "srbminer-multi", "cgminer", "bfgminer", "ccminer", "nheqminer", "xmrminer", "kdevtmpfsi", "kinsing",
}

var poolDomains = []string{
	"minexmr.com", "supportxmr.com", "nanopool.org", "moneroocean.stream", "2miners.com", "f2pool.com",
	"ethermine.org", "hashvault.pro", "c3pool.com", "minergate.com", "nicehash.com", "herominers.com",
	"xmrpool.eu", "monerohash.com", "dwarfpool.com", "miningpoolhub.com", "unmineable.com", "zergpool.com",
}

var poolPorts = map[int]bool{3333: true, 4444: true, 5555: true, 7777: true, 14433: true, 14444: true, 45560: true, 45700: true}

var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true, "ash": true, "fish": true, "tcsh": true, "csh": true, "busybox": true, "rbash": true}

var netTools = map[string]bool{"curl": true, "wget": true, "nc": true, "ncat": true, "netcat": true, "socat": true, "ssh": true, "scp": true, "sftp": true, "telnet": true, "ftp": true, "nc.openbsd": true, "nc.traditional": true}

var metadataAddrs = map[string]bool{"169.254.169.254": true, "fd00:ec2::254": true, "169.254.170.2": true, "100.100.100.200": true}
var metadataHosts = map[string]bool{"metadata.google.internal": true, "metadata.goog": true, "169.254.169.254": true, "instance-data": true, "instance-data.ec2.internal": true}

// credentialFragments name credential stores on a command line.
var credentialFragments = []string{
	".aws/credentials", ".aws/config", ".netrc", ".git-credentials", ".docker/config.json", ".config/gcloud",
	"huggingface/token", ".ssh/id_rsa", ".ssh/id_ed25519", ".ssh/id_ecdsa", ".kube/config", ".pypirc", ".npmrc",
	".azure/accessTokens.json", "application_default_credentials.json",
}

var (
	envToNet     = regexp.MustCompile(`(^|[\s;&|(])(env|printenv)\b[^|;&]*\|\s*(\S*/)?(curl|wget|nc|ncat|netcat|socat|ssh)\b`)
	devTCP       = regexp.MustCompile(`/dev/(tcp|udp)/[^/\s]+/\d+`)
	procEnviron  = regexp.MustCompile(`/proc/(\d+|self|\*)/environ`)
	scriptSocket = regexp.MustCompile(`socket`)
	scriptShell  = regexp.MustCompile(`pty\.spawn|dup2\s*\(|\bexec\s*\(\s*["']/bin/(ba)?sh|subprocess\.(call|Popen|run)\s*\(\s*\[\s*["']/bin/(ba)?sh`)
)

// detector runs the rules; it keeps the first finding of each
// fingerprint.
type detector struct {
	o      *Options
	seen   map[string]bool
	expect map[string]bool
	// dropped counts findings past maxFindings.
	dropped int
	// modelRoots are the model output as given and resolved; topPID is
	// the stage's top-level process (the PID of the first exec) and
	// topExes the executables it has run; resolveExe lists what an exec
	// path stands for (the file itself, its resolved path, a script's
	// interpreter).
	modelRoots []string
	topPID     int
	topExes    map[string]bool
	resolveExe func(string) []string
}

// maxFindings bounds the findings (and the memory of seen fingerprints) a
// hostile stage can cause.
const maxFindings = 10000

func newDetector(o *Options) *detector {
	d := &detector{o: o, seen: map[string]bool{}, topExes: map[string]bool{}, resolveExe: resolveExecutable}
	d.modelRoots = modelRoots(o.ModelOutput)
	if len(o.Executables) > 0 {
		d.expect = map[string]bool{}
		for _, e := range o.Executables {
			d.expect[e] = true
		}
	}
	return d
}

func (d *detector) add(out []finding.Finding, r *finding.Rule, loc, msg, evidence string) []finding.Finding {
	if len(evidence) > 400 {
		evidence = evidence[:400] + "..."
	}
	f := r.New(finding.Location{Logical: loc}, msg, evidence)
	if d.seen[f.Fingerprint] {
		return out
	}
	if len(d.seen) >= maxFindings {
		d.dropped++
		return out
	}
	d.seen[f.Fingerprint] = true
	return append(out, f)
}

// base returns the lower-case base name of an executable path.
func base(p string) string {
	if i := strings.Index(p, " -> "); i >= 0 {
		p = p[:i]
	}
	return strings.ToLower(filepath.Base(p))
}

func isMinerName(b string) bool {
	for _, m := range minerNames {
		if b == m {
			return true
		}
		if rest, ok := strings.CutPrefix(b, m); ok && (rest[0] == '-' || rest[0] == '.' || rest[0] == '_') {
			return true
		}
	}
	return false
}

func isPoolDomain(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	for _, d := range poolDomains {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

func isLoopback(addr string) bool {
	return strings.HasPrefix(addr, "127.") || addr == "::1" || addr == "localhost"
}

// hasFragment finds frag in s as a path component sequence: preceded by
// the start or a separator ('/', space, quote, '=', '~'; also '.' when
// frag does not itself start with a dot) and followed by the end or a
// shell separator.
func hasFragment(s, frag string) bool {
	before := "/ \"'=~"
	if frag[0] != '.' {
		before += "."
	}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], frag)
		if j < 0 {
			return false
		}
		j += i
		k := j + len(frag)
		if (j == 0 || strings.IndexByte(before, s[j-1]) >= 0) && (k == len(s) || strings.IndexByte(" \"';|&>)<\t\n", s[k]) >= 0) {
			return true
		}
		i = j + 1
	}
	return false
}

// inlineScript returns the code of `python -c CODE`, `perl -e CODE` and
// similar, or "".
func inlineScript(argv []string) string {
	if len(argv) < 3 {
		return ""
	}
	b := base(argv[0])
	var flag string
	switch {
	case strings.HasPrefix(b, "python"), strings.HasPrefix(b, "pypy"):
		flag = "-c"
	case strings.HasPrefix(b, "perl"), strings.HasPrefix(b, "ruby"), b == "node", b == "php":
		flag = "-e"
		if b == "php" {
			flag = "-r"
		}
	default:
		return ""
	}
	for i := 1; i+1 < len(argv); i++ {
		if argv[i] == flag {
			return argv[i+1]
		}
	}
	return ""
}

// shellScript returns the script of `sh -c SCRIPT`, or "".
func shellScript(argv []string) string {
	if len(argv) < 3 || !shells[base(argv[0])] {
		return ""
	}
	for i := 1; i+1 < len(argv); i++ {
		if argv[i] == "-c" || (strings.HasPrefix(argv[i], "-") && !strings.HasPrefix(argv[i], "--") && strings.Contains(argv[i], "c")) {
			return argv[i+1]
		}
	}
	return ""
}

// event runs the event rules on one event.
func (d *detector) event(ev *Event) []finding.Finding {
	var out []finding.Finding
	switch ev.Kind {
	case EventExec:
		if d.topPID == 0 {
			d.topPID = ev.PID
		}
		if len(d.modelRoots) > 0 && ev.PID == d.topPID && ev.PID != 0 && len(d.topExes) < 64 {
			p := ev.Path
			if !filepath.IsAbs(p) && d.o.Dir != "" {
				p = filepath.Join(d.o.Dir, p)
			}
			for _, x := range d.resolveExe(p) {
				d.topExes[x] = true
			}
		}
		out = d.execRules(ev, out)
	case EventWrite:
		out = d.writeRules(ev, out)
	case EventConnect, EventSendto:
		if ev.Family == "unix" && ev.Kind == EventConnect {
			return d.hostSocket(ev, out)
		}
		if ev.Family != "inet" && ev.Family != "inet6" {
			return nil
		}
		dest := ev.Addr + ":" + strconv.Itoa(ev.Port)
		loc := "connect " + dest
		who := fmt.Sprintf("pid %d (%s)", ev.PID, ev.Comm)
		if metadataAddrs[ev.Addr] {
			out = d.add(out, RuleMetadata, loc, who+" connected to the cloud metadata service at "+dest, dest)
		}
		if poolPorts[ev.Port] && !isLoopback(ev.Addr) {
			out = d.add(out, RulePoolPort, loc, who+" connected to "+dest+", a common mining-pool port", dest)
		}
	case EventEgress:
		dest := ev.Host + ":" + strconv.Itoa(ev.Port)
		loc := "egress " + dest
		if metadataHosts[ev.Host] || metadataAddrs[ev.Host] || metadataAddrs[ev.Addr] {
			out = d.add(out, RuleMetadata, loc, "the stage asked the proxy for the cloud metadata service "+dest, dest)
		}
		if isPoolDomain(ev.Host) {
			out = d.add(out, RuleMiner, loc, "the stage asked the proxy for the mining pool "+dest, dest)
		} else if poolPorts[ev.Port] && !isLoopback(ev.Host) {
			out = d.add(out, RulePoolPort, loc, "the stage asked the proxy for "+dest+", a common mining-pool port", dest)
		}
		switch {
		case ev.Allowed == nil || *ev.Allowed:
		case ev.AddrClass != "":
			out = d.add(out, RuleEgressPrivate, loc, "the proxy refused "+ev.Method+" "+dest+": "+ev.Reason, dest+" -> "+ev.Addr)
		default:
			out = d.add(out, RuleEgressDenied, loc, "the proxy refused "+ev.Method+" "+dest+": "+ev.Reason, dest)
		}
	}
	return out
}

func (d *detector) execRules(ev *Event, out []finding.Finding) []finding.Finding {
	name := base(ev.Path)
	argv0 := ""
	if len(ev.Argv) > 0 {
		argv0 = base(ev.Argv[0])
	}
	cmdline := strings.Join(ev.Argv, " ")
	loc := "exec " + ev.Path
	who := fmt.Sprintf("pid %d", ev.PID)
	if ev.PPID > 0 {
		who += fmt.Sprintf(" (parent %d)", ev.PPID)
	}
	evidence := cmdline
	if evidence == "" {
		evidence = ev.Path
	}

	if isMinerName(name) || isMinerName(argv0) {
		out = d.add(out, RuleMiner, loc, who+" executed "+ev.Path+", named like a cryptocurrency miner", evidence)
	}
	lc := strings.ToLower(cmdline)
	for _, s := range []string{"stratum+tcp://", "stratum+ssl://", "stratum+tls://", "stratum2+tcp://", "stratum1+tcp://"} {
		if strings.Contains(lc, s) {
			out = d.add(out, RuleMiner, loc, who+" was given a mining-pool URL ("+s+")", evidence)
			break
		}
	}
	for _, a := range ev.Argv {
		for _, dom := range poolDomains {
			if strings.Contains(strings.ToLower(a), dom) {
				out = d.add(out, RuleMiner, loc, who+" named the mining pool "+dom+" on its command line", evidence)
			}
		}
	}

	// Reverse shells.
	exe := name
	if shells[argv0] {
		exe = argv0
	}
	if shells[exe] && len(ev.Stdio) >= 2 && (ev.Stdio[0] == "tcp" || ev.Stdio[1] == "tcp") {
		out = d.add(out, RuleReverseShell, loc, who+" started the shell "+ev.Path+" with its standard input/output on a TCP socket", evidence+" [stdio: "+strings.Join(ev.Stdio, ",")+"]")
	}
	script := shellScript(ev.Argv)
	if devTCP.MatchString(cmdline) && (shells[exe] || script != "") {
		out = d.add(out, RuleReverseShell, loc, who+" redirected a shell to /dev/tcp", evidence)
	}
	if netcat := name == "nc" || name == "ncat" || name == "netcat" || strings.HasPrefix(name, "nc."); netcat {
		for _, a := range ev.Argv[min(1, len(ev.Argv)):] {
			if a == "-e" || a == "-c" || a == "--exec" || a == "--sh-exec" || a == "--lua-exec" || strings.HasPrefix(a, "--exec=") || strings.HasPrefix(a, "--sh-exec=") || (strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], "ec") && len(a) <= 6) {
				out = d.add(out, RuleReverseShell, loc, who+" ran netcat with a program attached to the connection ("+a+")", evidence)
				break
			}
		}
	}
	if name == "socat" {
		for _, a := range ev.Argv[min(1, len(ev.Argv)):] {
			la := strings.ToLower(a)
			if strings.HasPrefix(la, "exec:") || strings.HasPrefix(la, "system:") {
				out = d.add(out, RuleReverseShell, loc, who+" ran socat with a program attached to the connection", evidence)
				break
			}
		}
	}
	if code := inlineScript(ev.Argv); code != "" && scriptSocket.MatchString(code) && scriptShell.MatchString(code) {
		out = d.add(out, RuleReverseShell, loc, who+" ran an inline script that connects a socket to a shell", evidence)
	}

	if d.o.Network == NetworkNone && netTools[name] {
		out = d.add(out, RuleNetTool, loc, who+" executed the network tool "+name+" in a stage without network", evidence)
	}

	if strings.HasPrefix(name, "python") || strings.HasPrefix(argv0, "python") || strings.HasPrefix(name, "pypy") {
		for i := 1; i+1 < len(ev.Argv); i++ {
			if ev.Argv[i] == "-m" && (ev.Argv[i+1] == "http.server" || ev.Argv[i+1] == "SimpleHTTPServer") {
				out = d.add(out, RuleHTTPServer, loc, who+" started python -m "+ev.Argv[i+1], evidence)
			}
		}
	}

	for _, a := range ev.Argv {
		la := strings.ToLower(a)
		for m := range metadataAddrs {
			if strings.Contains(la, m) {
				out = d.add(out, RuleMetadata, loc, who+" named the cloud metadata address "+m+" on its command line", evidence)
			}
		}
		if strings.Contains(la, "metadata.google.internal") {
			out = d.add(out, RuleMetadata, loc, who+" named metadata.google.internal on its command line", evidence)
		}
	}

	for _, a := range ev.Argv[min(1, len(ev.Argv)):] {
		for _, frag := range credentialFragments {
			if hasFragment(a, frag) {
				out = d.add(out, RuleCredentials, loc, who+" named the credential store "+frag, evidence)
			}
		}
		if procEnviron.MatchString(a) {
			out = d.add(out, RuleCredentials, loc, who+" read a process environment ("+procEnviron.FindString(a)+")", evidence)
		}
	}
	if script != "" && envToNet.MatchString(script) {
		out = d.add(out, RuleCredentials, loc, who+" piped the environment into a network tool", evidence)
	}
	if (name == "env" || name == "printenv") && len(ev.Stdio) >= 2 && (ev.Stdio[1] == "tcp" || ev.Stdio[1] == "socket") {
		out = d.add(out, RuleCredentials, loc, who+" wrote the environment to a socket", evidence)
	}

	lp := strings.ToLower(ev.Path)
	switch {
	case ev.FromFD:
		out = d.add(out, RuleMemExec, loc, who+" executed a program from a file descriptor ("+ev.Path+")", evidence)
	case strings.HasPrefix(ev.Path, "/dev/shm/"):
		out = d.add(out, RuleMemExec, loc, who+" executed a program from /dev/shm", evidence)
	case strings.Contains(lp, "memfd:"), strings.HasSuffix(ev.Path, " (deleted)"):
		out = d.add(out, RuleMemExec, loc, who+" executed a memfd or deleted file", evidence)
	}

	if d.expect != nil && !d.expect[ev.Path] && !d.expect[name] {
		out = d.add(out, RuleUnexpectedExec, loc, who+" executed "+ev.Path+", which the policy does not list", ev.Path)
	}
	return out
}

// Layers whose absence is not a weakness (by design or by choice).
var optionalLayers = map[string]bool{LayerEgressProxy: true, LayerCgroup: true}

// final runs the whole-run rules.
func (d *detector) final(res *Result) []finding.Finding {
	var out []finding.Finding
	watched := map[string]bool{}
	for _, w := range d.o.Watch {
		watched[w] = true
	}
	for _, c := range res.FileChanges {
		rb := filepath.Base(c.Root)
		if rb == "site-packages" || rb == "dist-packages" || strings.Contains(c.Path, "/site-packages/") || strings.Contains(c.Path, "/dist-packages/") {
			out = d.add(out, RuleSitePackages, "file "+c.Path, fmt.Sprintf("%s was %s in %s during the stage", c.Path, c.Change, c.Root), c.Change+" "+c.Path)
			continue
		}
		for w := range watched {
			if under(c.Path, w) {
				out = d.add(out, RuleWatched, "file "+c.Path, fmt.Sprintf("%s was %s in the watched tree %s", c.Path, c.Change, w), c.Change+" "+c.Path)
				break
			}
		}
	}
	out = d.outputLinks(res, out)
	for _, h := range res.HiddenLinked {
		p := h
		if i := strings.LastIndex(p, " ("); i > 0 {
			p = p[:i]
		}
		out = d.add(out, RuleCredentialLinked, "file "+p, h+" is hidden from the stage, but its other hard links are not: the stage can read it through them where they are readable", h)
	}
	if med, ok := median(d.o.History); ok && len(d.o.History) >= 3 && res.Duration > 3*med {
		out = d.add(out, RuleDuration, "stage "+strings.Join(res.Command, " "),
			fmt.Sprintf("the stage took %s; the median of its %d recorded runs is %s", res.Duration.Round(time.Millisecond), len(d.o.History), med.Round(time.Millisecond)),
			fmt.Sprintf("more than 3x the median of %d runs", len(d.o.History)))
	}
	stageRan := len(res.Events) > 0 || len(res.Errors) == 0
	for _, l := range res.Layers {
		if !stageRan || l.Active || optionalLayers[l.Name] {
			continue
		}
		if l.Name == LayerNetNS && d.o.Network == NetworkHost {
			continue
		}
		if (l.Name == LayerExecMonitor || l.Name == LayerConnectMon || l.Name == LayerWriteMonitor) && d.o.NoMonitor {
			continue
		}
		if l.Name == LayerWriteMonitor && len(d.o.RW) == 0 && d.o.ModelOutput == "" {
			continue
		}
		if l.Name == LayerUserNS && d.o.NoUserNS {
			continue
		}
		out = d.add(out, RuleLayerMissing, "layer "+l.Name, "the "+l.Name+" layer was not active: "+l.Reason, l.Name)
	}
	return out
}

func median(ds []time.Duration) (time.Duration, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	s := append([]time.Duration{}, ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], true
}

// containerSockets are daemon sockets that give root on the host.
var containerSockets = []string{"docker.sock", "containerd.sock", "podman.sock", "crio.sock", "dockershim.sock", "buildkitd.sock"}

// hostSocket reports a connect to a Unix socket file outside the stage's
// private directories. Abstract sockets (@name) are confined by landlock
// and mlgate's own proxy socket is reached through /proc/self/fd.
func (d *detector) hostSocket(ev *Event, out []finding.Finding) []finding.Finding {
	p := ev.Addr
	if p == "" || strings.HasPrefix(p, "@") || strings.HasPrefix(p, "/proc/self/fd/") ||
		p == "/tmp" || strings.HasPrefix(p, "/tmp/") || strings.HasPrefix(p, "/dev/shm/") {
		return out
	}
	who := fmt.Sprintf("pid %d (%s)", ev.PID, ev.Comm)
	n := len(out)
	out = d.add(out, RuleHostSocket, "connect unix:"+p, who+" connected to the host's Unix socket "+p, p)
	if len(out) == n {
		return out
	}
	f := &out[len(out)-1]
	for _, c := range containerSockets {
		if base(p) == c {
			f.Severity = finding.Critical
			f.Message += ", a container daemon that gives root on the host"
		}
	}
	if resolverSockets[p] {
		// libc asks the host's name-service cache or resolver: routine, but
		// a DNS query through the host still leaves the sandbox.
		f.Severity = finding.Medium
		f.Message += " (the host's name resolver: lookups made through it leave the sandbox as DNS queries)"
	}
	return out
}

// resolverSockets are the host name-service sockets libc itself connects to.
var resolverSockets = map[string]bool{
	"/var/run/nscd/socket": true, "/run/nscd/socket": true,
	"/run/systemd/resolve/io.systemd.Resolve": true, "/run/systemd/userdb/io.systemd.DynamicUser": true,
}

// outputLinks reports symbolic links that leave their output or watched
// tree, and new hard links to files outside every watched tree.
func (d *detector) outputLinks(res *Result, out []finding.Finding) []finding.Finding {
	for _, c := range res.FileChanges {
		if c.Change == ChangeRemoved {
			continue
		}
		rwTree := treeOf(c.Path, d.o.RW)
		tree := rwTree
		if tree == "" {
			tree = treeOf(c.Path, d.o.Watch)
		}
		if tree == "" {
			continue
		}
		switch {
		case c.Type == FileTypeSymlink && c.Target != "":
			if why := symlinkEscape(c.Path, c.Target, tree); why != "" {
				out = d.add(out, RuleOutputSymlink, "file "+c.Path,
					fmt.Sprintf("%s was left as a symbolic link to %s, %s %s", c.Path, c.Target, why, tree), c.Path+" -> "+c.Target)
			}
		case c.Type == FileTypeRegular && c.Change == ChangeAdded && c.Nlink > 1 && uint64(c.NamesSeen) < c.Nlink && rwTree != "":
			out = d.add(out, RuleOutputHardlink, "file "+c.Path,
				fmt.Sprintf("%s appeared with %d hard links, but only %d of its names are inside the watched trees: it is also reachable outside them", c.Path, c.Nlink, c.NamesSeen),
				fmt.Sprintf("%s nlink=%d", c.Path, c.Nlink))
		}
	}
	return out
}

// treeOf returns the most specific of roots that contains p, or "".
func treeOf(p string, roots []string) string {
	best := ""
	for _, r := range roots {
		if under(p, r) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// symlinkEscape says how a link at path with target leaves tree ("" when
// it stays inside). The check is lexical, as a later reader of a copy of
// the output would resolve it; links to links are each checked when the
// stage made them.
func symlinkEscape(path, target, tree string) string {
	if filepath.IsAbs(target) {
		if under(filepath.Clean(target), tree) {
			return ""
		}
		return "an absolute target outside"
	}
	if !under(filepath.Clean(filepath.Join(filepath.Dir(path), target)), tree) {
		return "a relative target that climbs out of"
	}
	return ""
}

// modelRoots returns the model output directory, cleaned, and its
// resolved form when that differs.
func modelRoots(dir string) []string {
	if dir == "" {
		return nil
	}
	dir = filepath.Clean(dir)
	out := []string{dir}
	if r, err := filepath.EvalSymlinks(dir); err == nil && r != dir {
		out = append(out, r)
	}
	return out
}

// resolveExecutable lists the executables an exec of p runs: p, its
// resolved path and, for a script, its interpreter (resolved too). An
// "env" interpreter is not followed: env executes the real one in its
// place, which the monitor sees as another exec of the same process.
func resolveExecutable(p string) []string {
	out := []string{p}
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return out
	}
	if r != p {
		out = append(out, r)
	}
	f, err := os.Open(r)
	if err != nil {
		return out
	}
	defer f.Close()
	b := make([]byte, 256)
	n, _ := io.ReadFull(f, b)
	line, ok := bytes.CutPrefix(b[:n], []byte("#!"))
	if !ok {
		return out
	}
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	fs := strings.Fields(string(line))
	if len(fs) == 0 || !filepath.IsAbs(fs[0]) || base(fs[0]) == "env" {
		return out
	}
	out = append(out, fs[0])
	if ri, err := filepath.EvalSymlinks(fs[0]); err == nil && ri != fs[0] {
		out = append(out, ri)
	}
	return out
}

// expectedWriter says whether the process of a write event may write
// the model output.
func (d *detector) expectedWriter(ev *Event) bool {
	if len(d.o.ModelWriters) > 0 {
		return matchesWriter(d.o.ModelWriters, ev.Exe)
	}
	if ev.PID != 0 && ev.PID == d.topPID {
		if ev.Exe != "" && len(d.topExes) < 64 {
			d.topExes[ev.Exe] = true
		}
		return true
	}
	return ev.Exe != "" && d.topExes[ev.Exe]
}

// matchesWriter matches exe against policy globs; a pattern without '/'
// is matched against the base name.
func matchesWriter(globs []string, exe string) bool {
	if exe == "" {
		return false
	}
	for _, g := range globs {
		subject := exe
		if !strings.Contains(g, "/") {
			subject = filepath.Base(exe)
		}
		if g == subject {
			return true
		}
		if ok, err := path.Match(g, subject); err == nil && ok {
			return true
		}
	}
	return false
}

func (d *detector) writeRules(ev *Event, out []finding.Finding) []finding.Finding {
	if len(d.modelRoots) == 0 {
		return out
	}
	target := ""
	switch {
	case underAny(ev.Path, d.modelRoots):
		target = ev.Path
	case ev.Op == OpRename && underAny(ev.From, d.modelRoots):
		target = ev.From // moved out of the model output
	default:
		return out
	}
	if d.expectedWriter(ev) {
		return out
	}
	exe := ev.Exe
	if exe == "" {
		exe = "an unknown executable (the process was gone before it could be read)"
	}
	who := fmt.Sprintf("pid %d", ev.PID)
	if ev.PPID > 0 {
		who += fmt.Sprintf(" (parent %d)", ev.PPID)
	}
	what := map[string]string{
		OpOpen: "opened " + ev.Path + " for writing", OpRename: "renamed " + ev.From + " to " + ev.Path,
		OpLink: "linked " + ev.From + " as " + ev.Path, OpSymlink: "created the symbolic link " + ev.Path + " -> " + ev.From,
		OpTruncate: "truncated " + ev.Path,
	}[ev.Op]
	if what == "" {
		what = "wrote " + ev.Path
	}
	expected := "the stage's top-level program"
	if len(d.o.ModelWriters) > 0 {
		expected = "the policy's writers (" + strings.Join(d.o.ModelWriters, ", ") + ")"
	} else if len(d.topExes) > 0 {
		expected += " (" + strings.Join(sortedKeys(d.topExes), ", ") + ")"
	}
	msg := fmt.Sprintf("%s running %s %s in the model output; expected writers: %s", who, exe, what, expected)
	evidence := ev.Op + " " + target + " by " + ev.Exe
	if len(ev.Argv) > 0 {
		evidence += " [" + strings.Join(ev.Argv, " ") + "]"
	}
	return d.add(out, RuleModelWriter, "file "+target, msg, evidence)
}
