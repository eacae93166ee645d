package run

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Bounds of the walk of hidden credential directories.
const (
	maxCredWalkEntries = 20000
	maxCredWalkDepth   = 8
	maxCredLinksListed = 50
)

// hiddenHardLinks returns the regular files among the hidden paths (and
// inside hidden directories) that have more than one hard link. Hiding
// covers a path; another name of the same file elsewhere stays readable
// by the stage wherever that name is readable. Each entry is
// "PATH (N links)".
func hiddenHardLinks(hide []string) []string {
	var out []string
	seen := 0
	note := func(p string, fi fs.FileInfo) {
		if !fi.Mode().IsRegular() || len(out) >= maxCredLinksListed {
			return
		}
		if _, n := devNlink(fi); n > 1 {
			out = append(out, fmt.Sprintf("%s (%d links)", p, n))
		}
	}
	for _, h := range hide {
		fi, err := os.Lstat(h)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			note(h, fi)
			continue
		}
		depth0 := strings.Count(h, string(filepath.Separator))
		_ = filepath.WalkDir(h, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			seen++
			if seen > maxCredWalkEntries {
				return fs.SkipAll
			}
			if d.IsDir() {
				if strings.Count(p, string(filepath.Separator))-depth0 >= maxCredWalkDepth {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				if fi, err := d.Info(); err == nil {
					note(p, fi)
				}
			}
			return nil
		})
	}
	return out
}

// noteHiddenLinks completes the credential layer's reason with the hidden
// files that have other hard links.
func noteHiddenLinks(res *Result) {
	if len(res.HiddenLinked) == 0 {
		return
	}
	for i := range res.Layers {
		if res.Layers[i].Name == LayerCredentials {
			res.Layers[i].Reason += "; NOT covered: other hard links of " + strings.Join(res.HiddenLinked, ", ") +
				" stay readable under their other names (hiding is by path)"
		}
	}
}
