// Package gguf parses and validates the metadata of GGUF model files (the
// llama.cpp / ggml format) without reading tensor data, and checks their
// chat templates for server-side template injection.
//
// Parse walks the header, every metadata key/value pair and every tensor
// info, and reports what is malformed: bad magic or version, counts and
// lengths that cannot fit in the file, unknown value or tensor types,
// duplicate or invalid keys and tensor names, a bad general.alignment,
// tensors that are misaligned, reach past the end of the file or overlap
// each other. Every declared length is checked against the bytes actually
// left in the file before anything is allocated or looped over, so hostile
// counts cost nothing. Parsing continues after a problem wherever the
// structure still says where the next field is.
//
// Chat templates (tokenizer.chat_template and tokenizer.chat_template.*)
// are Jinja2 source that some loaders rendered in an unsandboxed
// environment (llama-cpp-python before 0.2.72, CVE-2024-34359): a template
// that reaches Python internals runs code when the model is loaded. Parse
// scans the whole text of every chat template for the attribute names,
// globals and filters such payloads need and reports each as a Critical
// "template" problem. The scan is a tripwire, not a proof of safety: a
// template that builds its attribute names at run time can evade it, so
// templates must still be rendered only in a sandboxed environment.
//
// Reads are buffered, but in a well-formed file the read-ahead never goes
// past the end of the tensor infos: Parse never reads tensor data.
package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"sort"
	"strings"
	"unicode/utf8"
)

// Severity ranks a Problem.
type Severity int

// Severities, in increasing order.
const (
	// Medium is for problems that are suspicious but not known to be
	// exploitable. Parse does not currently report any.
	Medium Severity = iota + 1
	// High is for format violations: readers disagree about, or crash on,
	// such files.
	High
	// Critical is for content that runs code in a known loader.
	Critical
)

// String returns the lower-case name of the severity.
func (s Severity) String() string {
	switch s {
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Problem kinds.
const (
	// KindMalformed marks format violations and out-of-bounds structures.
	KindMalformed = "malformed"
	// KindTemplate marks chat-template injection.
	KindTemplate = "template"
)

// Problem is something wrong or dangerous in the file.
type Problem struct {
	// Offset is the byte offset in the file of the field concerned: the
	// start of the bad field for format problems, the start of the
	// template value (its uint64 length prefix) for template problems.
	Offset int64
	// Msg describes the problem. It is bounded in length and quotes
	// file content with control characters escaped.
	Msg string
	// Kind is KindMalformed or KindTemplate.
	Kind string
	// Severity is High for KindMalformed, Critical for KindTemplate.
	Severity Severity
}

// String formats the problem on one line.
func (p Problem) String() string {
	return fmt.Sprintf("%s %s at offset %d: %s", p.Severity, p.Kind, p.Offset, p.Msg)
}

// Info is what Parse learned about the file. Fields the file did not get
// far enough to declare are zero (Alignment is then DefaultAlignment).
type Info struct {
	// Version is the GGUF format version from the header.
	Version uint32
	// TensorCount is the declared number of tensor infos.
	TensorCount uint64
	// KVCount is the declared number of metadata key/value pairs.
	KVCount uint64
	// Architecture is the general.architecture string, if present (the
	// first 1 KiB of it).
	Architecture string
	// ChatTemplates maps each tokenizer.chat_template and
	// tokenizer.chat_template.* key to the first 64 KiB of its string
	// value. At most 16 templates are kept (the first ones in the file);
	// every template is scanned in full whether kept or not.
	ChatTemplates map[string]string
	// Alignment is the alignment of the data section in use: a valid
	// general.alignment, or DefaultAlignment.
	Alignment uint64
	// DataOffset is the file offset of the data section: the end of the
	// tensor infos rounded up to Alignment. It is zero if the tensor infos
	// could not be parsed to the end.
	DataOffset int64
}

// Limits and defaults Parse applies.
const (
	// DefaultAlignment is the data-section alignment when the file does
	// not set general.alignment.
	DefaultAlignment = 32
	// MaxProblems caps the problems Parse returns. When the cap is
	// reached the last problem says so and parsing stops.
	MaxProblems = 100
	// MaxKeyLen is the longest metadata key (and tensor name) accepted.
	MaxKeyLen = 16 << 20
	// MaxStringLen is the longest string value accepted.
	MaxStringLen = 64 << 20
	// MaxArrayDepth is how deeply arrays may nest (an array of arrays is
	// depth 2).
	MaxArrayDepth = 4
	// MaxDims is GGML_MAX_DIMS, the most dimensions a tensor may have.
	MaxDims = 4
	// MaxTensorName is the longest tensor name ggml accepts
	// (GGML_MAX_NAME-1 bytes).
	MaxTensorName = 63
	// MaxTemplateKeep is how much of each chat template Info keeps.
	MaxTemplateKeep = 64 << 10
	// MaxTemplates is how many chat templates Info keeps.
	MaxTemplates = 16

	maxArchKeep = 1 << 10
	// Minimum encoded sizes used to bound declared counts.
	minKVSize     = 12 // key length + value type
	minTensorSize = 24 // name length + n_dims + type + offset
	headerSize    = 24 // magic, version, tensor_count, metadata_kv_count
)

// GGUF metadata value types.
const (
	typeUint8   = 0
	typeInt8    = 1
	typeUint16  = 2
	typeInt16   = 3
	typeUint32  = 4
	typeInt32   = 5
	typeFloat32 = 6
	typeBool    = 7
	typeString  = 8
	typeArray   = 9
	typeUint64  = 10
	typeInt64   = 11
	typeFloat64 = 12
)

var valueTypeNames = [...]string{
	"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
	"BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64",
}

func valueTypeName(t uint32) string {
	if t < uint32(len(valueTypeNames)) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type %d", t)
}

// fixedSize is the encoded size of a fixed-size value type, or 0.
func fixedSize(t uint32) int64 {
	switch t {
	case typeUint8, typeInt8, typeBool:
		return 1
	case typeUint16, typeInt16:
		return 2
	case typeUint32, typeInt32, typeFloat32:
		return 4
	case typeUint64, typeInt64, typeFloat64:
		return 8
	}
	return 0
}

// minValueSize is the smallest encoding of a value of type t, or 0 if t is
// not a known type.
func minValueSize(t uint32) int64 {
	switch t {
	case typeString:
		return 8
	case typeArray:
		return 12
	}
	return fixedSize(t)
}

// ggmlType describes a tensor element type. blck and size are the block
// size in elements and its encoded size in bytes; size 0 means the byte
// size is not checked.
type ggmlType struct {
	name       string
	blck, size uint64
}

var ggmlTypes = map[uint32]ggmlType{
	0:  {"F32", 1, 4},
	1:  {"F16", 1, 2},
	2:  {"Q4_0", 32, 18},
	3:  {"Q4_1", 32, 20},
	6:  {"Q5_0", 32, 22},
	7:  {"Q5_1", 32, 24},
	8:  {"Q8_0", 32, 34},
	9:  {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84},
	11: {"Q3_K", 256, 110},
	12: {"Q4_K", 256, 144},
	13: {"Q5_K", 256, 176},
	14: {"Q6_K", 256, 210},
	15: {"Q8_K", 256, 292},
	16: {"IQ2_XXS", 0, 0},
	17: {"IQ2_XS", 0, 0},
	18: {"IQ3_XXS", 0, 0},
	19: {"IQ1_S", 0, 0},
	20: {"IQ4_NL", 0, 0},
	21: {"IQ3_S", 0, 0},
	22: {"IQ2_S", 0, 0},
	23: {"IQ4_XS", 0, 0},
	24: {"I8", 1, 1},
	25: {"I16", 1, 2},
	26: {"I32", 1, 4},
	27: {"I64", 1, 8},
	28: {"F64", 1, 8},
	29: {"IQ1_M", 0, 0},
	30: {"BF16", 1, 2},
	// Newer ggml types seen in published files; sizes not checked.
	34: {"TQ1_0", 0, 0},
	35: {"TQ2_0", 0, 0},
	39: {"MXFP4", 0, 0},
}

// tensor is one parsed tensor info.
type tensor struct {
	off    int64 // start of the tensor info record
	name   string
	typ    uint32
	dims   [MaxDims]uint64 // unused dimensions are 1, as in ggml
	nelem  uint64          // product of dims; valid if shapeOK
	offset uint64          // relative to the data section

	shapeOK bool // n_dims and dims valid, nelem computed
}

type parser struct {
	rd    reader
	info  *Info
	probs []Problem
	stop  bool // problem cap reached

	keys      map[string]int64
	align     uint64
	alignSeen bool
	archSeen  bool
	tensors   []tensor
	names     map[string]int64
	tmpl      templateScanner
}

// Parse reads the GGUF header, metadata and tensor infos through r (whose
// size is given) and returns what it found and every problem, nil for a
// valid file with safe chat templates. It never panics on any input, never
// allocates in proportion to a declared length that the file cannot hold,
// and never reads tensor data. Info is never nil.
func Parse(r io.ReaderAt, size int64) (*Info, []Problem) {
	p := &parser{
		rd:    reader{r: r, size: size},
		info:  &Info{Alignment: DefaultAlignment},
		keys:  map[string]int64{},
		names: map[string]int64{},
		align: DefaultAlignment,
	}
	p.run()
	p.info.Alignment = p.align
	if len(p.probs) == 0 {
		return p.info, nil
	}
	return p.info, p.probs
}

// add records a problem. At the cap it records a final note instead and
// stops the parse.
func (p *parser) add(off int64, kind string, sev Severity, msg string) {
	if p.stop {
		return
	}
	if len(p.probs) == MaxProblems-1 {
		p.probs = append(p.probs, Problem{
			Offset:   off,
			Kind:     KindMalformed,
			Severity: High,
			Msg:      fmt.Sprintf("too many problems: stopped after %d (next: %s)", MaxProblems-1, clip(msg, 200)),
		})
		p.stop = true
		return
	}
	p.probs = append(p.probs, Problem{Offset: off, Msg: msg, Kind: kind, Severity: sev})
}

func (p *parser) malformed(off int64, format string, args ...any) {
	p.add(off, KindMalformed, High, fmt.Sprintf(format, args...))
}

// read returns the next n bytes, or reports why it cannot and returns nil.
func (p *parser) read(n int, what string) []byte {
	off := p.rd.off
	b := p.rd.next(n)
	if b == nil {
		p.readFailed(off, n, what)
	}
	return b
}

// readFailed reports why n bytes at off could not be read.
func (p *parser) readFailed(off int64, n int, what string) {
	if p.rd.err != nil {
		p.malformed(off, "reading %s: %v (file shorter than its stated size?)", what, p.rd.err)
	} else {
		p.malformed(off, "file ends inside %s: need %d bytes, %d left", what, n, max(p.rd.left(), 0))
	}
}

func (p *parser) u32(what string) (uint32, bool) {
	b := p.read(4, what)
	if b == nil {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b), true
}

func (p *parser) u64(what string) (uint64, bool) {
	b := p.read(8, what)
	if b == nil {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// skip advances over n bytes the caller has checked are in the file.
func (p *parser) skip(n int64, what string) bool {
	if !p.rd.skip(n) {
		p.malformed(p.rd.off, "file ends inside %s: need %d bytes, %d left", what, n, max(p.rd.left(), 0))
		return false
	}
	return true
}

func (p *parser) run() {
	if p.rd.size < 0 {
		p.malformed(0, "negative file size %d", p.rd.size)
		return
	}
	p.rd.promise(headerSize)
	magic := p.read(4, "magic")
	if magic == nil {
		return
	}
	if string(magic) != "GGUF" {
		p.malformed(0, "bad magic %s, want \"GGUF\"", quote(magic, 16))
		return
	}
	v, ok := p.u32("version")
	if !ok {
		return
	}
	p.info.Version = v
	switch {
	case v == 2 || v == 3:
	case v == 1:
		p.malformed(4, "unsupported GGUF version 1 (32-bit counts and lengths)")
		return
	case v != 0 && v&0xffff == 0 && bits.ReverseBytes32(v) <= 3:
		p.malformed(4, "unsupported GGUF version %#x: a big-endian file", v)
		return
	default:
		p.malformed(4, "unsupported GGUF version %d (want 2 or 3)", v)
		return
	}
	tc, ok := p.u64("tensor_count")
	if !ok {
		return
	}
	p.info.TensorCount = tc
	kc, ok := p.u64("metadata_kv_count")
	if !ok {
		return
	}
	p.info.KVCount = kc
	left := uint64(p.rd.left())
	if kc > left/minKVSize {
		p.malformed(16, "metadata_kv_count %d cannot fit in the %d bytes left (each pair needs at least %d)", kc, left, minKVSize)
		return
	}
	tensorsFit := tc <= left/minTensorSize
	if !tensorsFit {
		p.malformed(8, "tensor_count %d cannot fit in the %d bytes left (each tensor info needs at least %d)", tc, left, minTensorSize)
	}
	var tensorMin uint64
	if tensorsFit {
		tensorMin = tc * minTensorSize
	}
	for i := uint64(0); i < kc; i++ {
		if p.stop {
			return
		}
		p.rd.promise(p.rd.off + int64((kc-i)*minKVSize+tensorMin))
		if !p.kv() {
			return
		}
	}
	if !tensorsFit || p.stop {
		return
	}
	if left := uint64(p.rd.left()); tc > left/minTensorSize {
		p.malformed(8, "tensor_count %d cannot fit in the %d bytes left after the metadata (each tensor info needs at least %d)", tc, left, minTensorSize)
		return
	}
	for i := uint64(0); i < tc; i++ {
		if p.stop {
			return
		}
		p.rd.promise(p.rd.off + int64((tc-i)*minTensorSize))
		if !p.tensorInfo(tc - i - 1) {
			return
		}
	}
	p.checkData()
}

// str reads a string's length and checks it against the file and limit.
// It returns the length, whether it is within limit (if not, the bytes
// have been skipped and a problem reported), and false if parsing cannot
// continue.
func (p *parser) str(limit uint64, what string) (n uint64, inLimit, ok bool) {
	off := p.rd.off
	b := p.rd.next(8)
	if b == nil {
		p.readFailed(off, 8, what+" length")
		return 0, false, false
	}
	n = binary.LittleEndian.Uint64(b)
	if left := uint64(p.rd.left()); n > left {
		p.malformed(off, "%s length %d exceeds the %d bytes left in the file", what, n, left)
		return n, false, false
	}
	p.rd.promise(p.rd.off + int64(n))
	if n > limit {
		p.malformed(off, "%s length %d exceeds the limit of %d", what, n, limit)
		return n, false, p.skip(int64(n), what)
	}
	return n, true, true
}

// bytes reads n bytes (n checked against the file) into a new slice.
func (p *parser) bytes(n uint64, what string) ([]byte, bool) {
	out := make([]byte, 0, n)
	for uint64(len(out)) < n {
		k := int(min(n-uint64(len(out)), bufSize))
		b := p.read(k, what)
		if b == nil {
			return nil, false
		}
		out = append(out, b...)
	}
	return out, true
}

// kv parses one metadata pair. It returns false if parsing cannot go on.
func (p *parser) kv() bool {
	off := p.rd.off
	n, inLimit, ok := p.str(MaxKeyLen, "key")
	if !ok {
		return false
	}
	key := ""
	keyOK := false
	if inLimit {
		b, ok := p.bytes(n, "key")
		if !ok {
			return false
		}
		key = string(b)
		switch {
		case n == 0:
			p.malformed(off, "empty metadata key")
		case !utf8.ValidString(key):
			p.malformed(off, "metadata key %s is not valid UTF-8", quoteString(key, 64))
		default:
			keyOK = true
		}
		if first, dup := p.keys[key]; dup {
			p.malformed(off, "duplicate metadata key %s (first at offset %d): readers disagree on which value counts", quoteString(key, 64), first)
			keyOK = false
		} else {
			p.keys[key] = off
		}
	}
	typOff := p.rd.off
	typ, ok := p.u32("value type")
	if !ok {
		return false
	}
	valOff := p.rd.off
	if minValueSize(typ) == 0 {
		p.malformed(typOff, "key %s has unknown value type %d", quoteString(key, 64), typ)
		return false
	}
	isTemplate := inLimit && (key == "tokenizer.chat_template" || strings.HasPrefix(key, "tokenizer.chat_template."))
	switch {
	case inLimit && key == "general.alignment":
		if typ != typeUint32 {
			p.malformed(typOff, "general.alignment has type %s, want UINT32", valueTypeName(typ))
			break
		}
		v, ok := p.u32("general.alignment")
		if !ok {
			return false
		}
		switch {
		case v == 0:
			p.malformed(valOff, "general.alignment is zero")
		case v&(v-1) != 0:
			p.malformed(valOff, "general.alignment %d is not a power of two", v)
		case keyOK && !p.alignSeen:
			p.align = uint64(v)
			p.alignSeen = true
		}
		return true
	case inLimit && key == "general.architecture":
		if typ != typeString {
			p.malformed(typOff, "general.architecture has type %s, want STRING", valueTypeName(typ))
			break
		}
		n, inLimit, ok := p.str(MaxStringLen, "general.architecture")
		if !ok {
			return false
		}
		if !inLimit {
			return true
		}
		b, ok := p.bytes(min(n, maxArchKeep), "general.architecture")
		if !ok || !p.skip(int64(n-uint64(len(b))), "general.architecture") {
			return false
		}
		if keyOK && !p.archSeen {
			p.info.Architecture = string(b)
			p.archSeen = true
		}
		return true
	case isTemplate:
		if typ != typeString {
			p.malformed(typOff, "%s has type %s, want STRING", quoteString(key, 64), valueTypeName(typ))
			break
		}
		return p.template(key, keyOK)
	}
	return p.value(typ, typOff, 0)
}

// value skips over one value of type typ, validating what it can.
func (p *parser) value(typ uint32, typOff int64, depth int) bool {
	switch typ {
	case typeBool:
		off := p.rd.off
		b := p.read(1, "BOOL value")
		if b == nil {
			return false
		}
		if b[0] > 1 {
			p.malformed(off, "BOOL value is %d, want 0 or 1", b[0])
		}
		return true
	case typeString:
		n, inLimit, ok := p.str(MaxStringLen, "string value")
		if !ok {
			return false
		}
		if inLimit {
			return p.skip(int64(n), "string value")
		}
		return true
	case typeArray:
		return p.array(depth + 1)
	}
	if sz := fixedSize(typ); sz > 0 {
		return p.skip(sz, valueTypeName(typ)+" value")
	}
	p.malformed(typOff, "unknown value type %d", typ)
	return false
}

// array skips over one array value (its element type, count and elements),
// validating what it can. depth is 1 for an array that is not nested.
func (p *parser) array(depth int) bool {
	off := p.rd.off
	if depth > MaxArrayDepth {
		p.malformed(off, "arrays nested more than %d deep", MaxArrayDepth)
		return false
	}
	et, ok := p.u32("array element type")
	if !ok {
		return false
	}
	cnt, ok := p.u64("array count")
	if !ok {
		return false
	}
	esz := minValueSize(et)
	if esz == 0 {
		p.malformed(off, "array has unknown element type %d", et)
		return false
	}
	if left := uint64(p.rd.left()); cnt > left/uint64(esz) {
		p.malformed(off+4, "array count %d of %s cannot fit in the %d bytes left (each element needs at least %d)", cnt, valueTypeName(et), left, esz)
		return false
	}
	p.rd.promise(p.rd.off + int64(cnt)*esz)
	switch et {
	case typeBool:
		bad := false
		for done := uint64(0); done < cnt; {
			k := int(min(cnt-done, bufSize))
			boff := p.rd.off
			b := p.read(k, "BOOL array")
			if b == nil {
				return false
			}
			for i, c := range b {
				if c > 1 && !bad {
					p.malformed(boff+int64(i), "BOOL array element %d is %d, want 0 or 1", done+uint64(i), c)
					bad = true
				}
			}
			done += uint64(k)
		}
		return true
	case typeString:
		for range cnt {
			if p.stop {
				return false
			}
			n, inLimit, ok := p.str(MaxStringLen, "string array element")
			if !ok {
				return false
			}
			if inLimit && !p.skip(int64(n), "string array element") {
				return false
			}
		}
		return true
	case typeArray:
		for range cnt {
			if p.stop || !p.array(depth+1) {
				return false
			}
		}
		return true
	}
	return p.skip(int64(cnt)*esz, valueTypeName(et)+" array")
}

// template reads a chat template's string value, keeps its start in Info
// and scans all of it for injection patterns.
func (p *parser) template(key string, keyOK bool) bool {
	valOff := p.rd.off
	n, inLimit, ok := p.str(MaxStringLen, "chat template")
	if !ok {
		return false
	}
	if !inLimit {
		return true
	}
	keep := keyOK && len(p.info.ChatTemplates) < MaxTemplates
	var kept []byte
	p.tmpl.reset()
	for done := uint64(0); done < n; {
		k := int(min(n-done, bufSize))
		b := p.read(k, "chat template")
		if b == nil {
			return false
		}
		if keep && len(kept) < MaxTemplateKeep {
			kept = append(kept, b[:min(len(b), MaxTemplateKeep-len(kept))]...)
		}
		p.tmpl.feed(b)
		done += uint64(k)
	}
	if keep {
		if p.info.ChatTemplates == nil {
			p.info.ChatTemplates = map[string]string{}
		}
		p.info.ChatTemplates[key] = string(kept)
	}
	sort.SliceStable(p.tmpl.hits, func(i, j int) bool { return p.tmpl.hits[i].pos < p.tmpl.hits[j].pos })
	for _, h := range p.tmpl.hits {
		p.add(valOff, KindTemplate, Critical, fmt.Sprintf("chat template %s contains %s at template byte %d (code execution in unsandboxed Jinja2, CVE-2024-34359): %s",
			quoteString(key, 64), h.pattern, h.pos, h.excerpt))
	}
	return true
}

// tensorInfo parses one tensor info; after is how many follow it.
func (p *parser) tensorInfo(after uint64) bool {
	t := tensor{off: p.rd.off, dims: [MaxDims]uint64{1, 1, 1, 1}}
	n, inLimit, ok := p.str(MaxKeyLen, "tensor name")
	if !ok {
		return false
	}
	rest := int64(after*minTensorSize) + 16
	if inLimit {
		p.rd.promise(p.rd.off + int64(n) + rest)
		b, ok := p.bytes(n, "tensor name")
		if !ok {
			return false
		}
		t.name = string(b)
		switch {
		case n == 0:
			p.malformed(t.off, "empty tensor name")
		case n > MaxTensorName:
			p.malformed(t.off, "tensor name %s is %d bytes; ggml allows at most %d", quoteString(t.name, 64), n, MaxTensorName)
		}
		if first, dup := p.names[t.name]; dup {
			p.malformed(t.off, "duplicate tensor name %s (first at offset %d)", quoteString(t.name, 64), first)
		} else {
			p.names[t.name] = t.off
		}
	}
	name := quoteString(t.name, 64)
	ndOff := p.rd.off
	nd, ok := p.u32("tensor n_dims")
	if !ok {
		return false
	}
	t.shapeOK = true
	if nd > MaxDims {
		if left := uint64(p.rd.left()); uint64(nd)*8 > left {
			p.malformed(ndOff, "tensor %s has %d dimensions (ggml allows at most %d), which cannot fit in the %d bytes left", name, nd, MaxDims, left)
			return false
		}
		p.malformed(ndOff, "tensor %s has %d dimensions; ggml allows at most %d", name, nd, MaxDims)
		if !p.skip(int64(nd)*8, "tensor dimensions") {
			return false
		}
		t.shapeOK = false
	} else {
		p.rd.promise(p.rd.off + int64(nd)*8 + rest - 4)
		for i := range nd {
			v, ok := p.u64("tensor dimension")
			if !ok {
				return false
			}
			t.dims[i] = v
		}
		if nelem, ok := elements(t.dims); ok {
			t.nelem = nelem
		} else {
			p.malformed(ndOff+4, "tensor %s dimensions %v: element count overflows int64", name, t.dims[:nd])
			t.shapeOK = false
		}
	}
	typOff := p.rd.off
	t.typ, ok = p.u32("tensor type")
	if !ok {
		return false
	}
	if _, known := ggmlTypes[t.typ]; !known {
		p.malformed(typOff, "tensor %s has unknown ggml type %d", name, t.typ)
		t.shapeOK = false
	}
	t.offset, ok = p.u64("tensor offset")
	if !ok {
		return false
	}
	p.tensors = append(p.tensors, t)
	return true
}

// elements multiplies dims, failing if a dimension or the product does not
// fit in an int64 (ggml's element count type).
func elements(dims [MaxDims]uint64) (uint64, bool) {
	n := uint64(1)
	for _, d := range dims {
		if d > maxInt64 {
			return 0, false
		}
	}
	for _, d := range dims {
		if d == 0 {
			return 0, true
		}
	}
	for _, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > maxInt64 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

const maxInt64 = 1<<63 - 1

// checkData checks every tensor's offset and byte range against the data
// section and each other.
func (p *parser) checkData() {
	ds := (uint64(p.rd.off) + p.align - 1) &^ (p.align - 1)
	p.info.DataOffset = int64(ds)
	size := uint64(p.rd.size)
	type span struct {
		start, end uint64
		i          int
	}
	var spans []span
	for i, t := range p.tensors {
		if p.stop {
			return
		}
		name := quoteString(t.name, 64)
		if t.offset%p.align != 0 {
			p.malformed(t.off, "tensor %s offset %d is not a multiple of the alignment %d", name, t.offset, p.align)
		}
		if !t.shapeOK {
			continue
		}
		gt := ggmlTypes[t.typ]
		start, ok := add(ds, t.offset)
		if gt.size == 0 {
			// Byte size not computed: the data must at least start
			// inside the file.
			if t.nelem > 0 && (!ok || start >= size) {
				p.malformed(t.off, "tensor %s (%s) data at offset %d starts past the end of the file (%d bytes, data section at %d)", name, gt.name, t.offset, size, ds)
			}
			continue
		}
		if t.dims[0]%gt.blck != 0 {
			p.malformed(t.off, "tensor %s (%s): row of %d elements is not a multiple of the block size %d", name, gt.name, t.dims[0], gt.blck)
			continue
		}
		nbytes, ok2 := mul(t.nelem/gt.blck, gt.size)
		end, ok3 := add(start, nbytes)
		if !ok || !ok2 || !ok3 || end > size {
			sz := "more than 2^64"
			if ok2 {
				sz = fmt.Sprint(nbytes)
			}
			p.malformed(t.off, "tensor %s (%s, %d elements, %s bytes) at data offset %d ends past the end of the file (%d bytes, data section at %d)", name, gt.name, t.nelem, sz, t.offset, size, ds)
			continue
		}
		if nbytes > 0 {
			spans = append(spans, span{start, end, i})
		}
	}
	sort.Slice(spans, func(a, b int) bool {
		if spans[a].start != spans[b].start {
			return spans[a].start < spans[b].start
		}
		return spans[a].end < spans[b].end
	})
	var far span
	for j, s := range spans {
		if p.stop {
			return
		}
		if j > 0 && s.start < far.end {
			a, b := p.tensors[far.i], p.tensors[s.i]
			p.malformed(b.off, "tensor %s data (file bytes %d to %d) overlaps tensor %s data (file bytes %d to %d)",
				quoteString(b.name, 64), s.start, s.end, quoteString(a.name, 64), far.start, far.end)
		}
		if j == 0 || s.end > far.end {
			far = s
		}
	}
}

func add(a, b uint64) (uint64, bool) {
	s, c := bits.Add64(a, b, 0)
	return s, c == 0
}

func mul(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}
