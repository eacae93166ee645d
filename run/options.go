package run

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mlgate/mlgate/finding"
)

// Options describe one stage run.
type Options struct {
	// Argv is the stage command; Argv[0] is looked up in the stage's PATH.
	Argv []string
	// Dir is the working directory (default: the current one).
	Dir string
	// Network is NetworkNone (default), NetworkAllow or NetworkHost.
	Network string
	// AllowHosts is the egress allow-list for NetworkAllow.
	AllowHosts []HostRule
	// RW are paths the stage may write; RO are paths bind-mounted
	// read-only (carve-outs inside RW trees).
	RW, RO []string
	// AllowCredentials are credential paths not to hide.
	AllowCredentials []string
	// Env names non-secret variables to pass through in addition to the
	// default allow-list; Secrets names secrets to pass. Both are looked
	// up in the supervisor's environment.
	Env, Secrets []string
	// Watch are trees hashed before and after the run; the RW paths and,
	// unless NoDefaultWatch, the Python site-packages directories found on
	// the runner are added.
	Watch          []string
	NoDefaultWatch bool
	// Mode is ModeAudit (default) or ModeEnforce.
	Mode string
	// History are the durations of earlier runs of this stage.
	History []time.Duration
	// Executables, when not empty, are the programs the stage is expected
	// to run (from a learned policy); anything else is reported.
	Executables []string
	// ModelOutput is the directory the stage writes its model to (""
	// when none is declared). It is writable (added to RW) and watched,
	// and every write into it is attributed to a process and checked by
	// run/unexpected-model-writer.
	ModelOutput string
	// ModelWriters are glob patterns (path.Match) of the executables
	// allowed to write into ModelOutput; a pattern without '/' matches
	// the base name. When empty, the expected writers are the stage's
	// own top-level program (following interpreters) and processes
	// running the same executable.
	ModelWriters []string
	// Timeout kills the stage after this long (0: no limit).
	Timeout time.Duration
	// Stdin, Stdout and Stderr are the stage's standard streams.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// AllowPrivateEgress lets allowed names reach loopback, private
	// (RFC 1918), shared (100.64.0.0/10) and unique-local addresses
	// through the proxy (internal mirrors). Cloud metadata, link-local,
	// unspecified, multicast and reserved addresses stay refused.
	AllowPrivateEgress bool
	// Dial replaces the proxy's outbound dialer (tests). It is given an
	// IP literal and port.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolve replaces the proxy's name lookup (tests).
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// NoUserNS runs without a user namespace; only possible as root.
	NoUserNS bool
	// NoMonitor disables the exec/connect monitor (for overhead figures).
	NoMonitor bool
	// Hide are more paths to hide from the stage like credential files
	// (mlgate run hides its own signing key this way).
	Hide []string
	// Home is the runner's home directory (default $HOME).
	Home string
	// Environ is the supervisor's environment (default os.Environ()).
	Environ []string
}

// Result is what a run produced.
type Result struct {
	Command []string `json:"command"`
	Mode    string   `json:"mode"`
	Network string   `json:"network"`
	// Verdict is "clean", "findings", "halted" or "error".
	Verdict    string `json:"verdict"`
	HaltReason string `json:"halt_reason,omitempty"`
	// ExitCode is the stage's exit status (128+signal when killed).
	ExitCode int           `json:"exit_code"`
	Signal   string        `json:"signal,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Layers   []Layer       `json:"layers"`
	// Env lists the names of the variables the stage received.
	Env           []string `json:"env"`
	Events        []Event  `json:"events"`
	EventsDropped int      `json:"events_dropped,omitempty"`
	// ExecsNotFound counts execve calls of paths that did not exist
	// (answered ENOENT by the supervisor, as the kernel would have; a
	// PATH search makes one per directory tried). They are not listed.
	ExecsNotFound int `json:"execs_not_found,omitempty"`
	// WritesUnwatched counts write events (opens for writing, renames,
	// links, truncations) outside the watched trees and the model output:
	// checked by nothing and not listed, to keep the report bounded.
	WritesUnwatched int      `json:"writes_unwatched,omitempty"`
	Watched         []string `json:"watched"`
	// ReadOnlyTrees are default watch trees (site-packages) not walked
	// because landlock keeps them read-only for the stage.
	ReadOnlyTrees []string `json:"read_only_trees,omitempty"`
	// Dir is the stage's working directory and Outputs its --rw paths
	// (absolute).
	Dir         string       `json:"dir"`
	Outputs     []string     `json:"outputs"`
	FileChanges []FileChange `json:"file_changes"`
	// HiddenLinked lists hidden credential files that have other hard
	// links ("PATH (N links)"): hiding covers a path, not the file.
	HiddenLinked []string          `json:"hidden_linked,omitempty"`
	Findings     []finding.Finding `json:"-"`
	Errors       []string          `json:"errors,omitempty"`
}

// Verdicts.
const (
	VerdictClean    = "clean"
	VerdictFindings = "findings"
	VerdictHalted   = "halted"
	VerdictError    = "error"
)

// DefaultEnv is the environment allow-list: variables passed to every
// stage when set. Everything else is dropped unless named with Env or
// Secrets.
var DefaultEnv = []string{
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
	"LC_NUMERIC", "LC_TIME", "LC_COLLATE", "TERM", "TZ", "COLUMNS", "LINES", "NO_COLOR",
	"CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES",
	"ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES",
	"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
	"PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "VIRTUAL_ENV", "CONDA_PREFIX",
	"HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE",
	"CI", "GOPATH", "GOCACHE", "GOFLAGS", "GOROOT",
}

// CredentialPaths are the runner's credential files and directories,
// relative to its home, hidden from every stage unless granted.
var CredentialPaths = []string{
	".aws", ".config/gcloud", ".docker", ".netrc", ".git-credentials", ".cache/huggingface/token",
	".huggingface/token", ".ssh", ".kube", ".azure", ".config/gh", ".pypirc", ".npmrc",
	".kaggle", ".config/kaggle", ".vault-token", ".s3cfg", ".boto", ".config/rclone", ".gnupg",
	".cargo/credentials", ".cargo/credentials.toml", ".m2/settings.xml", ".gradle/gradle.properties",
	".config/containers/auth.json", ".terraform.d", ".databrickscfg",
}

// credentialPathsAbs are credential locations outside the home directory:
// the Hugging Face token under $HF_HOME, and the secrets orchestrators
// mount under /run/secrets.
func credentialPathsAbs() []string {
	out := []string{"/run/secrets"}
	if hf := os.Getenv("HF_HOME"); hf != "" && filepath.IsAbs(hf) {
		out = append(out, filepath.Join(hf, "token"))
	}
	return out
}

// buildEnv applies the allow-list to environ.
func buildEnv(environ, extra, secrets []string) (env, names []string) {
	want := map[string]bool{}
	for _, n := range DefaultEnv {
		want[n] = true
	}
	for _, n := range extra {
		want[n] = true
	}
	for _, n := range secrets {
		want[n] = true
	}
	seen := map[string]bool{}
	for _, kv := range environ {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !want[k] || seen[k] {
			continue
		}
		seen[k] = true
		env = append(env, kv)
		names = append(names, k)
	}
	env = append(env, "TMPDIR=/tmp")
	names = append(names, "TMPDIR")
	sort.Strings(names)
	return env, names
}

// expandHome turns a leading ~ into home and makes p absolute and clean.
func expandHome(p, home string) string {
	if p == "~" {
		p = home
	} else if rest, ok := strings.CutPrefix(p, "~/"); ok {
		p = filepath.Join(home, rest)
	}
	if a, err := filepath.Abs(p); err == nil {
		p = a
	}
	return filepath.Clean(p)
}

// credentialPaths are the absolute credential paths to hide.
func credentialPaths(home string, allow []string) []string {
	granted := map[string]bool{}
	for _, a := range allow {
		granted[expandHome(a, home)] = true
	}
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if granted[p] || seen[p] {
			return
		}
		seen[p] = true
		// Resolve symlinks so the mount lands on the real file.
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		out = append(out, p)
	}
	for _, h := range []string{home, "/root"} {
		if h == "" {
			continue
		}
		for _, rel := range CredentialPaths {
			add(filepath.Join(h, rel))
		}
	}
	for _, p := range credentialPathsAbs() {
		add(p)
	}
	return out
}

func homeDir(o *Options) string {
	if o.Home != "" {
		return o.Home
	}
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return ""
}
