package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

// repoLayout builds, below a fresh temporary directory outer:
//
//	outer/.mlgate.yaml                  planted above every repository
//	outer/repo/.git/                    a repository without a configuration
//	outer/repo/sub/p.yaml
//	outer/repo/own/.mlgate.yaml         a configuration inside the repository
//	outer/repo/own/deep/p.yaml
//	outer/repo/mod/.git                 a submodule (.git is a file)
//	outer/repo/mod/p.yaml
//	outer/cfgrepo/.git/                 a repository with a configuration at its root
//	outer/cfgrepo/.mlgate.yml
//	outer/cfgrepo/a/b/p.yaml
//	outer/wt/.git                       a worktree (.git is a file)
//	outer/wt/x/p.yaml
//	outer/plain/x/p.yaml                no VCS metadata at all
func repoLayout(t *testing.T) string {
	t.Helper()
	outer := t.TempDir()
	writeFile(t, filepath.Join(outer, FileName), "fail_on: info\n")
	mkdir(t, filepath.Join(outer, "repo", ".git"))
	writeFile(t, filepath.Join(outer, "repo", "sub", "p.yaml"), "")
	writeFile(t, filepath.Join(outer, "repo", "own", FileName), "")
	writeFile(t, filepath.Join(outer, "repo", "own", "deep", "p.yaml"), "")
	writeFile(t, filepath.Join(outer, "repo", "mod", ".git"), "gitdir: ../.git/modules/mod\n")
	writeFile(t, filepath.Join(outer, "repo", "mod", "p.yaml"), "")
	mkdir(t, filepath.Join(outer, "cfgrepo", ".git"))
	writeFile(t, filepath.Join(outer, "cfgrepo", AltFileName), "")
	writeFile(t, filepath.Join(outer, "cfgrepo", "a", "b", "p.yaml"), "")
	writeFile(t, filepath.Join(outer, "wt", ".git"), "gitdir: /elsewhere/.git/worktrees/wt\n")
	writeFile(t, filepath.Join(outer, "wt", "x", "p.yaml"), "")
	writeFile(t, filepath.Join(outer, "plain", "x", "p.yaml"), "")
	return outer
}

func TestFindStopsAtRepoRoot(t *testing.T) {
	outer := repoLayout(t)
	j := func(elem ...string) string { return filepath.Join(append([]string{outer}, elem...)...) }
	tests := []struct {
		name  string
		start string
		want  string
	}{
		{"file below repo root ignores config above it", j("repo", "sub", "p.yaml"), ""},
		{"directory below repo root", j("repo", "sub"), ""},
		{"repo root itself", j("repo"), ""},
		{"inside .git", j("repo", ".git"), ""},
		{"config inside the repository", j("repo", "own", "deep", "p.yaml"), j("repo", "own", FileName)},
		{"submodule stops at its own root", j("repo", "mod", "p.yaml"), ""},
		{"config at repo root is checked", j("cfgrepo", "a", "b", "p.yaml"), j("cfgrepo", AltFileName)},
		{"repo root with config", j("cfgrepo"), j("cfgrepo", AltFileName)},
		{"worktree .git file", j("wt", "x", "p.yaml"), ""},
		{"no VCS walks on up", j("plain", "x", "p.yaml"), j(FileName)},
		{"no VCS directory", j("plain"), j(FileName)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Find(tt.start)
			if err != nil {
				t.Fatalf("Find(%q): %v", tt.start, err)
			}
			if got != tt.want {
				t.Errorf("Find(%q) = %q, want %q", tt.start, got, tt.want)
			}
		})
	}

	t.Run("relative start", func(t *testing.T) {
		t.Chdir(j("repo", "sub"))
		if got, err := Find("."); err != nil || got != "" {
			t.Errorf("Find(\".\") = %q, %v; want none", got, err)
		}
		if got, err := Find(filepath.Join("..", "..", "plain")); err != nil || got != j(FileName) {
			t.Errorf("Find(../../plain) = %q, %v", got, err)
		}
	})
}

func TestRepoRoot(t *testing.T) {
	outer := repoLayout(t)
	j := func(elem ...string) string { return filepath.Join(append([]string{outer}, elem...)...) }
	tests := []struct {
		name  string
		start string
		want  string
	}{
		{"file", j("repo", "sub", "p.yaml"), j("repo")},
		{"directory", j("repo", "sub"), j("repo")},
		{"root itself", j("repo"), j("repo")},
		{"deep", j("repo", "own", "deep", "p.yaml"), j("repo")},
		{"inside .git", j("repo", ".git"), j("repo")},
		{"the .git directory's content", j("repo", ".git", "HEAD"), j("repo")},
		{"submodule", j("repo", "mod", "p.yaml"), j("repo", "mod")},
		{"worktree", j("wt", "x"), j("wt")},
		{"missing file in repository", j("repo", "sub", "missing.yaml"), j("repo")},
		{"unclean path", j("repo", "sub") + string(filepath.Separator) + ".." + string(filepath.Separator) + "own" + string(filepath.Separator) + "." + string(filepath.Separator) + "deep", j("repo")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RepoRoot(tt.start); got != tt.want {
				t.Errorf("RepoRoot(%q) = %q, want %q", tt.start, got, tt.want)
			}
		})
	}

	t.Run("relative start", func(t *testing.T) {
		t.Chdir(j("repo", "own"))
		for _, start := range []string{".", "deep", filepath.Join("deep", "p.yaml"), filepath.Join("..", "sub")} {
			if got := RepoRoot(start); got != j("repo") {
				t.Errorf("RepoRoot(%q) = %q, want %q", start, got, j("repo"))
			}
		}
	})

	t.Run("none", func(t *testing.T) {
		// An ancestor of the temporary directory might be a repository;
		// the root found must not be inside outer.
		for _, start := range []string{j("plain", "x", "p.yaml"), j("plain"), outer} {
			got := RepoRoot(start)
			if got == outer || strings.HasPrefix(got, outer+string(filepath.Separator)) {
				t.Errorf("RepoRoot(%q) = %q, want none inside %q", start, got, outer)
			}
		}
	})
}
