package sign

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ChecksumLine formats one sha256sum line ("<hex>  <path>"). Like GNU
// sha256sum, a path holding a backslash, newline or carriage return is
// escaped and the line starts with a backslash.
func ChecksumLine(digest []byte, path string) string {
	h := hex.EncodeToString(digest)
	if strings.ContainsAny(path, "\\\n\r") {
		r := strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r")
		return "\\" + h + "  " + r.Replace(path)
	}
	return h + "  " + path
}

// ChecksumEntry is one parsed line of a checksum file.
type ChecksumEntry struct {
	Line   int
	Path   string
	Digest []byte
}

// Limits of ParseChecksums.
const (
	maxChecksumLine  = 64 << 10
	maxChecksumLines = MaxFiles
)

// ParseChecksums reads a sha256sum-format file: "<hex>  <path>" or
// "<hex> *<path>" (binary mode), GNU backslash escapes, and the BSD form
// "SHA256 (<path>) = <hex>". Malformed lines are counted in bad, as
// sha256sum -c does, not returned as errors.
func ParseChecksums(r io.Reader) (entries []ChecksumEntry, bad int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxChecksumLine)
	n := 0
	for sc.Scan() {
		n++
		if n > maxChecksumLines {
			return nil, bad, fmt.Errorf("more than %d lines", maxChecksumLines)
		}
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, ok := parseChecksumLine(line)
		if !ok {
			bad++
			continue
		}
		e.Line = n
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, bad, err
	}
	return entries, bad, nil
}

func parseChecksumLine(line string) (ChecksumEntry, bool) {
	if rest, ok := strings.CutPrefix(line, "SHA256 ("); ok {
		i := strings.LastIndex(rest, ") = ")
		if i < 0 {
			return ChecksumEntry{}, false
		}
		d, err := hex.DecodeString(rest[i+4:])
		if err != nil || len(d) != 32 || rest[:i] == "" {
			return ChecksumEntry{}, false
		}
		return ChecksumEntry{Path: rest[:i], Digest: d}, true
	}
	escaped := strings.HasPrefix(line, "\\")
	if escaped {
		line = line[1:]
	}
	if len(line) < 66 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') {
		return ChecksumEntry{}, false
	}
	d, err := hex.DecodeString(line[:64])
	if err != nil {
		return ChecksumEntry{}, false
	}
	p := line[66:]
	if escaped {
		var b strings.Builder
		for i := 0; i < len(p); i++ {
			if p[i] != '\\' {
				b.WriteByte(p[i])
				continue
			}
			if i+1 >= len(p) {
				return ChecksumEntry{}, false
			}
			i++
			switch p[i] {
			case '\\':
				b.WriteByte('\\')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				return ChecksumEntry{}, false
			}
		}
		p = b.String()
	}
	if p == "" {
		return ChecksumEntry{}, false
	}
	return ChecksumEntry{Path: p, Digest: d}, true
}

// CheckStatus is the outcome for one checksum entry.
type CheckStatus int

// Check outcomes.
const (
	CheckOK CheckStatus = iota
	CheckMismatch
	CheckUnreadable
)

// CheckChecksums hashes the listed files in parallel (paths relative to
// the current directory, symbolic links followed, as sha256sum -c does)
// and reports a status for each entry, in input order.
func CheckChecksums(entries []ChecksumEntry, workers int, progress func(done, total int64)) ([]CheckStatus, error) {
	st := make([]CheckStatus, len(entries))
	var files []File
	idx := map[string][]int{}
	for i, e := range entries {
		fi, err := os.Stat(e.Path)
		if err != nil || !fi.Mode().IsRegular() {
			st[i] = CheckUnreadable
			continue
		}
		name := fmt.Sprintf("%d", i)
		// Open by the resolved path; Name is only a key.
		p := e.Path
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		files = append(files, File{Name: name, Path: p, Size: fi.Size()})
		idx[name] = append(idx[name], i)
	}
	res, err := hashEach(files, workers, progress)
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		j := idx[f.Name][0]
		switch {
		case res[i] == nil:
			st[j] = CheckUnreadable
		case string(res[i]) != string(entries[j].Digest):
			st[j] = CheckMismatch
		}
	}
	return st, nil
}

// hashEach hashes whole files, returning nil for a file that could not be
// read instead of failing the batch.
func hashEach(files []File, workers int, progress func(done, total int64)) ([][]byte, error) {
	out := make([][]byte, len(files))
	ok := make([]File, 0, len(files))
	pos := make([]int, 0, len(files))
	for i, f := range files {
		ok = append(ok, f)
		pos = append(pos, i)
	}
	// Hash one at a time on failure so one unreadable file does not hide
	// the others.
	res, err := Hash(ok, HashOptions{Method: MethodFiles, Workers: workers, Progress: progress})
	if err == nil {
		for i, r := range res {
			out[pos[i]] = r.Digest
		}
		return out, nil
	}
	for i, f := range ok {
		r, err := Hash([]File{f}, HashOptions{Method: MethodFiles, Workers: 1})
		if err == nil {
			out[pos[i]] = r[0].Digest
		}
	}
	return out, nil
}
