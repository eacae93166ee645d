package provenance

import (
	"bufio"
	"bytes"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// GitInfo is what ReadGit learns from a checkout's .git directory.
type GitInfo struct {
	// Commit is the HEAD commit (40 or 64 hex digits), or "".
	Commit string
	// Ref is the branch HEAD points to (refs/heads/x), or "" when detached.
	Ref string
	// Remote is the "origin" remote as an https URL without credentials
	// and without a .git suffix, or "".
	Remote string
}

const maxGitFile = 1 << 20

var hexCommit = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// ReadGit finds the git checkout containing dir (walking up at most 64
// levels) and reads HEAD, the ref it points to and the origin remote,
// without running git. Anything it cannot read is left empty; it never
// fails.
func ReadGit(dir string) GitInfo {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return GitInfo{}
	}
	for i := 0; i < 64; i++ {
		gd := filepath.Join(abs, ".git")
		if fi, err := os.Stat(gd); err == nil {
			if fi.Mode().IsRegular() {
				// worktree or submodule: "gitdir: <path>"
				b := readSmall(gd)
				p, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
				if !ok {
					return GitInfo{}
				}
				p = strings.TrimSpace(p)
				if !filepath.IsAbs(p) {
					p = filepath.Join(abs, p)
				}
				gd = p
			}
			return readGitDir(gd)
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			break
		}
		abs = parent
	}
	return GitInfo{}
}

func readGitDir(gd string) GitInfo {
	// A linked worktree keeps shared refs and config in its commondir.
	common := gd
	if c := strings.TrimSpace(string(readSmall(filepath.Join(gd, "commondir")))); c != "" {
		if !filepath.IsAbs(c) {
			c = filepath.Join(gd, c)
		}
		common = c
	}
	var g GitInfo
	head := strings.TrimSpace(string(readSmall(filepath.Join(gd, "HEAD"))))
	if ref, ok := strings.CutPrefix(head, "ref:"); ok {
		ref = strings.TrimSpace(ref)
		if strings.HasPrefix(ref, "refs/") && !strings.Contains(ref, "..") {
			g.Ref = ref
			g.Commit = resolveRef(gd, common, ref)
		}
	} else if hexCommit.MatchString(head) {
		g.Commit = head
	}
	g.Remote = originURL(readSmall(filepath.Join(common, "config")))
	return g
}

func resolveRef(gd, common, ref string) string {
	for _, d := range []string{gd, common} {
		v := strings.TrimSpace(string(readSmall(filepath.Join(d, filepath.FromSlash(ref)))))
		if hexCommit.MatchString(v) {
			return v
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(readSmall(filepath.Join(common, "packed-refs"))))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[1] == ref && hexCommit.MatchString(f[0]) {
			return f[0]
		}
	}
	return ""
}

// originURL finds url = ... in the [remote "origin"] section of a git
// config and normalises it.
func originURL(config []byte) string {
	in := false
	sc := bufio.NewScanner(bytes.NewReader(config))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = strings.ReplaceAll(line, " ", "") == `[remote"origin"]`
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "url" {
			return NormalizeRepoURL(strings.TrimSpace(v))
		}
	}
	return ""
}

var scpLike = regexp.MustCompile(`^(?:[A-Za-z0-9._-]+@)?([A-Za-z0-9.-]+):([^/][^:]*)$`)

// NormalizeRepoURL turns a git remote into https://host/path: credentials
// are dropped (never recorded in provenance), scp-like ssh remotes
// (git@host:owner/repo.git) and ssh:// URLs become https, and a trailing
// ".git" or "/" is removed. Local paths and unparseable remotes return "".
func NormalizeRepoURL(remote string) string {
	if m := scpLike.FindStringSubmatch(remote); m != nil && !strings.Contains(remote, "://") {
		return "https://" + strings.ToLower(m[1]) + "/" + trimRepo(m[2])
	}
	u, err := url.Parse(remote)
	if err != nil || u.Host == "" {
		return ""
	}
	switch u.Scheme {
	case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
	default:
		return ""
	}
	return "https://" + strings.ToLower(u.Hostname()) + "/" + trimRepo(strings.TrimPrefix(u.Path, "/"))
}

func trimRepo(p string) string {
	p = strings.TrimRight(p, "/")
	return strings.TrimSuffix(p, ".git")
}

func readSmall(p string) []byte {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, maxGitFile))
	return b
}
