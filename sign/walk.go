package sign

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// DefaultIgnorePaths are the paths, relative to the model root, that are
// never hashed unless IncludeGitPaths is set, as in model_signing. They
// match at the root only: tokenizer/.gitignore is hashed. The order is the
// one the reference fixtures record.
var DefaultIgnorePaths = []string{".gitattributes", ".github", ".git", ".gitignore"}

// MaxFiles bounds the number of files one model may hold.
const MaxFiles = 1 << 20

// File is one regular file of a model, as found by Walk.
type File struct {
	// Name is the path relative to the model root with '/' separators, or
	// "." when the model is a single file.
	Name string
	// Path is the path to open (joined with the model path).
	Path string
	// Size is the size at walk time.
	Size int64
	// Stat identifies the file version for the reuse cache.
	Stat FileStat
}

// FileStat is what the reuse cache compares to decide a file is unchanged.
type FileStat struct {
	Size    int64  `json:"size"`
	MtimeNS int64  `json:"mtime_ns"`
	CtimeNS int64  `json:"ctime_ns"`
	Inode   uint64 `json:"inode"`
	Dev     uint64 `json:"dev"`
}

// WalkOptions controls Walk.
type WalkOptions struct {
	// AllowSymlinks hashes the target of symbolic links that resolve inside
	// the model root. Links that leave the root are an error even then.
	// Links to directories are not descended (model_signing does not
	// descend them either). Without it any symbolic link is an error.
	AllowSymlinks bool
	// Ignore lists model-relative '/'-separated paths: a file is skipped
	// when one of them equals the file's path or is a directory prefix of it
	// (whole components: "scratch" ignores "scratch/a", not "scratchpad").
	Ignore []string
}

// ModelName is the subject name model_signing records for a model path:
// its last component, or the last component of the resolved path when the
// given path has none ("." or "..").
func ModelName(modelPath string) string {
	clean := filepath.Clean(modelPath)
	base := filepath.Base(clean)
	if base == "." || base == ".." || base == string(filepath.Separator) {
		if abs, err := filepath.Abs(clean); err == nil {
			if r, err := filepath.EvalSymlinks(abs); err == nil {
				abs = r
			}
			base = filepath.Base(abs)
		}
	}
	return base
}

// Walk lists the regular files of a model (a file or a directory) in
// manifest order: sorted component by component, the order model_signing
// uses. It never follows symbolic links unless AllowSymlinks is set, and
// fails on special files (FIFOs, sockets, devices), non-UTF-8 names and
// links that leave the model root.
func Walk(modelPath string, o WalkOptions) ([]File, error) {
	fi, err := os.Lstat(modelPath)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", modelPath, err)
	}
	ign := normIgnores(o.Ignore)
	if fi.Mode()&fs.ModeSymlink != 0 {
		if !o.AllowSymlinks {
			return nil, &Failure{Kind: KindSymlink, Path: modelPath, Msg: fmt.Sprintf("model path %s is a symbolic link; pass --allow-symlinks to follow it", modelPath)}
		}
		fi, err = os.Stat(modelPath)
		if err != nil {
			return nil, &Failure{Kind: KindSymlink, Path: modelPath, Msg: fmt.Sprintf("model path %s is a dangling symbolic link", modelPath)}
		}
	}
	if fi.Mode().IsRegular() {
		return []File{{Name: ".", Path: modelPath, Size: fi.Size(), Stat: statOf(fi)}}, nil
	}
	if !fi.IsDir() {
		return nil, &Failure{Kind: KindSpecialFile, Path: modelPath, Msg: fmt.Sprintf("model %s is neither a file nor a directory", modelPath)}
	}
	root, err := filepath.Abs(modelPath)
	if err != nil {
		return nil, err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	var files []File
	err = filepath.WalkDir(modelPath, func(p string, d fs.DirEntry, werr error) error {
		if werr != nil {
			return fmt.Errorf("walk %s: %w", p, werr)
		}
		if p == modelPath {
			return nil
		}
		rel, err := filepath.Rel(modelPath, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if !utf8.ValidString(name) {
			return fmt.Errorf("%q: file name is not valid UTF-8 and cannot be recorded in a signature", name)
		}
		if ignored(name, ign) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		t := d.Type()
		switch {
		case t.IsDir():
			return nil
		case t.IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, File{Name: name, Path: p, Size: fi.Size(), Stat: statOf(fi)})
		case t&fs.ModeSymlink != 0:
			if !o.AllowSymlinks {
				return &Failure{Kind: KindSymlink, Path: name, Msg: fmt.Sprintf("%s is a symbolic link; pass --allow-symlinks to hash its target", name)}
			}
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return &Failure{Kind: KindSymlink, Path: name, Msg: fmt.Sprintf("%s is a dangling symbolic link: %v", name, err)}
			}
			if !within(realRoot, target) {
				return &Failure{Kind: KindSymlinkEscape, Path: name, Msg: fmt.Sprintf("%s is a symbolic link to %s, outside the model directory", name, target)}
			}
			fi, err := os.Stat(target)
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				// Not descended, as in model_signing.
			case fi.Mode().IsRegular():
				files = append(files, File{Name: name, Path: target, Size: fi.Size(), Stat: statOf(fi)})
			default:
				return &Failure{Kind: KindSpecialFile, Path: name, Msg: fmt.Sprintf("%s links to a special file", name)}
			}
		default:
			return &Failure{Kind: KindSpecialFile, Path: name, Msg: fmt.Sprintf("%s is a special file (%s), not a regular file", name, t.Type())}
		}
		if len(files) > MaxFiles {
			return fmt.Errorf("model has more than %d files", MaxFiles)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b File) int { return comparePaths(a.Name, b.Name) })
	return files, nil
}

// comparePaths orders '/'-separated paths component by component, as
// Python compares PurePosixPath values.
func comparePaths(a, b string) int {
	for {
		ai, bi := strings.IndexByte(a, '/'), strings.IndexByte(b, '/')
		ac, bc := a, b
		if ai >= 0 {
			ac = a[:ai]
		}
		if bi >= 0 {
			bc = b[:bi]
		}
		if c := strings.Compare(ac, bc); c != 0 {
			return c
		}
		switch {
		case ai < 0 && bi < 0:
			return 0
		case ai < 0:
			return -1
		case bi < 0:
			return 1
		}
		a, b = a[ai+1:], b[bi+1:]
	}
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// normIgnores cleans model-relative ignore paths and drops those that
// would leave the root.
func normIgnores(in []string) []string {
	out := make([]string, 0, len(in))
	for _, p := range in {
		p = path.Clean(strings.ReplaceAll(p, "\\", "/"))
		p = strings.TrimPrefix(p, "./")
		if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
			continue
		}
		out = append(out, p)
	}
	return out
}

func ignored(name string, ign []string) bool {
	for _, p := range ign {
		if name == p || (strings.HasPrefix(name, p) && name[len(p)] == '/') {
			return true
		}
	}
	return false
}
