package gguf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/mlgate/mlgate/internal/testutil"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

func parseBytes(b []byte) (*Info, []Problem) {
	return Parse(bytes.NewReader(b), int64(len(b)))
}

func hasProblem(probs []Problem, kind, substr string) bool {
	for _, p := range probs {
		if p.Kind == kind && strings.Contains(p.Msg, substr) {
			return true
		}
	}
	return false
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// tracker records the furthest byte read and how many were read.
type tracker struct {
	r      io.ReaderAt
	maxEnd int64
	read   int64
}

func (t *tracker) ReadAt(p []byte, off int64) (int, error) {
	t.read += int64(len(p))
	if end := off + int64(len(p)); end > t.maxEnd {
		t.maxEnd = end
	}
	return t.r.ReadAt(p, off)
}

func TestValidFile(t *testing.T) {
	for _, version := range []uint32{2, 3} {
		s := fullSpec()
		s.version = version
		b, dataOff := s.build()
		tr := &tracker{r: bytes.NewReader(b)}
		info, probs := Parse(tr, int64(len(b)))
		if probs != nil {
			t.Fatalf("v%d: problems in a valid file: %v", version, probs)
		}
		if info.Version != version || info.TensorCount != uint64(len(s.tensors)) || info.KVCount != uint64(len(s.kvs)) {
			t.Errorf("header %+v", info)
		}
		if info.Architecture != "llama" || info.Alignment != 32 || info.DataOffset != dataOff {
			t.Errorf("info %+v, want data offset %d", info, dataOff)
		}
		want := map[string]string{
			"tokenizer.chat_template":          chatML,
			"tokenizer.chat_template.strict":   llama3Strict,
			"tokenizer.chat_template.trim":     llama3Trim,
			"tokenizer.chat_template.tool_use": toolUse,
		}
		if len(info.ChatTemplates) != len(want) {
			t.Errorf("templates %v", info.ChatTemplates)
		}
		for k, v := range want {
			if info.ChatTemplates[k] != v {
				t.Errorf("template %s = %q", k, info.ChatTemplates[k])
			}
		}
		// The read-ahead stops at the end of the tensor infos.
		if tr.maxEnd > dataOff {
			t.Errorf("read up to %d, data starts at %d", tr.maxEnd, dataOff)
		}
	}
}

func TestAlignment64(t *testing.T) {
	s := smallSpec()
	s.align = 64
	s.kvs = append(s.kvs, kv{key: "general.alignment", typ: tU32, val: uint32(64)})
	b, dataOff := s.build()
	info, probs := parseBytes(b)
	if probs != nil || info.Alignment != 64 || info.DataOffset != dataOff || dataOff%64 != 0 {
		t.Fatalf("info %+v probs %v (data at %d)", info, probs, dataOff)
	}
}

// Every strict prefix of a valid file is reported.
func TestTruncations(t *testing.T) {
	b, _ := fullSpec().build()
	for n := range len(b) {
		_, probs := parseBytes(b[:n])
		if len(probs) == 0 {
			t.Fatalf("prefix of %d/%d bytes: no problem", n, len(b))
		}
		for _, p := range probs {
			if p.Kind != KindMalformed || p.Severity != High {
				t.Fatalf("prefix %d: %v", n, p)
			}
		}
	}
}

// A ReaderAt that fails, or a size larger than the data, is reported.
func TestReadErrors(t *testing.T) {
	b, _ := smallSpec().build()
	_, probs := Parse(bytes.NewReader(b[:40]), int64(len(b)))
	if !hasProblem(probs, KindMalformed, "shorter than its stated size") {
		t.Errorf("size too large: %v", probs)
	}
	_, probs = Parse(bytes.NewReader(b), -1)
	if !hasProblem(probs, KindMalformed, "negative file size") {
		t.Errorf("negative size: %v", probs)
	}
	_, probs = Parse(bytes.NewReader(nil), 0)
	if !hasProblem(probs, KindMalformed, "file ends inside magic") {
		t.Errorf("empty: %v", probs)
	}
}

type mcase struct {
	name string
	bad  func(*spec) // makes the file malformed
	good func(*spec) // the valid look-alike
	want string      // substring of a malformed problem
}

func setKV(i int, p kv) func(*spec) {
	return func(s *spec) {
		for len(s.kvs) <= i {
			s.kvs = append(s.kvs, kv{key: "pad." + string(rune('a'+len(s.kvs))), typ: tU8, val: uint8(0)})
		}
		s.kvs[i] = p
	}
}

func addKV(p kv) func(*spec) {
	return func(s *spec) { s.kvs = append(s.kvs, p) }
}

func setTensors(ts ...tinfo) func(*spec) {
	return func(s *spec) { s.tensors = ts }
}

func nest(depth int) any {
	v := arr{tU8, []any{uint8(1)}}
	for range depth - 1 {
		v = arr{tArr, []any{v}}
	}
	return v
}

func name64(n int) string { return strings.Repeat("n", n) }

var malformedCases = []mcase{
	{"magic", func(s *spec) { s.magic = "GGUG" }, func(s *spec) { s.magic = "GGUF" }, "bad magic"},
	{"version 1", func(s *spec) { s.version = 1 }, func(s *spec) { s.version = 2 }, "version 1"},
	{"version 0", func(s *spec) { s.version = 0 }, func(s *spec) { s.version = 2 }, "unsupported GGUF version 0 "},
	{"version 4", func(s *spec) { s.version = 4 }, func(s *spec) { s.version = 3 }, "unsupported GGUF version 4"},
	{"big-endian", func(s *spec) { s.version = 0x03000000 }, func(s *spec) { s.version = 3 }, "big-endian"},
	{"kv count huge", func(s *spec) { s.kvCount = u64p(1 << 60) }, func(s *spec) { s.kvCount = u64p(2) }, "metadata_kv_count"},
	{"kv count one too many", func(s *spec) { s.kvCount = u64p(3) }, func(s *spec) {}, ""},
	{"tensor count huge", func(s *spec) { s.tensorCount = u64p(1 << 40) }, func(s *spec) { s.tensorCount = u64p(2) }, "tensor_count"},
	{"tensor count one too many", func(s *spec) { s.tensorCount = u64p(3) }, func(s *spec) {}, ""},
	{"key length past EOF",
		addKV(kv{rawKey: cat(le64(1<<40), []byte("k")), typ: tU8, val: uint8(0)}),
		addKV(kv{rawKey: cat(le64(1), []byte("k")), typ: tU8, val: uint8(0)}),
		"key length 1099511627776 exceeds"},
	{"empty key", addKV(kv{key: "", typ: tU8, val: uint8(0)}), addKV(kv{key: "e", typ: tU8, val: uint8(0)}), "empty metadata key"},
	{"key not UTF-8", addKV(kv{key: "bad.\xff\xfe", typ: tU8, val: uint8(0)}), addKV(kv{key: "bad.ÿþ", typ: tU8, val: uint8(0)}), "not valid UTF-8"},
	{"duplicate key", addKV(kv{key: "test.v", typ: tU32, val: uint32(8)}), addKV(kv{key: "test.w", typ: tU32, val: uint32(8)}), "duplicate metadata key \"test.v\""},
	{"unknown value type", addKV(kv{key: "t", typ: 13, val: raw(le32(0))}), addKV(kv{key: "t", typ: tF64, val: raw(le64(0))}), "unknown value type 13"},
	{"bool 2", addKV(kv{key: "t", typ: tBool, val: rawBool(2)}), addKV(kv{key: "t", typ: tBool, val: rawBool(1)}), "BOOL value is 2"},
	{"bool array", addKV(kv{key: "t", typ: tArr, val: arr{tBool, []any{true, rawBool(0), rawBool(255)}}}),
		addKV(kv{key: "t", typ: tArr, val: arr{tBool, []any{true, rawBool(0), rawBool(1)}}}), "BOOL array element 2 is 255"},
	{"string past EOF", addKV(kv{key: "t", typ: tStr, val: raw(cat(le64(1<<50), []byte("abc")))}),
		addKV(kv{key: "t", typ: tStr, val: raw(cat(le64(3), []byte("abc")))}), "string value length 1125899906842624 exceeds"},
	{"array count past EOF", addKV(kv{key: "t", typ: tArr, val: raw(cat(le32(tU32), le64(1<<40), le32(1)))}),
		addKV(kv{key: "t", typ: tArr, val: raw(cat(le32(tU32), le64(1), le32(1)))}), "array count 1099511627776 of UINT32 cannot fit"},
	{"string array count past EOF", addKV(kv{key: "t", typ: tArr, val: raw(cat(le32(tStr), le64(30), le64(0)))}),
		addKV(kv{key: "t", typ: tArr, val: raw(cat(le32(tStr), le64(1), le64(0)))}), "array count 30 of STRING cannot fit"},
	{"array element type", addKV(kv{key: "t", typ: tArr, val: raw(cat(le32(99), le64(0)))}),
		addKV(kv{key: "t", typ: tArr, val: raw(cat(le32(tI16), le64(0)))}), "unknown element type 99"},
	{"array depth", addKV(kv{key: "t", typ: tArr, val: nest(5)}), addKV(kv{key: "t", typ: tArr, val: nest(4)}), "nested more than 4"},
	{"alignment type", addKV(kv{key: "general.alignment", typ: tU64, val: uint64(32)}),
		addKV(kv{key: "general.alignment", typ: tU32, val: uint32(32)}), "general.alignment has type UINT64"},
	{"alignment zero", addKV(kv{key: "general.alignment", typ: tU32, val: uint32(0)}),
		func(s *spec) {
			s.align = 16
			s.kvs = append(s.kvs, kv{key: "general.alignment", typ: tU32, val: uint32(16)})
		}, "general.alignment is zero"},
	{"alignment 48", func(s *spec) {
		s.align = 48
		s.kvs = append(s.kvs, kv{key: "general.alignment", typ: tU32, val: uint32(48)})
	}, func(s *spec) {
		s.align = 64
		s.kvs = append(s.kvs, kv{key: "general.alignment", typ: tU32, val: uint32(64)})
	}, "not a power of two"},
	{"architecture type", setKV(0, kv{key: "general.architecture", typ: tU32, val: uint32(1)}),
		setKV(0, kv{key: "general.architecture", typ: tStr, val: "gpt2"}), "general.architecture has type UINT32"},
	{"template type", addKV(kv{key: "tokenizer.chat_template", typ: tArr, val: arr{tStr, []any{chatML}}}),
		addKV(kv{key: "tokenizer.chat_template", typ: tStr, val: chatML}), "has type ARRAY, want STRING"},
	{"empty tensor name",
		setTensors(tinfo{name: "", dims: []uint64{4}, typ: gF32, off: -1}),
		setTensors(tinfo{name: "e", dims: []uint64{4}, typ: gF32, off: -1}), "empty tensor name"},
	{"duplicate tensor name",
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: gF32, off: -1}, tinfo{name: "a", dims: []uint64{4}, typ: gF32, off: -1}),
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: gF32, off: -1}, tinfo{name: "A", dims: []uint64{4}, typ: gF32, off: -1}), "duplicate tensor name"},
	{"long tensor name",
		setTensors(tinfo{name: name64(64), dims: []uint64{4}, typ: gF32, off: -1}),
		setTensors(tinfo{name: name64(63), dims: []uint64{4}, typ: gF32, off: -1}), "is 64 bytes"},
	{"n_dims 5",
		setTensors(tinfo{name: "a", dims: []uint64{8, 1, 1, 1, 1}, typ: gF32, off: 0}),
		setTensors(tinfo{name: "a", dims: []uint64{8, 1, 1, 1}, typ: gF32, off: 0}), "5 dimensions"},
	{"n_dims huge",
		setTensors(tinfo{name: "a", rawDims: le32(1 << 31), typ: gF32}),
		setTensors(tinfo{name: "a", rawDims: cat(le32(1), le64(0)), typ: gF32}), "2147483648 dimensions (ggml allows at most 4), which cannot fit"},
	{"element count overflow",
		setTensors(tinfo{name: "a", dims: []uint64{1 << 32, 1 << 32}, typ: gF32, off: 0}),
		setTensors(tinfo{name: "a", dims: []uint64{1 << 32, 0}, typ: gF32, off: 0}), "overflows int64"},
	{"negative dimension",
		setTensors(tinfo{name: "a", dims: []uint64{0, 1 << 63}, typ: gF32, off: 0}),
		setTensors(tinfo{name: "a", dims: []uint64{0, 1 << 62}, typ: gF32, off: 0}), "overflows int64"},
	{"unknown ggml type 31",
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: 31, off: 0}),
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: gBF16, off: 0}), "unknown ggml type 31"},
	{"removed ggml type 4",
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: 4, off: 0}),
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: gF16, off: 0}), "unknown ggml type 4"},
	{"misaligned offset",
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: gF32, off: 0}, tinfo{name: "b", dims: []uint64{4}, typ: gF32, off: 16}),
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: gF32, off: 0}, tinfo{name: "b", dims: []uint64{4}, typ: gF32, off: 32}), "not a multiple of the alignment 32"},
	{"out of file", func(s *spec) { s.truncate = 1 }, func(s *spec) { s.extra = 1 }, "ends past the end of the file"},
	{"huge offset",
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: gF32, off: -1}, tinfo{name: "b", dims: []uint64{4}, typ: gF32, off: 1 << 62}),
		setTensors(tinfo{name: "a", dims: []uint64{4}, typ: gF32, off: -1}, tinfo{name: "b", dims: []uint64{4}, typ: gF32, off: -1}), "ends past the end of the file"},
	{"huge tensor",
		setTensors(tinfo{name: "a", dims: []uint64{1 << 40, 1 << 20}, typ: gF32, off: 0}),
		setTensors(tinfo{name: "a", dims: []uint64{1 << 40, 0}, typ: gF32, off: 0}), "ends past the end of the file"},
	{"unsized type past EOF",
		setTensors(tinfo{name: "a", dims: []uint64{256}, typ: gIQ2_XXS, off: -1}, tinfo{name: "b", dims: []uint64{256}, typ: gIQ2_XXS, off: 1 << 30}),
		setTensors(tinfo{name: "a", dims: []uint64{256}, typ: gIQ2_XXS, off: -1}, tinfo{name: "b", dims: []uint64{256}, typ: gIQ2_XXS, off: -1}), "starts past the end of the file"},
	{"overlap",
		setTensors(tinfo{name: "a", dims: []uint64{16}, typ: gF32, off: 0}, tinfo{name: "b", dims: []uint64{16}, typ: gF32, off: 32}),
		setTensors(tinfo{name: "a", dims: []uint64{16}, typ: gF32, off: 0}, tinfo{name: "b", dims: []uint64{16}, typ: gF32, off: 64}), "overlaps tensor \"a\""},
	{"overlap contained",
		setTensors(tinfo{name: "big", dims: []uint64{64}, typ: gF32, off: 0}, tinfo{name: "x", dims: []uint64{8}, typ: gF32, off: 32}, tinfo{name: "y", dims: []uint64{8}, typ: gF32, off: 128}),
		setTensors(tinfo{name: "big", dims: []uint64{64}, typ: gF32, off: 0}, tinfo{name: "x", dims: []uint64{8}, typ: gF32, off: 256}, tinfo{name: "y", dims: []uint64{8}, typ: gF32, off: 288}), "tensor \"y\" data"},
	{"block multiple",
		setTensors(tinfo{name: "a", dims: []uint64{33}, typ: gQ4_0, off: 0}),
		setTensors(tinfo{name: "a", dims: []uint64{32, 33}, typ: gQ4_0, off: 0}), "not a multiple of the block size 32"},
	{"quantized scalar",
		setTensors(tinfo{name: "a", dims: nil, typ: gQ4_K, off: 0}),
		setTensors(tinfo{name: "a", dims: nil, typ: gF32, off: 0}), "row of 1 elements"},
}

func TestMalformed(t *testing.T) {
	for _, c := range malformedCases {
		t.Run(c.name, func(t *testing.T) {
			s := smallSpec()
			c.good(&s)
			b, _ := s.build()
			if _, probs := parseBytes(b); probs != nil {
				t.Errorf("look-alike: %v", probs)
			}
			s = smallSpec()
			c.bad(&s)
			b, _ = s.build()
			start := testutil.CPUTime()
			_, probs := parseBytes(b)
			if d := testutil.CPUTime() - start; d > time.Second {
				t.Errorf("took %v of CPU", d)
			}
			if len(probs) == 0 {
				t.Fatal("no problem reported")
			}
			if !hasProblem(probs, KindMalformed, c.want) {
				t.Errorf("want %q, got %v", c.want, probs)
			}
			for _, p := range probs {
				if p.Severity != High || p.Kind != KindMalformed || p.Offset < 0 || p.Offset > int64(len(b)) {
					t.Errorf("bad problem %+v", p)
				}
			}
		})
	}
}

func TestDuplicateKeyKeepsFirst(t *testing.T) {
	s := smallSpec()
	s.kvs = append(s.kvs,
		kv{key: "general.architecture", typ: tStr, val: "evil"},
		kv{key: "general.alignment", typ: tU32, val: uint32(64)},
		kv{key: "general.alignment", typ: tU32, val: uint32(32)},
	)
	s.align = 64
	b, _ := s.build()
	info, probs := parseBytes(b)
	if info.Architecture != "llama" || info.Alignment != 64 {
		t.Errorf("info %+v", info)
	}
	n := 0
	for _, p := range probs {
		if strings.Contains(p.Msg, "duplicate metadata key") {
			n++
		}
	}
	if n != 2 || len(probs) != 2 {
		t.Errorf("problems %v", probs)
	}
}

// zeroTail is a file of size bytes: head, then zeros. It is never
// materialized.
type zeroTail struct {
	head []byte
	size int64
}

func (z zeroTail) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= z.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off+int64(n) < z.size {
		i := off + int64(n)
		if i < int64(len(z.head)) {
			n += copy(p[n:], z.head[i:])
			continue
		}
		clear(p[n:min(int64(len(p)), z.size-off)])
		n = int(min(int64(len(p)), z.size-off))
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// measure runs f and returns the time and bytes allocated.
func measure(f func()) (time.Duration, uint64) {
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	start := testutil.CPUTime() // CPU, not wall time: a busy runner cannot inflate it
	f()
	d := testutil.CPUTime() - start
	runtime.ReadMemStats(&m1)
	return d, m1.TotalAlloc - m0.TotalAlloc
}

func header(tc, kc uint64) []byte {
	return cat([]byte("GGUF"), le32(3), le64(tc), le64(kc))
}

// Huge declared counts and lengths are rejected quickly without
// allocating for them, in small files and in huge sparse ones.
func TestHugeDeclarations(t *testing.T) {
	const big = 1 << 62
	mem := func(b []byte) zeroTail { return zeroTail{b, int64(len(b))} }
	sparse := func(b []byte) zeroTail { return zeroTail{b, 1 << 40} }
	cases := []struct {
		name string
		z    zeroTail
		want string
	}{
		{"kv count", mem(header(0, big)), "metadata_kv_count"},
		{"tensor count", mem(header(big, 0)), "tensor_count"},
		{"both counts max", mem(header(1<<64-1, 1<<64-1)), "metadata_kv_count"},
		{"key length", mem(cat(header(0, 1), le64(big), make([]byte, 8))), "key length"},
		{"string length", mem(cat(header(0, 1), le64(1), []byte("k"), le32(tStr), le64(big), make([]byte, 8))), "string value length"},
		{"array count", mem(cat(header(0, 1), le64(1), []byte("k"), le32(tArr), le32(tU64), le64(big), make([]byte, 16))), "array count"},
		{"nested array count", mem(cat(header(0, 1), le64(1), []byte("k"), le32(tArr), le32(tArr), le64(1), le32(tStr), le64(big), make([]byte, 16))), "array count"},
		{"tensor name length", mem(cat(header(1, 0), le64(big), make([]byte, 24))), "tensor name length"},
		{"n_dims", mem(cat(header(1, 0), le64(1), []byte("t"), le32(1<<32-1), make([]byte, 24))), "dimensions"},
		// Sparse files of 1 TiB: every length fits, but some are over
		// the limits, and nothing may be read or allocated for them.
		{"key over 16 MiB", sparse(cat(header(0, 1), le64(MaxKeyLen+1))), "key length 16777217 exceeds the limit"},
		{"value over 64 MiB", sparse(cat(header(0, 1), le64(1), []byte("k"), le32(tStr), le64(MaxStringLen+1))), "exceeds the limit of 67108864"},
		{"tensor name over 16 MiB", sparse(cat(header(1, 0), le64(MaxKeyLen+1))), "tensor name length 16777217 exceeds the limit"},
		{"billions of u64", sparse(cat(header(0, 1), le64(1), []byte("k"), le32(tArr), le32(tU64), le64(1<<36))), ""},
		{"tensor with huge sparse data", sparse(cat(header(1, 0), le64(1), []byte("t"), le32(2), le64(1<<18), le64(1<<18), le32(gF32), le64(0))), ""},
		{"tensor past 1 TiB", sparse(cat(header(1, 0), le64(1), []byte("t"), le32(2), le64(1<<20), le64(1<<20), le32(gF32), le64(0))), "ends past the end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &tracker{r: c.z}
			var probs []Problem
			d, alloc := measure(func() { _, probs = Parse(tr, c.z.size) })
			if d > time.Second || alloc > 1<<20 {
				t.Errorf("took %v and %d bytes", d, alloc)
			}
			if tr.read > 1<<10 {
				t.Errorf("read %d bytes", tr.read)
			}
			if c.want == "" {
				if probs != nil {
					t.Errorf("problems %v", probs)
				}
				return
			}
			if !hasProblem(probs, KindMalformed, c.want) {
				t.Errorf("want %q, got %v", c.want, probs)
			}
		})
	}
}

// 1 TiB of zeros declared as single-byte keys: each is empty, so the
// problem cap ends the parse early.
func TestProblemCap(t *testing.T) {
	const size = 1 << 40
	z := zeroTail{header(0, (size-24)/13), size}
	var probs []Problem
	d, _ := measure(func() { _, probs = Parse(z, size) })
	if len(probs) != MaxProblems || d > time.Second {
		t.Fatalf("%d problems in %v", len(probs), d)
	}
	if last := probs[len(probs)-1]; !strings.Contains(last.Msg, "too many problems") {
		t.Errorf("last problem %v", last)
	}
}

func TestInfoOnBadMagic(t *testing.T) {
	info, probs := parseBytes([]byte("PK\x03\x04\x00\x00\x00\x00"))
	if info == nil || len(probs) != 1 || !strings.Contains(probs[0].Msg, `"PK\x03\x04"`) {
		t.Errorf("%+v %v", info, probs)
	}
}

func TestProblemString(t *testing.T) {
	p := Problem{Offset: 7, Msg: "m", Kind: KindMalformed, Severity: High}
	if p.String() != "high malformed at offset 7: m" || Critical.String() != "critical" || Medium.String() != "medium" || Severity(9).String() != "severity(9)" {
		t.Error(p.String())
	}
}

// vocabFile is a file shaped like a real model's metadata: 150k tokens,
// scores, token types and merges, and 300 tensors.
func vocabFile() []byte {
	const n = 150000
	var toks, merges, scores, types []any
	for i := range n {
		toks = append(toks, fmt.Sprintf("tok%d", i))
		merges = append(merges, fmt.Sprintf("t%d k%d", i, i))
		scores = append(scores, float32(i))
		types = append(types, int32(1))
	}
	s := smallSpec()
	s.kvs = append(s.kvs,
		kv{key: "tokenizer.ggml.tokens", typ: tArr, val: arr{tStr, toks}},
		kv{key: "tokenizer.ggml.scores", typ: tArr, val: arr{tF32, scores}},
		kv{key: "tokenizer.ggml.token_type", typ: tArr, val: arr{tI32, types}},
		kv{key: "tokenizer.ggml.merges", typ: tArr, val: arr{tStr, merges}},
		tmplKV("tokenizer.chat_template", llama3Strict),
	)
	s.tensors = nil
	for i := range 300 {
		s.tensors = append(s.tensors, tinfo{name: fmt.Sprintf("blk.%d.w", i), dims: []uint64{256, 4}, typ: gQ4_K, off: -1})
	}
	b, _ := s.build()
	return b
}

func BenchmarkParseVocab(b *testing.B) {
	f := vocabFile()
	b.SetBytes(int64(len(f)))
	for b.Loop() {
		if _, probs := parseBytes(f); probs != nil {
			b.Fatal(probs)
		}
	}
}
