package scan

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// xzOf compresses b with github.com/ulikunitz/xz's encoder.
func xzOf(t testing.TB, b []byte, cfg xz.WriterConfig) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := cfg.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// zstdOf compresses b with github.com/klauspost/compress/zstd's encoder.
func zstdOf(t testing.TB, b []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := zstd.NewWriter(&out, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// xzBuild writes an xz stream by hand (no integrity check), one block per
// element of blocks, each declaring the LZMA2 dictionary-size code dict and
// holding its bytes as one uncompressed LZMA2 chunk (at most 64 KiB), so
// tests can declare what an encoder never would.
func xzBuild(dict byte, blocks ...[]byte) []byte { return xzBuildSized(dict, false, blocks...) }

// xzBuildSized is xzBuild, with each block header also declaring the
// block's uncompressed size when sized is set.
func xzBuildSized(dict byte, sized bool, blocks ...[]byte) []byte {
	var b bytes.Buffer
	le32 := func(v uint32) { binary.Write(&b, binary.LittleEndian, v) }
	b.Write([]byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 0})
	le32(crc32.ChecksumIEEE([]byte{0, 0}))
	var index []byte
	for _, data := range blocks {
		// Block header: size byte, flags (one filter, no sizes), LZMA2
		// filter (id 0x21, 1 property byte), padding to 4n, CRC32.
		h := []byte{0, 0x00}
		if sized {
			h[1] = 0x80
			h = appendVarint(h, uint64(len(data)))
		}
		h = append(h, 0x21, 0x01, dict)
		for len(h)%4 != 0 {
			h = append(h, 0)
		}
		h[0] = byte((len(h)+4)/4 - 1)
		hdr := binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
		b.Write(hdr)
		chunk := []byte{}
		if len(data) > 0 {
			chunk = append(chunk, 0x01, byte((len(data)-1)>>8), byte(len(data)-1))
			chunk = append(chunk, data...)
		}
		chunk = append(chunk, 0x00)
		b.Write(chunk)
		for i := len(hdr) + len(chunk); i%4 != 0; i++ {
			b.WriteByte(0)
		}
		index = appendVarint(appendVarint(index, uint64(len(hdr)+len(chunk))), uint64(len(data)))
	}
	idx := appendVarint([]byte{0}, uint64(len(blocks)))
	idx = append(idx, index...)
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = binary.LittleEndian.AppendUint32(idx, crc32.ChecksumIEEE(idx))
	b.Write(idx)
	footer := binary.LittleEndian.AppendUint32(nil, uint32(len(idx)/4-1))
	footer = append(footer, 0, 0)
	le32(crc32.ChecksumIEEE(footer))
	b.Write(footer)
	b.WriteString("YZ")
	return b.Bytes()
}

// scanMem scans b as a file and returns the bytes allocated meanwhile.
func scanMem(t *testing.T, name string, b []byte, opts Options) (*Artifact, uint64) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	a := scanBytes(t, name, b, opts)
	runtime.ReadMemStats(&after)
	return a, after.TotalAlloc - before.TotalAlloc
}

func TestXzBuildIsValid(t *testing.T) {
	// The hand-built streams must be what the xz module itself accepts.
	for _, blocks := range [][][]byte{{plainPickle()}, {[]byte("ab"), nil, []byte("cde")}, {}} {
		b := xzBuild(0, blocks...)
		r, err := xz.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, bytes.Join(blocks, nil)) {
			t.Fatalf("xz module reads %q, %v", got, err)
		}
		x, err := newXzReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got, err = io.ReadAll(x)
		if err != nil || !bytes.Equal(got, bytes.Join(blocks, nil)) {
			t.Fatalf("xzReader reads %q, %v", got, err)
		}
	}
}

// TestXzReaderRoundTrip decodes what the xz module's encoder writes with
// every integrity check, several blocks and several streams.
func TestXzReaderRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("mlgate xz round trip "), 2000)
	one := xzOf(t, data, xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 16, BlockSize: 4096})
	cases := map[string][]byte{
		"crc32 blocks": one,
		"crc64":        xzOf(t, data, xz.WriterConfig{}),
		"sha256":       xzOf(t, data, xz.WriterConfig{CheckSum: xz.SHA256}),
		"none":         xzOf(t, data, xz.WriterConfig{NoCheckSum: true, DictCap: 1 << 16, BlockSize: 1000}),
		"two streams":  append(append(append([]byte{}, one...), 0, 0, 0, 0), one...),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			x, err := newXzReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(x)
			if err != nil {
				t.Fatal(err)
			}
			want := data
			if name == "two streams" {
				want = bytes.Repeat(data, 2)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

func TestCompressedPickles(t *testing.T) {
	evil, plain := evilPickle(), plainPickle()
	cases := []struct {
		kind        string
		evil, plain []byte
	}{
		{"xz", xzOf(t, evil, xz.WriterConfig{}), xzOf(t, plain, xz.WriterConfig{})},
		{"xz", xzOf(t, evil, xz.WriterConfig{CheckSum: xz.SHA256, BlockSize: 8}), xzOf(t, plain, xz.WriterConfig{CheckSum: xz.CRC32, BlockSize: 8})},
		{"zstd", zstdOf(t, evil), zstdOf(t, plain)},
		{"zstd", zstdOf(t, evil, zstd.WithEncoderCRC(false), zstd.WithEncoderLevel(zstd.SpeedBestCompression)), zstdOf(t, plain, zstd.WithWindowSize(64<<20))},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			a := scanBytes(t, "model.pkl."+c.kind, c.evil, Options{})
			if !hasRule(a, PickleDangerousGlobal.ID, "os.system") || !hasRule(a, PickleDangerousGlobal.ID, "("+c.kind+")") {
				t.Errorf("malicious %s pickle: format %s, %v", c.kind, a.Format, ruleIDs(a))
			}
			if a.Format != c.kind+"+pickle" {
				t.Errorf("format %q", a.Format)
			}
			b := scanBytes(t, "state.pkl."+c.kind, c.plain, Options{})
			if len(b.Findings) != 0 || b.Format != c.kind+"+pickle" {
				t.Errorf("benign %s pickle: format %s, %v", c.kind, b.Format, ruleIDs(b))
			}
		})
	}
	nested := scanBytes(t, "model.pkl.zst.xz", xzOf(t, zstdOf(t, evil), xz.WriterConfig{}), Options{})
	if !hasRule(nested, PickleDangerousGlobal.ID, "(xz)!(zstd)") {
		t.Errorf("zstd inside xz: %s %v", nested.Format, ruleIDs(nested))
	}
}

func TestCompressedCorrupt(t *testing.T) {
	evil := evilPickle()
	data := append(evilPickle(), bytes.Repeat([]byte("padding"), 100)...)
	xzb := xzOf(t, data, xz.WriterConfig{})
	zsb := zstdOf(t, data)
	flip := func(b []byte, i int) []byte {
		c := append([]byte{}, b...)
		c[i] ^= 0x55
		return c
	}
	cases := []struct {
		name string
		data []byte
		text string
	}{
		{"xz truncated", xzb[:len(xzb)/2], "xz stream cannot be read"},
		{"xz header only", xzb[:12], "xz stream cannot be read"},
		{"xz bad stream header", flip(xzb, 7), "stream header checksum"},
		{"xz bad block header", flip(xzb, 14), "xz stream cannot be read"},
		{"xz bad check", flip(xzb, len(xzb)-40), "xz stream cannot be read"},
		{"xz bad footer", flip(xzb, len(xzb)-3), "xz stream cannot be read"},
		{"xz trailing data", append(append([]byte{}, xzb...), evil...), "data after the last stream"},
		{"xz bcj filter", func() []byte {
			b := xzBuild(0, evil)
			b[13] = 0x01 // two filters
			binary.LittleEndian.PutUint32(b[20:], crc32.ChecksumIEEE(b[12:20]))
			return b
		}(), "filter chain"},
		{"zstd truncated", zsb[:len(zsb)/2], "zstd stream cannot be read"},
		{"zstd bad checksum", flip(zsb, len(zsb)-1), "zstd stream cannot be read"},
		{"zstd trailing data", append(append([]byte{}, zsb...), 1, 2, 3, 4, 5), "zstd stream cannot be read"},
		{"zstd header only", zsb[:4], "zstd stream cannot be read"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := scanBytes(t, "model.pkl.x", c.data, Options{})
			if !hasRule(a, UnscannableContainer.ID, c.text) {
				t.Errorf("want %s mentioning %q; format %s, got %v", UnscannableContainer.ID, c.text, a.Format, messages(a))
			}
		})
	}
}

func messages(a *Artifact) []string {
	var m []string
	for _, f := range a.Findings {
		m = append(m, f.RuleID+": "+f.Message)
	}
	return m
}

// TestXzHugeDictionary: a block header declaring a 1.5 GiB dictionary
// (which the xz module's own reader would allocate up front) is refused
// before anything is allocated.
func TestXzHugeDictionary(t *testing.T) {
	for _, code := range []byte{29, 37, 40} { // 96 MiB, 1.5 GiB, 4 GiB - 1
		b := xzBuild(code, evilPickle())
		a, alloc := scanMem(t, "model.pkl.xz", b, Options{})
		t.Logf("dictionary code %d: %d bytes allocated by the scan", code, alloc)
		if !hasRule(a, UnscannableContainer.ID, "more than the 64 MiB") {
			t.Errorf("code %d: %v", code, messages(a))
		}
		if alloc > 8<<20 {
			t.Errorf("code %d: the scan allocated %d bytes", code, alloc)
		}
	}
	// 64 MiB itself is accepted.
	a := scanBytes(t, "model.pkl.xz", xzBuild(28, evilPickle()), Options{})
	if !hasRule(a, PickleDangerousGlobal.ID, "os.system") || hasRule(a, UnscannableContainer.ID, "") {
		t.Errorf("64 MiB dictionary: %v", messages(a))
	}
}

// TestXzDictionaryBudget: many blocks each declaring a large dictionary
// may not allocate more than the limit plus the content produced.
func TestXzDictionaryBudget(t *testing.T) {
	blocks := make([][]byte, 50)
	for i := range blocks {
		blocks[i] = []byte{'x'}
	}
	blocks[0] = evilPickle()
	a, alloc := scanMem(t, "model.pkl.xz", xzBuild(28, blocks...), Options{}) // 64 MiB each
	t.Logf("50 blocks declaring 64 MiB: %d bytes allocated by the scan", alloc)
	if !hasRule(a, UnscannableContainer.ID, "dictionaries") || !hasRule(a, PickleDangerousGlobal.ID, "os.system") {
		t.Errorf("%v", messages(a))
	}
	if alloc > dictBudgetBase+16<<20 {
		t.Errorf("the scan allocated %d bytes", alloc)
	}
	// A block that declares its (small) uncompressed size gets a
	// dictionary of that size, whatever it declares, as xz -T writes them.
	sized := xzBuildSized(28, true, blocks...)
	b, alloc := scanMem(t, "model.pkl.xz", sized, Options{})
	t.Logf("50 blocks declaring 64 MiB and their sizes: %d bytes allocated by the scan", alloc)
	if hasRule(b, UnscannableContainer.ID, "") || !hasRule(b, PickleDangerousGlobal.ID, "os.system") || alloc > 8<<20 {
		t.Errorf("%d bytes allocated; %v", alloc, messages(b))
	}
	if r, err := xz.NewReader(bytes.NewReader(sized)); err != nil {
		t.Fatal(err)
	} else if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, bytes.Join(blocks, nil)) {
		t.Fatalf("the xz module reads %d bytes, %v", len(got), err)
	}
}

// zstdFrame writes a zstd frame header declaring a window of 1<<log bytes
// (no content size), followed by one raw last block holding data.
func zstdFrame(log byte, data []byte) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, (log - 10) << 3}
	h := uint32(len(data))<<3 | 1 // raw block, last
	b = append(b, byte(h), byte(h>>8), byte(h>>16))
	return append(b, data...)
}

func TestZstdHugeWindow(t *testing.T) {
	g := runtime.NumGoroutine()
	for _, log := range []byte{27, 31, 41} { // 128 MiB (zstd --long), 2 GiB, 2 TiB
		a, alloc := scanMem(t, "model.pkl.zst", zstdFrame(log, evilPickle()), Options{})
		t.Logf("window 2^%d: %d bytes allocated by the scan", log, alloc)
		if !hasRule(a, UnscannableContainer.ID, "window larger than the 64 MiB") {
			t.Errorf("window 2^%d: %v", log, messages(a))
		}
		if alloc > 8<<20 {
			t.Errorf("window 2^%d: the scan allocated %d bytes", log, alloc)
		}
	}
	// 64 MiB is accepted; the decoder allocates its history up front.
	a, alloc := scanMem(t, "model.pkl.zst", zstdFrame(26, evilPickle()), Options{})
	t.Logf("window 2^26 (accepted): %d bytes allocated by the scan", alloc)
	if !hasRule(a, PickleDangerousGlobal.ID, "os.system") || hasRule(a, UnscannableContainer.ID, "") {
		t.Errorf("64 MiB window: %v", messages(a))
	}
	if alloc > maxZstdWindow+maxZstdWindow/2 {
		t.Errorf("64 MiB window: the scan allocated %d bytes", alloc)
	}
	// The history is allocated once per stream, not once per frame.
	var frames []byte
	for range 100 {
		frames = append(frames, zstdFrame(26, plainPickle())...)
		frames = append(frames, zstdFrame(12, plainPickle())...)
	}
	_, alloc = scanMem(t, "model.pkl.zst", frames, Options{})
	t.Logf("200 frames declaring 64 MiB and 4 KiB windows: %d bytes allocated by the scan", alloc)
	if alloc > maxZstdWindow+maxZstdWindow/2 {
		t.Errorf("200 frames: the scan allocated %d bytes", alloc)
	}
	runtime.GC()
	if n := runtime.NumGoroutine(); n > g {
		t.Errorf("%d goroutines left running, %d before", n, g)
	}
}

func TestCompressedBomb(t *testing.T) {
	zeros := make([]byte, 8<<20)
	for _, c := range []struct {
		kind string
		data []byte
	}{
		{"xz", xzOf(t, zeros, xz.WriterConfig{})},
		{"zstd", zstdOf(t, zeros)},
		{"xz", xzOf(t, append(evilPickle(), zeros...), xz.WriterConfig{})},
	} {
		t.Run(c.kind, func(t *testing.T) {
			a, alloc := scanMem(t, "model.pkl."+c.kind, c.data, Options{MaxDecompressed: 1 << 20})
			t.Logf("%s, %d compressed bytes: %d bytes allocated by the scan", c.kind, len(c.data), alloc)
			if !hasRule(a, ZipAnomaly.ID, c.kind+" stream decompresses to more than 1048576 bytes") {
				t.Errorf("%v", messages(a))
			}
			if hasRule(a, UnscannableContainer.ID, "") {
				t.Errorf("a stream cut at the limit is not a decoding error: %v", messages(a))
			}
		})
	}
}

func Test7zStaysUnscannable(t *testing.T) {
	a := scanBytes(t, "model.7z", append([]byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, make([]byte, 64)...), Options{})
	if a.Format != "7z" || !hasRule(a, UnscannableContainer.ID, "7z container, which mlgate cannot open") {
		t.Errorf("%s %v", a.Format, messages(a))
	}
	if strings.Contains(strings.Join(messages(a), ""), "yet") {
		t.Errorf("stale message: %v", messages(a))
	}
}

// lzma2Of compresses b into a raw LZMA2 chunk sequence (with its end
// marker), as an xz block holds it.
func lzma2Of(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := lzma.Writer2Config{DictCap: 1 << 16}.NewWriter2(&out)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// xzAssemble wraps an LZMA2 chunk sequence into a one-block xz stream with
// valid header, index and footer checksums, the check type check, the
// block flags bflags (bit 6: compressed size, bit 7: uncompressed size)
// and dictionary-size code dict, so a fuzzer mutating the fields and the
// LZMA2 data gets past the CRCs. The integrity check and uncompressed size
// are those of the data as the lzma module decodes it (zero when it
// cannot).
func xzAssemble(check, bflags, dict byte, lzma2 []byte) []byte {
	check &= 0x0f
	var out []byte
	ok := false
	if r, err := (lzma.Reader2Config{DictCap: 1 << 20}).NewReader2(bytes.NewReader(lzma2)); err == nil {
		out, err = io.ReadAll(io.LimitReader(r, 1<<20))
		ok = err == nil
	}
	le32 := func(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
	b := append([]byte{}, xzMagic...)
	b = append(b, 0, check)
	b = le32(b, crc32.ChecksumIEEE([]byte{0, check}))
	h := []byte{0, bflags & 0xc0}
	if bflags&0x40 != 0 {
		h = appendVarint(h, uint64(len(lzma2)))
	}
	if bflags&0x80 != 0 {
		h = appendVarint(h, uint64(len(out)))
	}
	h = append(h, 0x21, 0x01, dict)
	for len(h)%4 != 0 {
		h = append(h, 0)
	}
	h[0] = byte(len(h) / 4)
	h = le32(h, crc32.ChecksumIEEE(h))
	b = append(b, h...)
	b = append(b, lzma2...)
	for i := len(h) + len(lzma2); i%4 != 0; i++ {
		b = append(b, 0)
	}
	var sum []byte
	switch check {
	case 0x01:
		sum = le32(nil, crc32.ChecksumIEEE(out))
	case 0x04:
		sum = binary.LittleEndian.AppendUint64(nil, crc64.Checksum(out, crc64.MakeTable(crc64.ECMA)))
	case 0x0a:
		s := sha256.Sum256(out)
		sum = s[:]
	}
	if !ok {
		sum = make([]byte, len(sum))
	}
	b = append(b, sum...)
	idx := appendVarint([]byte{0, 1}, uint64(len(h)+len(lzma2)+len(sum)))
	idx = appendVarint(idx, uint64(len(out)))
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = le32(idx, crc32.ChecksumIEEE(idx))
	b = append(b, idx...)
	footer := append(le32(nil, uint32(len(idx)/4-1)), 0, check)
	b = le32(b, crc32.ChecksumIEEE(footer))
	b = append(b, footer...)
	return append(b, 'Y', 'Z')
}

func TestXzAssemble(t *testing.T) {
	for _, check := range []byte{0, 1, 4, 10} {
		for _, bflags := range []byte{0, 0x40, 0x80, 0xc0} {
			b := xzAssemble(check, bflags, 16, lzma2Of(t, evilPickle()))
			for name, r := range map[string]func() (io.Reader, error){
				"xz module": func() (io.Reader, error) { return xz.NewReader(bytes.NewReader(b)) },
				"xzReader":  func() (io.Reader, error) { return newXzReader(bytes.NewReader(b)) },
			} {
				rd, err := r()
				if err != nil {
					t.Fatalf("check %d flags %#x: %s: %v", check, bflags, name, err)
				}
				got, err := io.ReadAll(rd)
				if err != nil || !bytes.Equal(got, evilPickle()) {
					t.Fatalf("check %d flags %#x: %s reads %q, %v", check, bflags, name, got, err)
				}
			}
		}
	}
}

// TestXzTruncatedBlockHeader: data after a block's end that starts a
// block header the input is too short for is an error (`xz -t` says
// "Unexpected end of input"), not the end of the stream.
func TestXzTruncatedBlockHeader(t *testing.T) {
	b := xzAssemble(0, 0, 8, []byte("\x00\x00\x00\x000"))
	x, err := newXzReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(x); err == nil {
		t.Error("accepted")
	}
	a := scanBytes(t, "model.pkl.xz", b, Options{})
	if !hasRule(a, UnscannableContainer.ID, "xz stream cannot be read") {
		t.Errorf("%v", messages(a))
	}
}

// FuzzXzStream feeds the xz decoder raw bytes, and one-block xz streams
// assembled around fuzzed header fields and LZMA2 data with valid
// checksums (see xzAssemble). Nothing may panic, hang or allocate without
// bound; with small dictionaries, it must accept exactly the streams the
// xz module accepts, with the same content.
func FuzzXzStream(f *testing.F) {
	f.Add(xzOf(f, evilPickle(), xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 16, BlockSize: 16}), byte(1), byte(0), byte(16), lzma2Of(f, evilPickle()))
	f.Add(xzBuild(0, []byte("ab"), nil), byte(4), byte(0xc0), byte(0), lzma2Of(f, bytes.Repeat([]byte("mlgate "), 300)))
	f.Add([]byte{}, byte(10), byte(0x80), byte(28), lzma2Of(f, plainPickle()))
	f.Add([]byte{}, byte(0), byte(0x40), byte(40), []byte{0x01, 0x00, 0x01, 'h', 'i', 0x00})
	f.Fuzz(func(t *testing.T, raw []byte, check, bflags, dict byte, lzma2 []byte) {
		if x, err := newXzReader(bytes.NewReader(raw)); err == nil {
			io.Copy(io.Discard, io.LimitReader(x, 2<<20))
		}
		b := xzAssemble(check, bflags, dict, lzma2)
		a := &Artifact{Path: "fuzz.xz"}
		s := &scanner{opts: Options{MaxDecompressed: 1 << 20, MaxDepth: 2}, art: a}
		s.dispatch(bytes.NewReader(b), int64(len(b)), "", 0)
		for _, f := range a.Findings {
			if f.RuleID == "" || f.Message == "" || f.Fingerprint == "" || len(f.Message) > 8192 {
				t.Fatalf("bad finding %+v", f)
			}
		}
		if dict > 20 {
			return // the xz module would allocate what the header declares
		}
		read := func(r io.Reader, err error) ([]byte, error) {
			if err != nil {
				return nil, err
			}
			return io.ReadAll(io.LimitReader(r, 2<<20))
		}
		mine, errMine := read(newXzReader(bytes.NewReader(b)))
		theirs, errTheirs := read(xz.NewReader(bytes.NewReader(b)))
		// The xz module takes a block header cut short by the end of the
		// input for the end of the stream, where xz (the tool) and
		// xzReader report it (TestXzTruncatedBlockHeader); so xzReader
		// may refuse what the module accepts, never the reverse.
		if errMine == nil && (errTheirs != nil || !bytes.Equal(mine, theirs)) {
			t.Fatalf("xzReader: %d bytes, %v; xz module: %d bytes, %v", len(mine), errMine, len(theirs), errTheirs)
		}
	})
}
