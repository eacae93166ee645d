package config

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
)

// glob is a compiled ignore pattern: its slash-separated elements, each
// either "**" or a path.Match pattern.
type glob struct {
	elems []string
	// base is set for patterns without a slash, which match at any depth
	// and, for paths outside Config.Dir, against the base name.
	base bool
}

// compileGlob validates and compiles an ignore pattern (syntax in the
// package documentation).
func compileGlob(pat string) (glob, error) {
	if pat == "" {
		return glob{}, errors.New("empty pattern")
	}
	p := pat
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return glob{}, errors.New("pattern matches nothing but the configuration directory itself")
	}
	var g glob
	g.base = !strings.Contains(p, "/") && p != "**"
	for _, e := range strings.Split(p, "/") {
		switch e {
		case "":
			return glob{}, errors.New("empty path element (\"//\")")
		case ".", "..":
			return glob{}, errors.New(`"." and ".." elements are not allowed`)
		case "**":
			// Collapse runs of "**": they match the same paths as one.
			if n := len(g.elems); n > 0 && g.elems[n-1] == "**" {
				continue
			}
			g.elems = append(g.elems, e)
			continue
		}
		e = bangClass(e)
		if _, err := path.Match(e, ""); err != nil {
			return glob{}, errors.New("malformed glob element " + `"` + e + `"` + " (check [ ] classes and trailing \\)")
		}
		g.elems = append(g.elems, e)
	}
	if g.base {
		g.elems = append([]string{"**"}, g.elems...)
	}
	return g, nil
}

// bangClass rewrites the shell-style negated class "[!...]" to the "[^...]"
// that path.Match understands, leaving quoted characters alone.
func bangClass(e string) string {
	if !strings.Contains(e, "[!") {
		return e
	}
	b := []byte(e)
	inClass := false
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\\':
			i++
		case !inClass && b[i] == '[':
			inClass = true
			if i+1 < len(b) && b[i+1] == '!' {
				b[i+1] = '^'
				i++
			}
		case inClass && b[i] == ']':
			inClass = false
		}
	}
	return string(b)
}

// matchPrefix reports whether g matches elems or any leading part of it (a
// pattern that matches a directory matches everything below it).
func (g glob) matchPrefix(elems []string) bool {
	if len(g.elems) == 0 || len(elems) == 0 {
		return false
	}
	// prev[j] is true when the pattern elements consumed so far match
	// elems[:j]; cur is the same after one more pattern element.
	prev := make([]bool, len(elems)+1)
	cur := make([]bool, len(elems)+1)
	prev[0] = true
	for _, pe := range g.elems {
		for j := range cur {
			if pe == "**" {
				cur[j] = prev[j] || (j > 0 && cur[j-1])
				continue
			}
			cur[j] = false
			if j > 0 && prev[j-1] {
				ok, err := path.Match(pe, elems[j-1])
				cur[j] = ok && err == nil
			}
		}
		prev, cur = cur, prev
	}
	for j := 1; j <= len(elems); j++ {
		if prev[j] {
			return true
		}
	}
	return false
}

// matcher holds c's compiled ignore patterns and absolute directory.
type matcher struct {
	globs []glob
	dir   string
}

// newMatcher compiles c's ignore patterns. Patterns that do not compile
// (possible only when Ignore was set by hand) never match.
func (c *Config) newMatcher() *matcher {
	m := &matcher{}
	if c == nil || len(c.Ignore) == 0 {
		return m
	}
	for _, pat := range c.Ignore {
		if g, err := compileGlob(pat); err == nil {
			m.globs = append(m.globs, g)
		}
	}
	m.dir = c.Dir
	if abs, err := filepath.Abs(m.dir); err == nil {
		m.dir = abs
	}
	return m
}

// ignored implements Config.Ignored.
func (m *matcher) ignored(p string) bool {
	if len(m.globs) == 0 || p == "" {
		return false
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(m.dir, abs)
	if err != nil {
		rel = ".."
	}
	rel = filepath.ToSlash(rel)
	if rel == "." {
		return false
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		base := []string{filepath.Base(abs)}
		for _, g := range m.globs {
			if g.base && g.matchPrefix(base) {
				return true
			}
		}
		return false
	}
	elems := strings.Split(rel, "/")
	for _, g := range m.globs {
		if g.matchPrefix(elems) {
			return true
		}
	}
	return false
}

// Ignored reports whether findings in the file at path are dropped by an
// ignore pattern. path may be absolute or relative to the working directory;
// it is matched relative to c.Dir as described in the package
// documentation. A path outside c.Dir is matched only by patterns without a
// slash, against its base name. The empty path and c.Dir itself are never
// ignored.
func (c *Config) Ignored(path string) bool {
	return c.newMatcher().ignored(path)
}
