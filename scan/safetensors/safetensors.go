// Package safetensors strictly validates the header of a safetensors model
// file without reading tensor data.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// UTF-8 JSON (one object, padded with spaces), then the data section. The
// JSON object maps tensor names to {"dtype", "shape", "data_offsets"}
// entries; the optional "__metadata__" entry maps strings to strings. The
// tensors' byte ranges, relative to the start of the data section, must
// tile it exactly.
//
// Validate is deliberately stricter than the reference reader where readers
// disagree: a duplicate key, which most JSON libraries resolve silently and
// differently (first or last wins), lets two tools see two different
// tensors under one name, so every duplicate at any level is a problem.
package safetensors

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeader is the largest header length accepted, in bytes. It is the
// reference implementation's MAX_HEADER_SIZE, which is 100_000_000 bytes
// (not 100 MiB).
const MaxHeader = 100_000_000

// MaxProblems caps the problems Validate returns; once it is reached,
// validation stops and the list is not exhaustive.
const MaxProblems = 100

// MaxTensors is the largest number of tensor entries accepted in a header.
const MaxTensors = 10_000_000

// MaxDepth is the deepest JSON nesting accepted (the top-level object is
// depth 1; a valid header needs 3).
const MaxDepth = 16

// MaxRank is the largest number of dimensions accepted in a shape.
const MaxRank = 64

// MaxMetadataKeys bounds Info.Metadata: keys beyond the first
// MaxMetadataKeys are still checked but not kept.
const MaxMetadataKeys = 1024

// tensorLimit is MaxTensors; tests lower it.
var tensorLimit = MaxTensors

// Problem is a violation of the safetensors format.
type Problem struct {
	Offset int64  // byte offset in the file the problem concerns (0 if none applies)
	Msg    string // one sentence, no trailing period needed
}

// String renders the problem as "offset N: message".
func (p Problem) String() string {
	return fmt.Sprintf("offset %d: %s", p.Offset, p.Msg)
}

// Info summarises a valid (or partly valid) header. Validate never returns
// a nil Info; fields it could not establish are zero.
type Info struct {
	// HeaderLen is the declared JSON header length; 0 unless it is within
	// MaxHeader and the file.
	HeaderLen int64
	// Tensors is the number of tensor entries (top-level keys other than
	// __metadata__) read, duplicates included.
	Tensors int
	// Metadata holds __metadata__, if present and an object (bounded: at
	// most MaxMetadataKeys keys are kept; for a duplicate key, the first
	// value).
	Metadata map[string]string
	// DataBytes is the size of the data section: the file size minus 8
	// minus HeaderLen. 0 unless HeaderLen is valid.
	DataBytes int64
}

// Validate reads the 8-byte header length and the JSON header through r (at
// most MaxHeader bytes), checks everything below, and returns every problem
// found (nil for a valid file), sorted by offset and capped at MaxProblems.
// size is the file size. Tensor data is never read.
//
// Checks: the length field (file shorter than 8 bytes; length 0, above
// MaxHeader or beyond the file); the header is strict JSON and valid UTF-8,
// starts with '{', is a single object, and is followed only by space
// padding; no duplicate keys at any level (keys compared after unescaping);
// __metadata__ is an object of strings; each tensor entry is an object with
// exactly dtype (a known dtype), shape (at most MaxRank non-negative
// integers) and data_offsets (two non-negative integers, begin <= end);
// end-begin equals the element count times the dtype size, computed without
// overflow; the tensors' ranges, sorted by begin, tile the data section
// from 0 to its end with no gap, overlap or trailing bytes; and the bounds
// MaxTensors and MaxDepth.
//
// A JSON number is judged by its exact value: 1e3 and 1.0 are the integer
// 1000 and 1, while 1.5, 15e-1, -0 and anything above math.MaxInt64 are
// rejected. Sub-byte dtypes (F4, F6_*) must fill a whole number of bytes.
// Problems about the header point into it (the second of two duplicate
// keys, the offending value); problems about the layout point into the data
// section (the start of a gap, of an overlapping tensor, of trailing bytes).
func Validate(r io.ReaderAt, size int64) (*Info, []Problem) {
	info := &Info{}
	v := &validator{size: size}
	v.run(r, info)
	if len(v.probs) == 0 {
		return info, nil
	}
	slices.SortStableFunc(v.probs, func(a, b Problem) int { return cmp.Compare(a.Offset, b.Offset) })
	return info, v.probs
}

// validator collects problems up to MaxProblems.
type validator struct {
	size  int64
	probs []Problem
	full  bool
}

func (v *validator) add(off int64, format string, args ...any) {
	if v.full {
		return
	}
	if off > v.size {
		off = v.size
	}
	if off < 0 {
		off = 0
	}
	v.probs = append(v.probs, Problem{Offset: off, Msg: fmt.Sprintf(format, args...)})
	if len(v.probs) >= MaxProblems {
		v.full = true
	}
}

func (v *validator) run(r io.ReaderAt, info *Info) {
	if r == nil {
		v.add(0, "no reader for the file")
		return
	}
	if v.size < 8 {
		v.add(0, "file is %d bytes, shorter than the 8-byte header length field", v.size)
		return
	}
	var lb [8]byte
	if n, err := r.ReadAt(lb[:], 0); n < len(lb) {
		v.add(0, "cannot read the header length: %s", errText(err))
		return
	}
	hl := binary.LittleEndian.Uint64(lb[:])
	avail := uint64(v.size - 8)
	bad := false
	if hl == 0 {
		v.add(0, "header length is 0")
		bad = true
	}
	if hl > MaxHeader {
		v.add(0, "header length %d exceeds the %d-byte limit", hl, MaxHeader)
		bad = true
	}
	if hl > avail {
		v.add(0, "header length %d exceeds the %d bytes that follow the length field", hl, avail)
		bad = true
	}
	if bad {
		return
	}
	info.HeaderLen = int64(hl)
	info.DataBytes = v.size - 8 - int64(hl)
	hdr, err := readHeader(r, int64(hl))
	if err != nil {
		v.add(8+int64(len(hdr)), "cannot read the header (%d of %d bytes read): %s", len(hdr), hl, errText(err))
		return
	}
	p := &parser{v: v, b: hdr, info: info, dataBytes: info.DataBytes}
	p.run()
}

func errText(err error) string {
	if err == nil {
		return "short read"
	}
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// readHeader reads n bytes at offset 8, growing the buffer as data arrives
// so that a size claim larger than the file cannot force a large
// allocation up front.
func readHeader(r io.ReaderAt, n int64) ([]byte, error) {
	const chunk = 1 << 20
	buf := make([]byte, 0, min(n, chunk))
	for int64(len(buf)) < n {
		want := int(min(n-int64(len(buf)), chunk))
		if len(buf)+want > cap(buf) {
			// Double, so that the total allocated stays below 4n.
			nb := make([]byte, len(buf), min(n, int64(2*cap(buf)+want)))
			copy(nb, buf)
			buf = nb
		}
		m, err := r.ReadAt(buf[len(buf):len(buf)+want], 8+int64(len(buf)))
		if m < 0 || m > want {
			return buf, errors.New("reader returned an invalid count")
		}
		buf = buf[:len(buf)+m]
		if m < want {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

// dtype is a tensor element type and its width in bits.
type dtype struct {
	name string
	bits int64
}

// dtypes are the reference implementation's element types. F4 and F6_* are
// sub-byte: a tensor of them must fill a whole number of bytes.
var dtypes = []dtype{
	{"BOOL", 8}, {"F4", 4}, {"F6_E2M3", 6}, {"F6_E3M2", 6},
	{"U8", 8}, {"I8", 8}, {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8},
	{"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8},
	{"I16", 16}, {"U16", 16}, {"F16", 16}, {"BF16", 16},
	{"I32", 32}, {"U32", 32}, {"F32", 32},
	{"C64", 64}, {"F64", 64}, {"I64", 64}, {"U64", 64},
}

func lookupDtype(s []byte) int {
	for i, d := range dtypes {
		if string(s) == d.name {
			return i
		}
	}
	return -1
}

// quote renders a decoded JSON string for a message: Go-quoted (so control
// characters are escaped) and cut to 64 bytes.
func quote(s []byte) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(string(s))
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(string(s[:cut])) + "…"
}

// addSat adds non-negative a and b, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
