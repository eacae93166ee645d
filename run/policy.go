package run

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Policy is a stage's run policy as kept in the repository (YAML). Every
// field mirrors a flag of mlgate run; flags given on the command line are
// added to lists and override scalars.
type Policy struct {
	Version    int      `yaml:"version,omitempty"`
	Mode       string   `yaml:"mode,omitempty"`
	Network    string   `yaml:"network,omitempty"`
	AllowHosts []string `yaml:"allow_hosts,omitempty"`
	// AllowPrivateEgress lets allowed names resolve to private and
	// loopback addresses (internal mirrors).
	AllowPrivateEgress bool     `yaml:"allow_private_egress,omitempty"`
	RW                 []string `yaml:"rw,omitempty"`
	RO                 []string `yaml:"ro,omitempty"`
	AllowCredentials   []string `yaml:"allow_credentials,omitempty"`
	Env                []string `yaml:"env,omitempty"`
	Secrets            []string `yaml:"secrets,omitempty"`
	Watch              []string `yaml:"watch,omitempty"`
	NoDefaultWatch     bool     `yaml:"no_default_watch,omitempty"`
	History            string   `yaml:"history,omitempty"`
	Timeout            string   `yaml:"timeout,omitempty"`
	Executables        []string `yaml:"executables,omitempty"`
	// ModelOutput declares the model output directory and who may write
	// it (run/unexpected-model-writer).
	ModelOutput *ModelOutputPolicy `yaml:"model_output,omitempty"`
}

// ModelOutputPolicy is the model_output section of a policy.
type ModelOutputPolicy struct {
	Path string `yaml:"path"`
	// Writers are glob patterns of the executables allowed to write it;
	// a pattern without '/' matches the base name.
	Writers []string `yaml:"writers,omitempty"`
}

// Policy limits.
const (
	maxPolicyBytes   = 1 << 20
	maxPolicyEntries = 10000
	maxPolicyString  = 4096
)

// ParsePolicy decodes and validates a policy document. Unknown keys are
// errors, so a typo cannot silently weaken a stage.
func ParsePolicy(b []byte) (*Policy, error) {
	if len(b) > maxPolicyBytes {
		return nil, fmt.Errorf("policy is %d bytes; the limit is %d", len(b), maxPolicyBytes)
	}
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return &p, nil // empty document: all defaults
		}
		return nil, fmt.Errorf("policy: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks values and limits.
func (p *Policy) Validate() error {
	if p.Version != 0 && p.Version != 1 {
		return fmt.Errorf("policy: version %d is not supported (want 1)", p.Version)
	}
	switch p.Mode {
	case "", ModeAudit, ModeEnforce:
	default:
		return fmt.Errorf("policy: mode must be audit or enforce, not %q", p.Mode)
	}
	switch p.Network {
	case "", NetworkNone, NetworkAllow, NetworkHost:
	default:
		return fmt.Errorf("policy: network must be none, allow or host, not %q", p.Network)
	}
	lists := map[string][]string{"allow_hosts": p.AllowHosts, "rw": p.RW, "ro": p.RO, "allow_credentials": p.AllowCredentials,
		"env": p.Env, "secrets": p.Secrets, "watch": p.Watch, "executables": p.Executables}
	if p.ModelOutput != nil {
		lists["model_output.writers"] = p.ModelOutput.Writers
		if p.ModelOutput.Path == "" || len(p.ModelOutput.Path) > maxPolicyString || strings.ContainsRune(p.ModelOutput.Path, 0) {
			return errors.New("policy: model_output.path: empty, NUL-containing or overlong")
		}
		for _, w := range p.ModelOutput.Writers {
			if _, err := path.Match(w, ""); err != nil {
				return fmt.Errorf("policy: model_output.writers: %q is not a valid pattern", w)
			}
		}
	}
	total := 0
	for name, l := range lists {
		total += len(l)
		for _, s := range l {
			if s == "" || len(s) > maxPolicyString || strings.ContainsRune(s, 0) {
				return fmt.Errorf("policy: %s: empty, NUL-containing or overlong entry", name)
			}
		}
	}
	if total > maxPolicyEntries {
		return fmt.Errorf("policy: %d list entries; the limit is %d", total, maxPolicyEntries)
	}
	for _, h := range p.AllowHosts {
		if _, err := ParseHostRule(h); err != nil {
			return fmt.Errorf("policy: %w", err)
		}
	}
	for _, n := range append(append([]string{}, p.Env...), p.Secrets...) {
		if strings.ContainsAny(n, "= \t\n") {
			return fmt.Errorf("policy: %q is not an environment variable name", n)
		}
	}
	if p.Timeout != "" {
		if d, err := time.ParseDuration(p.Timeout); err != nil || d < 0 {
			return fmt.Errorf("policy: timeout %q: want a duration such as 2h", p.Timeout)
		}
	}
	if len(p.History) > maxPolicyString {
		return errors.New("policy: history path too long")
	}
	return nil
}

// Learn builds a starting policy from what a run did: the hosts it asked
// the proxy for (allowed or not), the programs it executed, and the
// writable paths it actually wrote to. Review it before use.
func Learn(o *Options, res *Result) *Policy {
	p := &Policy{Version: 1, Mode: ModeAudit, Network: NetworkNone}
	hosts := map[string]bool{}
	execs := map[string]bool{}
	for _, e := range res.Events {
		switch e.Kind {
		case EventEgress:
			hosts[HostRule{Host: e.Host, Port: e.Port}.String()] = true
		case EventExec:
			if e.Path != "" && !e.FromFD {
				execs[e.Path] = true
			}
		}
	}
	if len(hosts) > 0 {
		p.Network = NetworkAllow
	} else if o.Network == NetworkHost {
		p.Network = NetworkHost
	}
	if o.ModelOutput != "" {
		mo := &ModelOutputPolicy{Path: o.ModelOutput}
		roots := modelRoots(o.ModelOutput)
		writers := map[string]bool{}
		for _, e := range res.Events {
			if e.Kind == EventWrite && e.Exe != "" && (underAny(e.Path, roots) || (e.Op == OpRename && underAny(e.From, roots))) {
				writers[e.Exe] = true
			}
		}
		mo.Writers = sortedKeys(writers)
		p.ModelOutput = mo
	}
	written := map[string]bool{}
	for _, c := range res.FileChanges {
		for _, rw := range o.RW {
			if under(c.Path, rw) {
				written[rw] = true
			}
		}
	}
	p.AllowHosts = sortedKeys(hosts)
	p.AllowPrivateEgress = o.AllowPrivateEgress && len(hosts) > 0
	p.Executables = sortedKeys(execs)
	p.RW = sortedKeys(written)
	p.RO = append([]string{}, o.RO...)
	p.Env = append([]string{}, o.Env...)
	p.Secrets = append([]string{}, o.Secrets...)
	p.Watch = append([]string{}, o.Watch...)
	p.AllowCredentials = append([]string{}, o.AllowCredentials...)
	return p
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Marshal renders the policy as YAML with a header comment.
func (p *Policy) Marshal() ([]byte, error) {
	b, err := yaml.Marshal(p)
	if err != nil {
		return nil, err
	}
	head := "# mlgate run policy (docs/run.md). Learned from one run: review every entry,\n# especially allow_hosts, before committing it.\n"
	return append([]byte(head), b...), nil
}

// History limits.
const (
	maxHistoryBytes   = 1 << 20
	maxHistoryEntries = 10000
)

// ParseHistory reads a stage's duration history: one duration per line,
// either a Go duration ("1m30s") or a number of seconds ("90.5"); blank
// lines and lines starting with '#' are ignored. Only the last
// maxHistoryEntries entries are kept.
func ParseHistory(r io.Reader) ([]time.Duration, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxHistoryBytes+1))
	sc.Buffer(make([]byte, 0, 4096), 4096)
	var out []time.Duration
	n, read := 0, 0
	for sc.Scan() {
		n++
		read += len(sc.Bytes()) + 1
		if read > maxHistoryBytes {
			return nil, fmt.Errorf("history: larger than %d bytes", maxHistoryBytes)
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		d, err := parseHistoryDuration(line)
		if err != nil {
			return nil, fmt.Errorf("history line %d: %w", n, err)
		}
		out = append(out, d)
		if len(out) > maxHistoryEntries {
			out = out[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return out, nil
}

func parseHistoryDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("negative duration %q", s)
		}
		return d, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e9 || f != f {
		return 0, fmt.Errorf("%q is neither a duration nor a number of seconds", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// FormatHistoryEntry renders d as a history line.
func FormatHistoryEntry(d time.Duration) string {
	return d.Round(time.Millisecond).String() + "\n"
}
