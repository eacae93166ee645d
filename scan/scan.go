// Package scan decides whether model artifacts are safe to load, without
// loading them. It detects each file's format from its content (never from
// its extension), opens containers (PyTorch zip and legacy checkpoints,
// zip, gzip, bzip2, xz, zstd, NumPy .npy), and runs the non-executing
// pickle analysis (scan/pickle) on every pickle it finds. What it cannot open is reported,
// never silently passed.
package scan

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/scan/gguf"
	"github.com/mlgate/mlgate/scan/internal/zipdir"
	"github.com/mlgate/mlgate/scan/keras"
	"github.com/mlgate/mlgate/scan/onnx"
	"github.com/mlgate/mlgate/scan/pickle"
	"github.com/mlgate/mlgate/scan/safetensors"
	"github.com/mlgate/mlgate/scan/savedmodel"
)

// Options configure a scan.
type Options struct {
	// Strict reports every pickle-based file, whatever it contains.
	Strict bool
	// Allow extends the pickle allow-list ("module.name" or "module.*").
	Allow []string
	// MaxDecompressed bounds the bytes read out of one compressed stream.
	MaxDecompressed int64
	// MaxDepth bounds nested containers.
	MaxDepth int
}

// DefaultMaxDecompressed is 4 GiB.
const DefaultMaxDecompressed = 4 << 30

// maxNestedZip bounds a zip nested in another container, which must be
// held in memory.
const maxNestedZip = 256 << 20

// Artifact is what a scan learned about one file.
type Artifact struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	// Pickles lists the pickle streams found, with the globals each uses.
	Pickles  []PickleInfo      `json:"pickles,omitempty"`
	Findings []finding.Finding `json:"-"`
}

// PickleInfo describes one analyzed pickle stream.
type PickleInfo struct {
	Entry    string             `json:"entry,omitempty"`
	Kind     string             `json:"kind"`
	Protocol int                `json:"protocol"`
	Opcodes  int64              `json:"opcodes"`
	Globals  []pickle.GlobalUse `json:"globals"`
}

// File scans one file.
func File(p string, opts Options) (*Artifact, error) {
	if opts.MaxDecompressed == 0 {
		opts.MaxDecompressed = DefaultMaxDecompressed
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = 4
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("scan %s: not a regular file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", p, err)
	}
	defer f.Close()
	a := &Artifact{Path: p}
	s := &scanner{opts: opts, art: a}
	a.Format = s.dispatch(f, fi.Size(), "", 0)
	finding.Sort(a.Findings)
	return a, nil
}

// Magic numbers.
var (
	magicZip     = []byte("PK\x03\x04")
	magicZipEnd  = []byte("PK\x05\x06")
	magicGzip    = []byte{0x1f, 0x8b}
	magicBzip2   = []byte("BZh")
	magicXz      = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicZstd    = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magic7z      = []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}
	magicNpy     = []byte("\x93NUMPY")
	magicGGUF    = []byte("GGUF")
	magicHDF5    = []byte("\x89HDF\r\n\x1a\n")
	legacyTorch  = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e}
	pickleStarts = set0("(", "]", "}", ")", "c", "N", "I", "S", "V", "l", "d", "t", "K", "J", "X", "U", "T", "G", "F", "L", "M", "q", "g", "p", "e")
)

func set0(xs ...string) map[byte]bool {
	m := map[byte]bool{}
	for _, x := range xs {
		m[x[0]] = true
	}
	return m
}

// pickleExts are extensions under which a protocol-0/1 pickle (which has no
// magic number) is expected.
var pickleExts = map[string]bool{
	".pkl": true, ".pickle": true, ".p": true, ".pk": true, ".bin": true, ".pt": true, ".pth": true,
	".ckpt": true, ".model": true, ".joblib": true, ".dat": true, ".data": true, ".sav": true, ".mdl": true,
}

type scanner struct {
	opts Options
	art  *Artifact
}

// report adds a finding of rule at entry@offset.
func (s *scanner) report(rule *finding.Rule, entry string, off int64, msg, evidence string) {
	logical := entry
	if off >= 0 {
		logical += fmt.Sprintf("@offset %d", off)
	}
	if logical == "" {
		logical = "file"
	}
	f := rule.New(finding.Location{File: s.art.Path, Logical: logical}, msg, evidence)
	s.art.Findings = append(s.art.Findings, f)
}

func where(entry string) string {
	if entry == "" {
		return ""
	}
	return " in " + entry
}

// dispatch detects the format of r (size bytes; -1 if unknown) and scans
// it. entry names it inside its container ("" for the file itself).
func (s *scanner) dispatch(r io.Reader, size int64, entry string, depth int) string {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	name := entry
	if name == "" {
		name = s.art.Path
	}
	ext := strings.ToLower(path.Ext(name))
	switch {
	case bytes.HasPrefix(head, magicZip) || bytes.HasPrefix(head, magicZipEnd):
		if ra, ok := r.(io.ReaderAt); ok && size >= 0 {
			if entry != "" && s.tooDeep(entry, depth) {
				return "zip"
			}
			return s.zip(ra, size, entry, depth)
		}
		return s.nestedZip(br, entry, depth)
	case bytes.HasPrefix(head, legacyTorch):
		s.pickles(br, s.reopen(entry), entry, pickle.KindTorch, 5, "legacy PyTorch checkpoint")
		return "pytorch-legacy"
	case len(head) >= 9 && isSafetensorsHeader(head):
		if ra, size, ok := s.randomAccess(r, br, size, entry, "safetensors"); ok {
			_, problems := safetensors.Validate(ra, size)
			for _, p := range problems {
				s.report(SafetensorsInvalid, entry, p.Offset, "safetensors"+where(entry)+": "+p.Msg, p.Msg)
			}
		}
		return "safetensors"
	case bytes.HasPrefix(head, magicNpy):
		return s.npy(br, entry)
	case bytes.HasPrefix(head, magicGzip):
		return s.compressed(br, "gzip", entry, depth)
	case bytes.HasPrefix(head, magicBzip2):
		return s.compressed(br, "bzip2", entry, depth)
	case bytes.HasPrefix(head, magicXz):
		return s.compressed(br, "xz", entry, depth)
	case bytes.HasPrefix(head, magicZstd):
		return s.compressed(br, "zstd", entry, depth)
	case bytes.HasPrefix(head, magic7z):
		s.report(UnscannableContainer, entry, -1,
			fmt.Sprintf("%s%s is a 7z container, which mlgate cannot open: whatever it holds (a pickle, say) was not scanned", s.art.Path, where(entry)),
			"7z")
		return "7z"
	case len(head) > 262 && string(head[257:262]) == "ustar":
		return s.tar(br, entry, depth)
	case bytes.HasPrefix(head, magicGGUF):
		if ra, size, ok := s.randomAccess(r, br, size, entry, "gguf"); ok {
			s.gguf(ra, size, entry)
		}
		return "gguf"
	case bytes.HasPrefix(head, magicHDF5):
		if ra, size, ok := s.randomAccess(r, br, size, entry, "hdf5"); ok {
			return s.h5(ra, size, entry)
		}
		return "hdf5"
	// Weak signatures last: strong magic numbers above win any ambiguity
	// (a safetensors header length can start with 0x80 0x02 or form a
	// valid zlib header).
	case len(head) >= 2 && head[0] == 0x80 && head[1] <= 5:
		s.pickles(br, s.reopen(entry), entry, pickle.KindPlain, 0, "pickle")
		return "pickle"
	case isZlib(head):
		return s.compressed(br, "zlib", entry, depth)
	case len(head) > 0 && pickleStarts[head[0]] && pickleExts[ext]:
		s.pickles(br, s.reopen(entry), entry, pickle.KindPlain, 0, "pickle (protocol 0/1)")
		return "pickle"
	case path.Base(name) == "saved_model.pb":
		if ra, size, ok := s.randomAccess(r, br, size, entry, "saved_model.pb"); ok {
			s.savedModel(ra, size, entry)
		}
		return "savedmodel"
	case ext == ".onnx":
		if ra, size, ok := s.randomAccess(r, br, size, entry, "onnx"); ok {
			s.onnx(ra, size, entry)
		}
		return "onnx"
	}
	return "unknown"
}

// maxSpool bounds how much of a compressed container entry is held in
// memory to give a random-access format (safetensors, GGUF, ONNX, HDF5,
// SavedModel) the random access it needs. Stored zip entries need no copy.
const maxSpool = 256 << 20

// randomAccess returns the content as a ReaderAt of known size: r itself
// when it is one (the file, or a stored zip entry), else a copy of at most
// maxSpool bytes read from br (which holds r's buffered head). A larger
// entry is reported as not analyzed.
func (s *scanner) randomAccess(r io.Reader, br *bufio.Reader, size int64, entry, format string) (io.ReaderAt, int64, bool) {
	if ra, ok := r.(io.ReaderAt); ok && size >= 0 {
		return ra, size, true
	}
	limit := min(s.opts.MaxDecompressed, maxSpool)
	b, err := io.ReadAll(io.LimitReader(br, limit+1))
	if err != nil || int64(len(b)) > limit {
		s.report(UnsupportedFormat, entry, -1,
			fmt.Sprintf("%s%s is %s compressed inside a container and larger than %d bytes (or unreadable), so it was not analyzed; store it uncompressed or scan it extracted", s.art.Path, where(entry), format, limit),
			format+" too large in container")
		return nil, 0, false
	}
	return bytes.NewReader(b), int64(len(b)), true
}

// reopen returns an opener for the scanned file itself (entry ""), whose
// pickle starts at offset 0; nil for anything inside a container.
func (s *scanner) reopen(entry string) func() (io.ReadCloser, error) {
	if entry != "" {
		return nil
	}
	return func() (io.ReadCloser, error) { return os.Open(s.art.Path) }
}

// gguf validates a GGUF file's header, metadata and tensor table and checks
// its chat templates; tensor data is never read.
func (s *scanner) gguf(ra io.ReaderAt, size int64, entry string) {
	_, problems := gguf.Parse(ra, size)
	for _, p := range problems {
		rule := GGUFMalformed
		if p.Kind == gguf.KindTemplate {
			rule = GGUFTemplateInjection
		}
		s.report(rule, entry, p.Offset, "GGUF"+where(entry)+": "+p.Msg, p.Kind+": "+p.Msg)
	}
}

// savedModel walks saved_model.pb for risky graph operations.
func (s *scanner) savedModel(ra io.ReaderAt, size int64, entry string) {
	_, problems := savedmodel.Check(&blockCache{r: ra}, size)
	for _, p := range problems {
		if p.Kind != "op" {
			s.report(SavedModelMalformed, entry, p.Offset, "SavedModel"+where(entry)+": "+p.Msg, p.Msg)
			continue
		}
		f := SavedModelRiskyOp.New(finding.Location{File: s.art.Path, Logical: entry + fmt.Sprintf("@offset %d", p.Offset)}, "SavedModel"+where(entry)+": "+p.Msg, "op "+p.Op)
		if p.Level == savedmodel.High {
			f.Severity = finding.High
		}
		s.art.Findings = append(s.art.Findings, f)
	}
}

// onnx walks an ONNX model's protobuf; tensor bytes are skipped.
func (s *scanner) onnx(ra io.ReaderAt, size int64, entry string) {
	_, problems := onnx.Check(&blockCache{r: ra}, size)
	for _, p := range problems {
		rule := ONNXMalformed
		switch p.Kind {
		case onnx.KindExternalData:
			rule = ONNXExternalData
		case onnx.KindCustomDomain:
			rule = ONNXCustomDomain
		}
		s.report(rule, entry, p.Offset, "ONNX"+where(entry)+": "+p.Msg, p.Kind+": "+p.Msg)
	}
}

// kerasConfig checks a .keras archive's config.json.
func (s *scanner) kerasConfig(r io.Reader, entry string) {
	b, err := io.ReadAll(io.LimitReader(r, keras.MaxConfig+1))
	if err != nil {
		s.report(KerasMalformed, entry, -1, fmt.Sprintf("%s: %s cannot be read: %v", s.art.Path, entry, err), "unreadable")
		return
	}
	s.kerasProblems(keras.CheckConfig(b), entry)
}

// h5 looks for a legacy Keras model_config in an HDF5 file.
func (s *scanner) h5(ra io.ReaderAt, size int64, entry string) string {
	cfg, off, found := keras.FindH5Config(ra, size)
	if !found {
		s.report(UnsupportedFormat, entry, -1,
			fmt.Sprintf("%s%s is HDF5 without a Keras model_config mlgate could locate (it searches the first %d MiB by content; it does not parse HDF5 structures), so it was not analyzed", s.art.Path, where(entry), keras.SearchLimit>>20),
			"hdf5 without model_config")
		return "hdf5"
	}
	s.kerasProblems(keras.CheckConfig(cfg), join(entry, fmt.Sprintf("model_config@offset %d", off)))
	return "keras-h5"
}

func (s *scanner) kerasProblems(ps []keras.Problem, entry string) {
	for _, p := range ps {
		rule := KerasMalformed
		switch p.Kind {
		case keras.KindLambda:
			rule = KerasLambda
		case keras.KindCustom:
			rule = KerasCustomObject
		}
		loc := entry
		if p.Path != "" {
			loc += "#" + p.Path
		}
		s.report(rule, loc, -1, "Keras: "+p.Msg, p.Kind+" "+p.Path)
	}
}

// tooDeep reports (once per container) that nesting reached the limit.
func (s *scanner) tooDeep(entry string, depth int) bool {
	if depth < s.opts.MaxDepth {
		return false
	}
	s.report(UnscannableContainer, entry, -1, fmt.Sprintf("%s%s: containers nested deeper than %d are not opened", s.art.Path, where(entry), s.opts.MaxDepth), "depth")
	return true
}

func (s *scanner) unsupported(entry, format string) {
	s.report(UnsupportedFormat, entry, -1,
		fmt.Sprintf("%s%s is %s; this mlgate recognises the format but does not analyze it yet", s.art.Path, where(entry), format),
		format)
}

// isSafetensorsHeader: an 8-byte little-endian header length, then '{'.
func isSafetensorsHeader(h []byte) bool {
	n := uint64(h[0]) | uint64(h[1])<<8 | uint64(h[2])<<16 | uint64(h[3])<<24 | uint64(h[4])<<32 | uint64(h[5])<<40 | uint64(h[6])<<48 | uint64(h[7])<<56
	return n > 1 && n < 100<<20 && h[8] == '{'
}

// tar scans every regular member of a tar archive by content. The oldest
// PyTorch format is a tar (sys_info, pickle, storages, tensors): it is
// reported, and its pickles are checked with the PyTorch allow-list.
func (s *scanner) tar(r io.Reader, entry string, depth int) string {
	if s.tooDeep(entry, depth) {
		return "tar"
	}
	tr := tar.NewReader(r)
	format := "tar"
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.report(ZipAnomaly, entry, -1, fmt.Sprintf("%s%s: tar archive cannot be read past a point: %v", s.art.Path, where(entry), err), "tar: "+err.Error())
			break
		}
		name := join(entry, h.Name)
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if path.Base(h.Name) == "sys_info" || path.Base(h.Name) == "storages" {
			if format != "pytorch-tar" {
				format = "pytorch-tar"
				s.report(LegacyTarCheckpoint, entry, -1,
					fmt.Sprintf("%s%s is a PyTorch tar checkpoint, the format before 0.4; torch.load only reads it with pickle, and tar members can hold anything", s.art.Path, where(entry)),
					"pytorch tar")
			}
		}
		total += h.Size
		if h.Size < 0 || total > s.opts.MaxDecompressed {
			s.report(ZipAnomaly, name, -1, fmt.Sprintf("%s: tar members exceed %d bytes; the rest was not scanned", s.art.Path, s.opts.MaxDecompressed), "tar size")
			break
		}
		if format == "pytorch-tar" && (path.Base(h.Name) == "storages" || path.Base(h.Name) == "tensors") {
			// A pickle of counts followed by raw storage bytes.
			s.pickles(tr, nil, name, pickle.KindTorch, 1, "legacy PyTorch tar member")
			continue
		}
		if format == "pytorch-tar" {
			s.pickles(tr, nil, name, pickle.KindTorch, 0, "legacy PyTorch tar member")
			continue
		}
		s.dispatch(tr, -1, name, depth+1)
	}
	return format
}

// pickles analyzes the pickle stream(s) in r. When reopen is not nil the
// stream can be read again from the start, and the analysis keeps only the
// memo entries the stream fetches (flat memory on large checkpoints).
func (s *scanner) pickles(r io.Reader, reopen func() (io.ReadCloser, error), entry string, kind pickle.Kind, maxPickles int, what string) {
	lim := pickle.DefaultLimits
	lim.MaxPickle = maxPickles
	pol := &pickle.Policy{Kind: kind, Allow: s.opts.Allow, Strict: s.opts.Strict}
	var res *pickle.Result
	if reopen != nil {
		var err error
		if res, err = pickle.AnalyzeTwoPass(reopen, pol, lim); err != nil {
			res = pickle.Analyze(r, pol, lim)
		}
	} else {
		res = pickle.Analyze(r, pol, lim)
	}
	s.art.Pickles = append(s.art.Pickles, PickleInfo{Entry: entry, Kind: kind.String(), Protocol: res.Stats.Protocol, Opcodes: res.Stats.Opcodes, Globals: res.Globals})
	for _, is := range res.Issues {
		rule := issueRules[is.Kind]
		msg := is.Message
		if is.Count > 1 {
			msg += fmt.Sprintf(" (%d occurrences)", is.Count)
		}
		s.report(rule, entry, is.Offset, strings.TrimSpace(what+where(entry)+": "+msg), is.Key)
	}
}

// zip scans a zip archive, PyTorch's or any other: every entry is
// dispatched by content; a PyTorch layout (…/data.pkl with …/data/ records)
// makes its pickles use the torch allow-list. Tensor data records and a
// .keras archive's weights file are raw arrays and are skipped unread.
//
// The central directory is streamed twice (scan/internal/zipdir) instead
// of loaded: a checkpoint with 100,000 tensors has 100,000 entries, and
// only a handful of them are opened.
func (s *scanner) zip(ra io.ReaderAt, size int64, entry string, depth int) string {
	d, err := zipdir.Open(ra, size)
	if err != nil {
		s.report(PickleMalformed, entry, -1, fmt.Sprintf("%s%s looks like a zip archive but cannot be read: %v", s.art.Path, where(entry), err), "zip: "+err.Error())
		return "zip"
	}
	// Local headers are spread through the file; a block cache of their
	// own turns 100,000 of them into a few dozen reads.
	local := &zipdir.Local{}
	lr := &blockCache{r: ra}
	ld, _ := zipdir.Open(lr, size)
	// Pass 1: duplicate names (by a keyed hash, so memory stays small and
	// collisions cannot be forced), PyTorch prefixes, the Keras layout,
	// and each entry's local header name.
	seed := maphash.MakeSeed()
	counts := make(map[uint64]uint32, min(d.Count(), 1<<20))
	dups := map[string]int{}
	torchPrefixes := map[string]bool{}
	var hasConfig, hasKerasMeta bool
	err = d.Walk(func(e *zipdir.Entry) error {
		h := maphash.Bytes(seed, e.Name)
		counts[h]++
		if counts[h] > 1 {
			dups[string(e.Name)] = int(counts[h])
		}
		name := e.Name
		switch {
		case bytes.HasSuffix(name, []byte("/data.pkl")) || string(name) == "data.pkl":
			torchPrefixes[string(name[:len(name)-len("data.pkl")])] = true
		case string(name) == "config.json":
			hasConfig = true
		case string(name) == "metadata.json" || string(name) == "model.weights.h5":
			hasKerasMeta = true
		}
		if err := ld.ReadLocal(e, local); err != nil {
			s.report(ZipAnomaly, join(entry, string(e.Name)), -1,
				fmt.Sprintf("%s: no local file header found for entry %q", s.art.Path, e.Name), "no local header "+string(e.Name))
		} else if !bytes.Equal(local.Name, e.Name) {
			s.report(ZipAnomaly, join(entry, string(e.Name)), -1,
				fmt.Sprintf("%s: entry is named %q in the central directory but %q in its local header; tools that read different headers see different files", s.art.Path, e.Name, local.Name),
				"local name "+string(local.Name)+" central "+string(e.Name))
		}
		return nil
	})
	if err != nil {
		s.report(PickleMalformed, entry, -1, fmt.Sprintf("%s%s looks like a zip archive but cannot be read: %v", s.art.Path, where(entry), err), "zip: "+err.Error())
		return "zip"
	}
	counts = nil
	names := make([]string, 0, len(dups))
	for n := range dups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.report(ZipAnomaly, join(entry, n), -1,
			fmt.Sprintf("%s: the zip holds %d entries named %q; loaders disagree on which one they read, so a scanner may check one and the loader run the other", s.art.Path, dups[n], n),
			"duplicate "+n)
	}
	format := "zip"
	if len(torchPrefixes) > 0 {
		format = "pytorch-zip"
	}
	if hasConfig && hasKerasMeta {
		format = "keras"
	}
	// Pass 2: keep only the entries that will be opened.
	var todo []zipdir.Entry
	d.Walk(func(e *zipdir.Entry) error {
		if e.IsDir() || isTorchDataRecord(e.Name, torchPrefixes) || format == "keras" && string(e.Name) == "model.weights.h5" {
			return nil
		}
		c := *e
		c.Name = append([]byte(nil), e.Name...)
		todo = append(todo, c)
		return nil
	})
	for i := range todo {
		s.zipEntry(ld, &todo[i], torchPrefixes, format, entry, depth)
	}
	return format
}

// zipEntry scans one entry of an archive.
func (s *scanner) zipEntry(d *zipdir.Dir, f *zipdir.Entry, torchPrefixes map[string]bool, format, entry string, depth int) {
	fname := string(f.Name)
	name := join(entry, fname)
	if f.Encrypted() {
		s.report(UnscannableContainer, name, -1, fmt.Sprintf("%s: entry %s is encrypted and cannot be scanned", s.art.Path, fname), "encrypted "+fname)
		return
	}
	kind := pickle.KindPlain
	dir := path.Dir(fname) + "/"
	if path.Dir(fname) == "." {
		dir = ""
	}
	if torchPrefixes[dir] {
		kind = pickle.KindTorch
	}
	if f.UncompressedSize > uint64(s.opts.MaxDecompressed) || (f.CompressedSize > 0 && f.UncompressedSize/f.CompressedSize > 1000 && f.UncompressedSize > 100<<20) {
		s.report(ZipAnomaly, name, -1, fmt.Sprintf("%s: entry %s declares %d bytes from %d compressed (a zip bomb, or larger than the %d-byte limit): not scanned", s.art.Path, fname, f.UncompressedSize, f.CompressedSize, s.opts.MaxDecompressed), "bomb "+fname)
		return
	}
	open := func() (io.ReadCloser, error) {
		var l zipdir.Local
		if err := d.ReadLocal(f, &l); err != nil {
			return nil, err
		}
		return d.OpenEntry(f, l.DataOffset)
	}
	rc, err := open()
	if err != nil {
		s.report(ZipAnomaly, name, -1, fmt.Sprintf("%s: entry %s cannot be opened: %v", s.art.Path, fname, err), "open "+fname)
		return
	}
	defer rc.Close()
	if format == "keras" && fname == "config.json" {
		s.kerasConfig(rc, name)
	} else if strings.HasSuffix(fname, ".pkl") || kind == pickle.KindTorch && strings.HasSuffix(fname, "data.pkl") {
		s.pickles(rc, open, name, kind, 0, "pickle")
	} else if !s.tooDeep(name, depth) {
		var l zipdir.Local
		if sec := d.Stored(f); sec != nil && d.ReadLocal(f, &l) == nil {
			// Stored: the content is a byte range of the archive, so formats
			// that need random access get it without a copy. The CRC-32 is
			// still checked by draining rc below.
			s.dispatch(sec(l.DataOffset), int64(f.UncompressedSize), name, depth+1)
		} else {
			s.dispatch(rc, -1, name, depth+1)
		}
	}
	// Drain, so the size and CRC-32 are checked against the directory.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		s.report(ZipAnomaly, name, -1, fmt.Sprintf("%s: entry %s: %v (its content differs from what the archive declares)", s.art.Path, fname, err), "crc "+fname)
	}
}

func (s *scanner) nestedZip(r io.Reader, entry string, depth int) string {
	if s.tooDeep(entry, depth) {
		return "zip"
	}
	// A zip needs random access, so a nested one is held in memory: bounded
	// well below the streaming limit.
	limit := min(s.opts.MaxDecompressed, maxNestedZip)
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil || int64(len(b)) > limit {
		s.report(UnscannableContainer, entry, -1, fmt.Sprintf("%s%s: nested zip larger than %d bytes or unreadable; not scanned", s.art.Path, where(entry), limit), "nested-zip-size")
		return "zip"
	}
	return s.zip(bytes.NewReader(b), int64(len(b)), entry, depth+1)
}

// isTorchDataRecord reports whether name is PREFIX/data/... for one of
// the archive's PyTorch prefixes (the directory holding data.pkl). Only the
// positions where "data/" starts a path element are tried, so the cost
// does not grow with the number of prefixes.
func isTorchDataRecord(name []byte, prefixes map[string]bool) bool {
	if len(prefixes) == 0 {
		return false
	}
	for i := 0; i+5 <= len(name); i++ {
		if (i == 0 || name[i-1] == '/') && string(name[i:i+5]) == "data/" && prefixes[string(name[:i])] {
			return true
		}
	}
	return false
}

func join(entry, name string) string {
	if entry == "" {
		return name
	}
	return entry + "!" + name
}

// compressed scans a gzip, bzip2, zlib, xz or zstd stream's content,
// bounded (xz and zstd also in decoder memory: see compress.go).
func (s *scanner) compressed(r io.Reader, kind, entry string, depth int) string {
	if s.tooDeep(entry, depth) {
		return kind
	}
	var dr io.Reader
	var err error
	switch kind {
	case "gzip":
		dr, err = gzip.NewReader(r)
	case "zlib":
		dr, err = zlib.NewReader(r)
	case "xz":
		dr, err = newXzReader(r)
	case "zstd":
		dr, err = newZstdReader(r)
	default:
		dr = bzip2.NewReader(r)
	}
	if err != nil {
		s.report(UnscannableContainer, entry, -1, fmt.Sprintf("%s%s: %s stream cannot be read: %v", s.art.Path, where(entry), kind, err), kind)
		return kind
	}
	if c, ok := dr.(io.Closer); ok {
		defer c.Close()
	}
	var capture *captureReader
	if kind == "xz" || kind == "zstd" {
		capture = &captureReader{r: dr}
		dr = capture
	}
	inner := entry
	if inner == "" {
		inner = "(" + kind + ")"
	} else {
		inner += "!(" + kind + ")"
	}
	lr := &limitedReader{r: dr, n: s.opts.MaxDecompressed}
	f := s.dispatch(lr, -1, inner, depth+1)
	if capture != nil {
		s.finishStream(lr, capture, kind, entry)
	}
	if lr.hit {
		s.report(ZipAnomaly, inner, -1, fmt.Sprintf("%s: %s stream decompresses to more than %d bytes; the rest was not scanned", s.art.Path, kind, s.opts.MaxDecompressed), kind+" bomb")
	}
	return kind + "+" + f
}

type limitedReader struct {
	r   io.Reader
	n   int64
	hit bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		l.hit = true
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// npy reads a NumPy .npy header; an object dtype means a pickle follows.
func (s *scanner) npy(r *bufio.Reader, entry string) string {
	head := make([]byte, 10)
	if _, err := io.ReadFull(r, head); err != nil {
		s.report(PickleMalformed, entry, 0, fmt.Sprintf("%s%s: truncated .npy header", s.art.Path, where(entry)), "npy truncated")
		return "npy"
	}
	var hlen int
	off := int64(10)
	switch head[6] {
	case 1:
		hlen = int(head[8]) | int(head[9])<<8
	case 2, 3:
		more := make([]byte, 2)
		if _, err := io.ReadFull(r, more); err != nil {
			s.report(PickleMalformed, entry, 0, fmt.Sprintf("%s%s: truncated .npy header", s.art.Path, where(entry)), "npy truncated")
			return "npy"
		}
		hlen = int(head[8]) | int(head[9])<<8 | int(more[0])<<16 | int(more[1])<<24
		off = 12
	default:
		s.report(PickleMalformed, entry, 6, fmt.Sprintf("%s%s: unknown .npy version %d", s.art.Path, where(entry), head[6]), "npy version")
		return "npy"
	}
	if hlen > 1<<20 {
		s.report(PickleMalformed, entry, 8, fmt.Sprintf("%s%s: .npy header of %d bytes exceeds the 1 MiB limit", s.art.Path, where(entry), hlen), "npy header size")
		return "npy"
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		s.report(PickleMalformed, entry, off, fmt.Sprintf("%s%s: truncated .npy header", s.art.Path, where(entry)), "npy truncated")
		return "npy"
	}
	if bytes.Contains(h, []byte("'|O'")) || bytes.Contains(h, []byte("\"|O\"")) {
		s.pickles(r, nil, join(entry, "(object array)"), pickle.KindPlain, 0, "pickled object array")
		return "npy-object"
	}
	return "npy"
}

// Detect reads the start of the file at p and names its model format, or
// returns "" when it is not a model artifact mlgate recognises. It reads at
// most 512 bytes.
func Detect(p string) string {
	// Only regular files: opening a FIFO for reading would block.
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	format := sniff(head[:n], strings.ToLower(path.Base(p)))
	if format == "pickle" && len(head) > 0 && head[0] != 0x80 {
		// A protocol 0/1 pickle has no magic number; during a walk, also
		// require that the file ends with STOP, so text files that happen
		// to start with an opcode letter (.dat, .data, .bin) are left alone.
		if fi, err := f.Stat(); err != nil || fi.Size() == 0 {
			return ""
		} else {
			var last [1]byte
			if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil || last[0] != '.' {
				return ""
			}
		}
	}
	return format
}

// sniff names the format of a file from its first bytes (and, only for
// pickles of protocol 0/1, which have no magic number, its extension).
func sniff(head []byte, name string) string {
	ext := path.Ext(name)
	switch {
	case bytes.HasPrefix(head, magicZip) || bytes.HasPrefix(head, magicZipEnd):
		if zipExts[ext] || bytes.Contains(head, []byte("data.pkl")) || bytes.Contains(head, []byte(".pkl")) {
			return "zip"
		}
		return "" // an ordinary zip (a docx, a jar) is not a model artifact
	case bytes.HasPrefix(head, legacyTorch):
		return "pytorch-legacy"
	case len(head) >= 9 && isSafetensorsHeader(head):
		return "safetensors"
	case bytes.HasPrefix(head, magicNpy):
		return "npy"
	case bytes.HasPrefix(head, magicGGUF):
		return "gguf"
	case bytes.HasPrefix(head, magicHDF5) && (ext == ".h5" || ext == ".hdf5" || ext == ".keras"):
		return "hdf5"
	case len(head) >= 3 && head[0] == 0x80 && head[1] <= 5 && pickle.IsOpcode(head[2]):
		return "pickle"
	case len(head) > 0 && pickleStarts[head[0]] && pickleExts[ext]:
		return "pickle"
	case ext == ".onnx" && len(head) > 0 && head[0] == 0x08:
		return "onnx"
	case name == "saved_model.pb":
		return "savedmodel"
	case bytes.HasPrefix(head, magic7z), bytes.HasPrefix(head, magicXz), bytes.HasPrefix(head, magicZstd),
		bytes.HasPrefix(head, magicGzip), bytes.HasPrefix(head, magicBzip2), isZlib(head):
		if looksLikeModelName(name) {
			return "compressed"
		}
	}
	return ""
}

// zipExts are zip-based model formats.
var zipExts = map[string]bool{".pt": true, ".pth": true, ".ckpt": true, ".bin": true, ".npz": true, ".keras": true, ".model": true, ".mar": true}

// isZlib recognises a zlib stream header (joblib's compress=N writes one):
// deflate with a 32 KiB window or smaller, and the header checksum.
func isZlib(h []byte) bool {
	return len(h) >= 2 && h[0]&0x0f == 8 && h[0]>>4 <= 7 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0
}

// looksLikeModelName says whether a compressed file's name suggests a
// model inside (model.pkl.gz, weights.pt.7z); compressed files in general
// (logs, tarballs of sources) are not opened during a walk.
func looksLikeModelName(name string) bool {
	for _, part := range strings.Split(name, ".")[1:] {
		if pickleExts["."+part] || part == "7z" || part == "npy" || part == "npz" {
			return true
		}
	}
	return false
}

// blockCache serves small ReadAt calls from one cached 1 MiB block, so
// checking the local headers of 100,000 entries costs a few hundred reads,
// not 100,000.
type blockCache struct {
	r     io.ReaderAt
	start int64
	buf   []byte
}

const (
	cacheBlock = 1 << 20
	smallBlock = 16 << 10
)

func (c *blockCache) ReadAt(p []byte, off int64) (int, error) {
	if len(p) > cacheBlock/2 {
		return c.r.ReadAt(p, off)
	}
	if c.buf == nil || off < c.start || off+int64(len(p)) > c.start+int64(len(c.buf)) {
		// Requests normally move forward through the file, so a miss reads
		// a large block ahead; a miss behind the block (a hostile archive
		// whose headers run backwards) reads a small one, so such a file
		// cannot turn each tiny read into a megabyte copied.
		size := cacheBlock
		if c.buf != nil && off < c.start {
			size = max(smallBlock, len(p))
		}
		c.start = off
		if c.buf == nil {
			c.buf = make([]byte, cacheBlock)
		}
		n, err := c.r.ReadAt(c.buf[:size], c.start)
		c.buf = c.buf[:n]
		if off+int64(len(p)) > c.start+int64(n) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
	return copy(p, c.buf[off-c.start:]), nil
}
