package run

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Limits of a file-integrity snapshot.
const (
	maxSnapshotFiles = 500000
	maxHashBytes     = 1 << 30
	// maxUnreadableDirs bounds the unreadable directories remembered per tree.
	maxUnreadableDirs = 10000
)

// fileState identifies a file's content without reading it: the kernel
// updates ctime on every write, truncation, rename into place and mode
// change, and only a process allowed to set the clock could forge it
// (the stage is not), so equal (ino, size, mtime, ctime, mode) means
// unchanged content.
type fileState struct {
	ino   uint64
	size  int64
	mtime int64
	ctime int64
	mode  fs.FileMode
	dev   uint64
	nlink uint64
}

type snapshot struct {
	root  string
	files map[string]fileState
	// truncated: the file limit stopped the walk.
	truncated bool
	// unreadable are the directories the walk could not list.
	unreadable map[string]bool
}

// DefaultWatch returns the Python site-packages and dist-packages
// directories present on the runner, found by globbing the usual
// locations (no interpreter is run).
func DefaultWatch(home string, environ []string) []string {
	patterns := []string{
		"/usr/lib/python3*/site-packages", "/usr/lib/python3*/dist-packages", "/usr/lib/python3/dist-packages",
		"/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
		"/opt/conda/lib/python3*/site-packages",
	}
	if home != "" {
		patterns = append(patterns,
			filepath.Join(home, ".local/lib/python3*/site-packages"),
			filepath.Join(home, ".pyenv/versions/*/lib/python3*/site-packages"))
	}
	for _, kv := range environ {
		for _, k := range []string{"VIRTUAL_ENV=", "CONDA_PREFIX="} {
			if v, ok := strings.CutPrefix(kv, k); ok && filepath.IsAbs(v) {
				patterns = append(patterns, filepath.Join(v, "lib/python3*/site-packages"))
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range patterns {
		ms, _ := filepath.Glob(p)
		for _, m := range ms {
			if r, err := filepath.EvalSymlinks(m); err == nil {
				m = r
			}
			if fi, err := os.Stat(m); err == nil && fi.IsDir() && !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	sort.Strings(out)
	return out
}

// watchRoots are the trees to snapshot: explicit watches, the writable
// paths, and the default site-packages, without duplicates or nesting.
func watchRoots(o *Options, home string) []string {
	var all []string
	all = append(all, o.Watch...)
	all = append(all, o.RW...)
	if !o.NoDefaultWatch {
		environ := o.Environ
		if environ == nil {
			environ = os.Environ()
		}
		all = append(all, DefaultWatch(home, environ)...)
	}
	sort.Strings(all)
	var out []string
	for _, p := range all {
		if len(out) > 0 && under(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// splitReadOnlyRoots separates the default watch roots that the stage
// cannot write under landlock (neither inside nor containing an --rw
// path, and not named with --watch) from the ones to walk.
func splitReadOnlyRoots(roots []string, o *Options) (walk, readOnly []string) {
	for _, r := range roots {
		explicit := slicesContains(o.Watch, r)
		overlaps := false
		for _, rw := range o.RW {
			overlaps = overlaps || under(r, rw) || under(rw, r)
		}
		if explicit || overlaps {
			walk = append(walk, r)
		} else {
			readOnly = append(readOnly, r)
		}
	}
	return walk, readOnly
}

// snapshotAll records every regular file and symlink under the roots.
// The trees are walked by several goroutines (directory listings and
// stats relative to the directory's descriptor); if the file limit is
// reached, the walk is redone in lexical order so that the before and
// after snapshots cut at the same place.
func snapshotAll(roots []string) ([]snapshot, string) {
	out, total := snapshotParallel(roots, snapshotWorkers)
	if total < maxSnapshotFiles {
		return out, ""
	}
	return snapshotSequential(roots)
}

// snapshotWorkers walk the trees concurrently: listing and stat are
// mostly waiting on the kernel (and on the disk when the cache is cold).
const snapshotWorkers = 4

// snapshotParallel walks every root with workers goroutines sharing one
// stack of directories. It stops adding files at maxSnapshotFiles and
// returns how many it found (at most the limit).
func snapshotParallel(roots []string, workers int) ([]snapshot, int) {
	out := make([]snapshot, len(roots))
	type dirJob struct {
		root int
		dir  string
	}
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		stack   []dirJob
		pending int // directories queued or being listed
		total   atomic.Int64
	)
	for i, r := range roots {
		out[i] = snapshot{root: r, files: map[string]fileState{}, unreadable: map[string]bool{}}
		fi, err := os.Lstat(r)
		if err != nil {
			continue // nothing there (yet)
		}
		if !fi.IsDir() {
			// A file, or a link, named as a tree is itself the tree, as
			// for filepath.WalkDir.
			out[i].files[r] = stateOf(fi)
			total.Add(1)
			continue
		}
		stack = append(stack, dirJob{i, r})
		pending++
	}
	type result struct {
		root int
		path string
		st   fileState
	}
	var wg sync.WaitGroup
	results := make([][]result, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var local []result
			for {
				mu.Lock()
				for len(stack) == 0 && pending > 0 {
					cond.Wait()
				}
				if len(stack) == 0 {
					mu.Unlock()
					results[w] = local
					return
				}
				j := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				mu.Unlock()

				var subdirs []string
				readable := true
				if total.Load() < maxSnapshotFiles {
					readable = listDir(j.dir, func(name string, isDir bool, st fileState) {
						p := j.dir + "/" + name
						if j.dir == "/" {
							p = "/" + name
						}
						if isDir {
							subdirs = append(subdirs, p)
							return
						}
						if total.Add(1) > maxSnapshotFiles {
							return
						}
						local = append(local, result{j.root, p, st})
					})
				}
				mu.Lock()
				if !readable {
					// Unreadable subtree: it cannot be compared; one that
					// becomes unreadable during the run is reported. A
					// root that does not exist is no such directory.
					u := out[j.root].unreadable
					if _, err := os.Lstat(j.dir); err == nil && len(u) < maxUnreadableDirs {
						u[j.dir] = true
					}
				}
				for _, d := range subdirs {
					stack = append(stack, dirJob{j.root, d})
				}
				pending += len(subdirs) - 1
				if pending == 0 || len(subdirs) > 0 {
					cond.Broadcast()
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	for _, rs := range results {
		for _, r := range rs {
			out[r.root].files[r.path] = r.st
		}
	}
	return out, int(min(total.Load(), maxSnapshotFiles))
}

// snapshotSequential walks the roots one by one in lexical order.
func snapshotSequential(roots []string) ([]snapshot, string) {
	var out []snapshot
	var errs []string
	total := 0
	for _, r := range roots {
		s := snapshot{root: r, files: map[string]fileState{}, unreadable: map[string]bool{}}
		err := filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				// Unreadable subtree: it cannot be compared. A directory
				// that becomes unreadable during the run is reported.
				if d != nil && d.IsDir() && len(s.unreadable) < maxUnreadableDirs {
					s.unreadable[p] = true
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if total >= maxSnapshotFiles {
				s.truncated = true
				return fs.SkipAll
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			s.files[p] = stateOf(fi)
			total++
			return nil
		})
		if err != nil {
			errs = append(errs, r+": "+err.Error())
		}
		out = append(out, s)
	}
	if total >= maxSnapshotFiles {
		errs = append(errs, "stopped at the file limit; later files are not compared")
	}
	return out, strings.Join(errs, "; ")
}

// stateOf is the state of a file from its FileInfo.
func stateOf(fi fs.FileInfo) fileState {
	st := fileState{size: fi.Size(), mode: fi.Mode(), mtime: fi.ModTime().UnixNano()}
	st.ino, st.ctime = inodeCtime(fi)
	st.dev, st.nlink = devNlink(fi)
	return st
}

type devIno struct{ dev, ino uint64 }

// diffSnapshots compares two snapshots of the same roots. An added
// regular file with more than one link gets its link count and the number
// of its names found in the after snapshots (when they are complete), so
// that a link from outside every watched tree shows.
func diffSnapshots(before, after []snapshot) []FileChange {
	out := []FileChange{}
	names := map[devIno]int{}
	complete := true
	for _, a := range after {
		complete = complete && !a.truncated
		for _, st := range a.files {
			if st.nlink > 1 && st.mode.IsRegular() {
				names[devIno{st.dev, st.ino}]++
			}
		}
	}
	for i := range before {
		if i >= len(after) {
			break
		}
		b, a := before[i], after[i]
		for p, sa := range a.files {
			sb, ok := b.files[p]
			switch {
			case !ok:
				out = append(out, changeOf(p, ChangeAdded, a.root, sa))
			case sb != sa:
				out = append(out, changeOf(p, ChangeModified, a.root, sa))
			}
		}
		for p, sb := range b.files {
			if _, ok := a.files[p]; !ok {
				out = append(out, FileChange{Path: p, Change: ChangeRemoved, Root: b.root, Type: fileType(sb.mode)})
			}
		}
		for p := range a.unreadable {
			if !b.unreadable[p] {
				out = append(out, FileChange{Path: p, Change: ChangeUnreadable, Root: a.root, Type: FileTypeDir})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Change < out[j].Change
	})
	if complete {
		for i := range out {
			c := &out[i]
			if c.Change != ChangeAdded || c.Type != FileTypeRegular {
				continue
			}
			for _, a := range after {
				if st, ok := a.files[c.Path]; ok && st.nlink > 1 && st.ino != 0 {
					c.Nlink, c.NamesSeen = st.nlink, names[devIno{st.dev, st.ino}]
					break
				}
			}
		}
	}
	return out
}

// changeOf describes an added or modified file.
func changeOf(p, change, root string, st fileState) FileChange {
	c := FileChange{Path: p, Change: change, Root: root, Type: fileType(st.mode), SHA256: hashFile(p, st)}
	if c.Type == FileTypeSymlink {
		c.Target, _ = os.Readlink(p)
	}
	return c
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return FileTypeRegular
	case m&fs.ModeSymlink != 0:
		return FileTypeSymlink
	}
	return FileTypeOther
}

// hashFile hashes a regular file of at most maxHashBytes ("" otherwise: a
// digest of only part of a file would be a wrong digest).
func hashFile(p string, st fileState) string {
	if !st.mode.IsRegular() || st.size > maxHashBytes {
		return ""
	}
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if n, err := io.Copy(h, io.LimitReader(f, maxHashBytes+1)); err != nil || n > maxHashBytes {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}
