// Package config loads mlgate's project configuration (.mlgate.yaml), and
// applies the three ways a project narrows what mlgate reports: the
// configuration file itself, inline suppression comments, and a baseline of
// previously accepted findings.
//
// # The configuration file
//
// mlgate looks for a file named .mlgate.yaml (or .mlgate.yml) in the
// directory of the scanned path and in each of its parents, up to and
// including the root of the repository that holds it (the nearest directory
// with a .git entry), or up to the filesystem root when there is no
// repository; see [Find]. The file is a single YAML mapping:
//
//	# Default for --fail-on: exit non-zero when a finding of this
//	# severity or worse remains (critical, high, medium, low, info).
//	fail_on: high
//	rules:
//	  # Rules that never report.
//	  disable: [pipeline/shared-gpu-access]
//	  # Rules that are off by default (DefaultDisabled) and should run.
//	  enable: [pipeline/runner-unspecified]
//	  # Per-rule severity overrides.
//	  severity:
//	    pipeline/untrusted-code-container-only: high
//	  # Per-rule options; each rule documents the options it reads.
//	  options:
//	    pipeline/signing-stage-exposed:
//	      allowed_hosts: [rekor.sigstore.dev]
//	# Findings in files matching these globs are dropped. Globs are
//	# relative to the directory that holds the configuration file.
//	ignore:
//	  - "vendor/**"
//	  - "**/testdata/**"
//
// Every key is optional, and a key whose value is empty (null) is the same as
// an absent key. The file is parsed strictly: unknown keys, values of the
// wrong type, unknown severity names, malformed globs, rule IDs that are not
// registered, option names a rule does not declare, duplicate keys, a rule
// that is both enabled and disabled, YAML aliases and merge keys, and more
// than one YAML document are all errors. Files larger than [MaxFileSize] are rejected.
// Every error message starts with "file:line:column: ".
//
// # Ignore globs
//
// An ignore pattern is a slash-separated glob matched against the path of a
// finding's file relative to [Config.Dir]:
//
//   - "*" matches any run of characters within one path element, "?" matches
//     one character, "[abc]", "[a-z]" and "[^a-z]" (or "[!a-z]") match one
//     character of a class, and "\" quotes the next character;
//   - an element that is exactly "**" matches zero or more whole elements, so
//     "**/testdata/**" matches testdata directories at any depth;
//   - a pattern without a slash, such as "*.pb" or "testdata", matches a
//     file or directory of that name at any depth (as if it began with "**/");
//   - a leading "/" or "./" is ignored (patterns are always anchored at
//     [Config.Dir]) and a trailing "/" is ignored;
//   - a pattern that matches a directory also matches everything below it,
//     so "vendor" and "vendor/" are the same as "vendor/**";
//   - "." and ".." elements and empty elements ("a//b") are errors.
//
// A path outside [Config.Dir] can only be matched by a pattern without a
// slash, which is then compared with the path's base name alone.
//
// # Inline suppressions
//
// A comment of the form
//
//	# mlgate: ignore[rule-id, other/rule-id] reason for ignoring
//
// suppresses findings of the listed rules on the comment's own line and on the
// line directly below it; see [ParseSuppressions] and [ApplySuppressions].
//
// # Baselines
//
// A baseline is a previous JSON report; findings whose fingerprint appears in
// it are dropped. See [LoadBaseline] and [ApplyBaseline].
//
// # Order of application
//
// Callers should apply suppressions first (so that a suppression of a finding
// that the configuration later drops still counts as used), then
// [Config.Apply] to the kept findings together with the extra findings
// [ApplySuppressions] returned, and the baseline last.
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/mlgate/mlgate/finding"
)

// FileName is the name of the configuration file mlgate looks for.
const FileName = ".mlgate.yaml"

// AltFileName is the alternative name of the configuration file. A directory
// must not hold both FileName and AltFileName.
const AltFileName = ".mlgate.yml"

// MaxFileSize is the largest configuration file Load and Parse accept, in
// bytes (1 MiB).
const MaxFileSize = 1 << 20

// Config is a loaded .mlgate.yaml.
//
// The zero value and nil behave like [Default]: every rule runs with its
// default settings and nothing is ignored.
type Config struct {
	// Path is the file the configuration was loaded from; "" for defaults.
	Path string
	// Dir is the directory of Path, made absolute when possible. Ignore
	// globs are relative to it; "" means the working directory.
	Dir string
	// Disable lists the IDs of rules turned off.
	Disable []string
	// Enable lists the IDs of rules turned on; it matters only for rules
	// with DefaultDisabled set.
	Enable []string
	// Severity holds per-rule severity overrides, keyed by rule ID.
	Severity map[string]finding.Severity
	// Ignore lists path globs, relative to Dir, of files whose findings are
	// dropped. The syntax is described in the package documentation.
	Ignore []string
	// Options holds per-rule options: rule ID -> option name -> value as
	// decoded from YAML (nil, bool, int, float64, string, []any or
	// map[string]any).
	Options map[string]map[string]any
	// FailOn is the default for --fail-on, or nil when the file sets none.
	FailOn *finding.Severity
}

// Default returns the configuration used when there is no configuration
// file: all rules at their defaults, no overrides, nothing ignored.
func Default() *Config {
	return &Config{
		Severity: map[string]finding.Severity{},
		Options:  map[string]map[string]any{},
	}
}

// Find looks for a configuration file for start, which is a file or a
// directory. Starting at start (or, for a file, the directory holding it),
// made absolute, it checks each directory on the way up for FileName and then
// AltFileName and returns the path of the first one found, or "" if there is
// none.
//
// The walk stops at the repository root: the first directory on the way up
// that contains an entry named ".git" (a directory, or a file as in
// worktrees and submodules) is still checked, but none of its parents is. A
// configuration file above the repository, for example in a world-writable
// /tmp above a CI checkout in /tmp/ci/repo, therefore cannot disable rules or
// change fail_on for it. When no directory on the way up has a .git entry
// (a checkout without VCS metadata), the walk goes on to the filesystem root.
// See also [RepoRoot].
//
// It is an error for start not to exist, for a directory to hold both names,
// for a configuration path to be something other than a regular file, or for
// a directory to be unreadable.
func Find(start string) (string, error) {
	abs, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("config: find %s: %w", start, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("config: find: %w", err)
	}
	dir := abs
	if !fi.IsDir() {
		dir = filepath.Dir(abs)
	}
	for {
		found := ""
		for _, name := range []string{FileName, AltFileName} {
			p := filepath.Join(dir, name)
			fi, err := os.Stat(p)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				continue
			case err != nil:
				return "", fmt.Errorf("config: find: %w", err)
			case !fi.Mode().IsRegular():
				return "", fmt.Errorf("config: find: %s is not a regular file", p)
			}
			if found != "" {
				return "", fmt.Errorf("config: find: both %s and %s exist; keep only one", found, p)
			}
			found = p
		}
		if found != "" {
			return found, nil
		}
		isRoot, err := hasGit(dir)
		if err != nil {
			return "", fmt.Errorf("config: find: %w", err)
		}
		if isRoot {
			return "", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// RepoRoot returns the absolute path of the repository root for start, a
// file or a directory: the nearest directory at or above start (for a file,
// at or above the directory holding it) that contains an entry named ".git",
// whether a directory or a file (as in worktrees and submodules). It returns
// "" when there is none or start cannot be made absolute. The path is
// cleaned but symbolic links are not resolved. A directory whose .git entry
// cannot be checked (for example for lack of permission) is treated as
// having none.
func RepoRoot(start string) string {
	abs, err := filepath.Abs(start)
	if err != nil {
		return ""
	}
	dir := abs
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		dir = filepath.Dir(abs)
	}
	for {
		if ok, _ := hasGit(dir); ok {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// hasGit reports whether the directory dir contains an entry named ".git" of
// any type. The entry itself is not followed if it is a symbolic link.
func hasGit(dir string) (bool, error) {
	_, err := os.Lstat(filepath.Join(dir, ".git"))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// checkRegular returns an error starting with "path: " unless path (with
// symbolic links followed) is a regular file. It is called before a file is
// opened, because opening a named pipe for reading blocks until a writer
// appears and reading a device may never end.
func checkRegular(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := notRegular(path, fi); err != nil {
		return nil, err
	}
	return fi, nil
}

// notRegular returns an error naming path and the kind of file it is unless
// fi describes a regular file.
func notRegular(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	var kind string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return fmt.Errorf("%s: is a directory, not a regular file", path)
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	default:
		kind = "a special file (" + m.Type().String() + ")"
	}
	return fmt.Errorf("%s: is %s, not a regular file", path, kind)
}

// Load reads and parses the configuration file at path. path must be a
// regular file (symbolic links are followed); a directory, named pipe,
// device or other special file is rejected before it is opened. Errors
// reading the file start with "path: "; errors in its content with
// "path:line:col: ".
func Load(path string) (*Config, error) {
	src, err := readRegular(path, "configuration", MaxFileSize+1, -1)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// readRegular reads at most limit bytes of the regular file at path. It
// rejects special files before opening them (a FIFO would block), checks
// again on the open file (the path may have been replaced in between), and,
// when maxSize >= 0, rejects files larger than maxSize by their size.
func readRegular(path, what string, limit, maxSize int64) ([]byte, error) {
	fi, err := checkRegular(path)
	if err != nil {
		return nil, err
	}
	tooBig := func(size int64) error {
		if maxSize >= 0 && size > maxSize {
			return fmt.Errorf("%s: %s is larger than %d bytes", path, what, maxSize)
		}
		return nil
	}
	if err := tooBig(fi.Size()); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		if err := notRegular(path, fi); err != nil {
			return nil, err
		}
		if err := tooBig(fi.Size()); err != nil {
			return nil, err
		}
	}
	src, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return src, nil
}

// Parse parses src, the content of the configuration file at path, and
// validates it against the rule registry (so it must run after the packages
// that register rules are initialised). path is used for error messages and
// to set Path and Dir. Empty input (or input holding only comments) yields
// the defaults.
//
// The error, if any, lists every problem found, one per line, each starting
// with "path:line:col: ".
func Parse(path string, src []byte) (*Config, error) {
	name := path
	if name == "" {
		name = FileName
	}
	c := Default()
	c.Path = path
	if path != "" {
		c.Dir = filepath.Dir(path)
		if abs, err := filepath.Abs(c.Dir); err == nil {
			c.Dir = abs
		}
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("%s:1:1: file is larger than %d bytes", name, MaxFileSize)
	}
	root, err := decodeYAML(name, src)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return c, nil
	}
	p := &parser{name: name}
	p.checkAliases(root)
	if len(p.errs) == 0 {
		p.top(root, c)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// RuleEnabled reports whether rule r runs under c: a disabled rule never
// runs, a DefaultDisabled rule runs only when enabled, and any other rule
// runs. A nil rule is never enabled.
func (c *Config) RuleEnabled(r *finding.Rule) bool {
	if r == nil {
		return false
	}
	if c == nil {
		return !r.DefaultDisabled
	}
	if slices.Contains(c.Disable, r.ID) {
		return false
	}
	if r.DefaultDisabled {
		return slices.Contains(c.Enable, r.ID)
	}
	return true
}

// RuleOptions returns the options configured for the rule with the given
// ID. The result is never nil; it is a shallow copy, so adding or removing
// keys does not change c.
func (c *Config) RuleOptions(id string) map[string]any {
	out := map[string]any{}
	if c == nil {
		return out
	}
	for k, v := range c.Options[id] {
		out[k] = v
	}
	return out
}

// Apply filters and adjusts findings according to c. It drops findings of
// registered rules that are not enabled (see RuleEnabled; findings whose rule
// ID is not in the registry are kept), drops findings whose Location.File is
// Ignored, and sets the severity of the rest to the configured override, if
// any. The input slice is not modified.
func (c *Config) Apply(fs []finding.Finding) []finding.Finding {
	if c == nil {
		c = Default()
	}
	out := make([]finding.Finding, 0, len(fs))
	m := c.newMatcher()
	for _, f := range fs {
		if r, ok := finding.Lookup(f.RuleID); ok && !c.RuleEnabled(r) {
			continue
		}
		if m.ignored(f.Location.File) {
			continue
		}
		if s, ok := c.Severity[f.RuleID]; ok {
			f.Severity = s
		}
		out = append(out, f)
	}
	return out
}

// ReadRegular reads a regular file of at most maxSize bytes, refusing
// special files (a FIFO would block) before and after opening it. Errors
// start with "path: ".
func ReadRegular(path string, maxSize int64) ([]byte, error) {
	return readRegular(path, "file", maxSize+1, maxSize)
}
