package scan

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"
)

// maxXzDictionary bounds the LZMA2 dictionary an xz block may declare, and
// maxZstdWindow the window a zstd frame may declare; larger ones are
// refused (reported, not decompressed) before anything is allocated. Both
// decoders allocate the declared size up front, however little data
// follows, so this is what a 20-byte hostile file can cost. 64 MiB is what
// `xz -9` uses and 8 times what `zstd -19` uses; only tuned settings go
// beyond it (xz --lzma2=dict=, zstd --long or --ultra -21/-22 on large
// or piped input).
const (
	maxXzDictionary = 64 << 20
	maxZstdWindow   = 64 << 20
)

// errWindow reports an xz block whose declared dictionary exceeds
// maxXzDictionary.
type errWindow struct{ size uint64 }

func (e *errWindow) Error() string {
	return fmt.Sprintf("it declares an LZMA2 dictionary of %s, more than the %d MiB mlgate allows a decoder to hold, so it was not decompressed",
		mib(e.size), maxXzDictionary>>20)
}

func mib(n uint64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// newZstdReader decodes a zstd stream (one or more frames) synchronously,
// with no decoder goroutines, refusing frames whose window exceeds
// maxZstdWindow before their history is allocated. The caller closes it.
func newZstdReader(r io.Reader) (io.ReadCloser, error) {
	d, err := zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow),
		zstd.WithDecoderMaxMemory(maxZstdWindow),
		zstd.WithDecodeBuffersBelow(0))
	if err != nil {
		return nil, err
	}
	return zstdReader{d.IOReadCloser()}, nil
}

// zstdReader names the library's size errors in terms of the limit.
type zstdReader struct{ io.ReadCloser }

func (z zstdReader) Read(p []byte) (int, error) {
	n, err := z.ReadCloser.Read(p)
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		err = fmt.Errorf("a frame needs a window larger than the %d MiB mlgate allows a decoder to hold, so it was not decompressed (%w)", maxZstdWindow>>20, err)
	}
	return n, err
}

// captureReader remembers the first decoding error (anything but io.EOF)
// of the stream it wraps.
type captureReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *captureReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return k, err
}

// finishStream reads what the content's scanner left of an xz or zstd
// stream (at most up to the decompressed-size limit), so that corruption,
// checksum mismatches and data after the stream are found even when the
// content was recognised from its first bytes, and reports the first
// decoding error.
func (s *scanner) finishStream(lr *limitedReader, c *captureReader, kind, entry string) {
	if c.err == nil && !lr.hit {
		io.Copy(io.Discard, lr)
	}
	if c.err == nil {
		return
	}
	msg := fmt.Sprintf("%s%s: %s stream cannot be read: %v", s.art.Path, where(entry), kind, c.err)
	if c.n > 0 {
		msg = fmt.Sprintf("%s%s: %s stream cannot be read past %d decompressed bytes: %v; the rest was not scanned", s.art.Path, where(entry), kind, c.n, c.err)
	}
	s.report(UnscannableContainer, entry, -1, msg, kind+" unreadable")
}

// xzReader decodes the xz container format (one or more streams, each a
// header, LZMA2 blocks, an index and a footer, with optional zero padding
// between streams) itself, and leaves only the LZMA2 data to
// github.com/ulikunitz/xz/lzma. It does so because that module's xz reader
// allocates whatever dictionary a block header declares (up to 4 GiB)
// before reading any data; here every block header is checked first:
//   - a declared dictionary above maxXzDictionary is refused (errWindow);
//   - the dictionary allocated for a block is the declared one, or the
//     block's declared uncompressed size when that is smaller;
//   - all the dictionaries allocated for one file may not exceed
//     dictBudgetBase plus dictBudgetPerByte bytes per byte decompressed so
//     far, so many small blocks each asking for a large dictionary cannot
//     make the work (allocating and zeroing dictionaries) grow faster than
//     the output, which the caller bounds. Encoders that split into blocks
//     (xz -T) record each block's size, so their dictionaries shrink to it.
//
// Only the LZMA2 filter alone is supported (what xz and Python's lzma write
// by default); BCJ and delta filter chains are reported as unsupported.
// Sizes, padding, integrity checks (CRC32, CRC64, SHA-256), the index and
// the footer are all verified.
type xzReader struct {
	in        countReader
	flags     [2]byte // stream flags of the current stream
	inStream  bool
	streams   int
	checkSize int
	check     hash.Hash
	// The current block; data is nil between blocks.
	data      *lzma.Reader2
	hdrSize   int64
	compSize  int64 // declared, or -1
	uncSize   int64 // declared, or -1
	dataStart int64
	out       int64 // bytes decompressed from the block
	// Index bookkeeping for the current stream.
	records       uint64
	sumUnpadded   uint64
	sumUnc        uint64
	recordsDigest hash.Hash32
	// Over the whole file.
	produced  int64
	allocated int64
	err       error
}

// countReader counts the bytes read from the compressed input.
type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// The dictionary budget of one xz file (see xzReader). Allocating and
// zeroing 16 bytes costs far less than decoding one LZMA2 byte.
const (
	dictBudgetBase    = 2 * maxXzDictionary
	dictBudgetPerByte = 16
)

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

// newXzReader reads the first stream header of r and returns a reader of
// the decompressed content.
func newXzReader(r io.Reader) (*xzReader, error) {
	x := &xzReader{in: countReader{r: bufio.NewReaderSize(r, 64<<10)}}
	if err := x.streamHeader(); err != nil {
		return nil, noEOF(err)
	}
	return x, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (x *xzReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, x.err
	}
	for x.err == nil {
		if x.data == nil {
			if err := x.next(); err != nil {
				x.err = err
			}
			continue
		}
		n, err := x.data.Read(p)
		x.out += int64(n)
		x.produced += int64(n)
		if x.check != nil {
			x.check.Write(p[:n])
		}
		if x.uncSize >= 0 && x.out > x.uncSize {
			x.err = errors.New("xz: a block holds more data than its header declares")
			return n, x.err
		}
		switch {
		case err == io.EOF && !x.data.EOS():
			// The lzma module can report a truncated chunk as io.EOF;
			// only the end-of-data chunk ends a block.
			x.err = errors.New("xz: LZMA2 data: truncated chunk")
			return n, x.err
		case err == io.EOF:
			x.data = nil
			if err := x.endBlock(); err != nil {
				x.err = err
				return n, err
			}
		case err != nil:
			x.err = fmt.Errorf("xz: LZMA2 data: %w", noEOF(err))
			return n, x.err
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, x.err
}

// next reads what follows a block or a stream: another block header, or
// the index and footer, or stream padding, another stream or the end.
func (x *xzReader) next() error {
	if !x.inStream {
		return x.streamHeader()
	}
	b, err := x.in.ReadByte()
	if err != nil {
		return noEOF(err)
	}
	if b == 0 {
		return x.indexAndFooter()
	}
	return x.blockHeader(b)
}

// streamHeader reads stream padding (after the first stream) and a stream
// header; io.EOF when the input ends cleanly after a stream.
func (x *xzReader) streamHeader() error {
	if x.streams > 0 {
		for {
			pad, err := x.in.r.Peek(4)
			if len(pad) == 0 && err == io.EOF {
				return io.EOF
			}
			if len(pad) < 4 {
				return errors.New("xz: data after the last stream")
			}
			if !bytes.Equal(pad, []byte{0, 0, 0, 0}) {
				break
			}
			x.in.r.Discard(4)
		}
	}
	var h [12]byte
	if _, err := io.ReadFull(&x.in, h[:]); err != nil {
		if x.streams > 0 {
			return errors.New("xz: data after the last stream")
		}
		return noEOF(err)
	}
	if !bytes.Equal(h[:6], xzMagic) {
		if x.streams > 0 {
			return errors.New("xz: data after the last stream")
		}
		return errors.New("xz: not an xz stream")
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return errors.New("xz: stream header checksum mismatch")
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return errors.New("xz: reserved stream flags set")
	}
	switch h[7] {
	case 0x00:
		x.checkSize = 0
	case 0x01:
		x.checkSize = 4
	case 0x04:
		x.checkSize = 8
	case 0x0a:
		x.checkSize = 32
	default:
		return fmt.Errorf("xz: unsupported integrity check type %#x", h[7])
	}
	copy(x.flags[:], h[6:8])
	x.inStream = true
	x.streams++
	x.records, x.sumUnpadded, x.sumUnc = 0, 0, 0
	x.recordsDigest = crc32.NewIEEE()
	return nil
}

func (x *xzReader) newCheck() hash.Hash {
	switch x.flags[1] {
	case 0x01:
		return crc32.NewIEEE()
	case 0x04:
		return crc64.New(crc64.MakeTable(crc64.ECMA))
	case 0x0a:
		return sha256.New()
	}
	return nil
}

// xzDictSize decodes an LZMA2 dictionary-size property byte.
func xzDictSize(c byte) (uint64, error) {
	switch {
	case c > 40:
		return 0, fmt.Errorf("xz: invalid LZMA2 dictionary size code %d", c)
	case c == 40:
		return 1<<32 - 1, nil
	}
	return uint64(2|c&1) << (c/2 + 11), nil
}

// blockHeader parses and checks a block header whose first byte is b, and
// starts the block's LZMA2 decoder.
func (x *xzReader) blockHeader(b byte) error {
	size := (int(b) + 1) * 4
	h := make([]byte, size)
	h[0] = b
	if _, err := io.ReadFull(&x.in, h[1:]); err != nil {
		return noEOF(err)
	}
	if crc32.ChecksumIEEE(h[:size-4]) != binary.LittleEndian.Uint32(h[size-4:]) {
		return errors.New("xz: block header checksum mismatch")
	}
	body := h[2 : size-4]
	flags := h[1]
	if flags&0x3c != 0 {
		return errors.New("xz: reserved block flags set")
	}
	x.compSize, x.uncSize = -1, -1
	var err error
	if flags&0x40 != 0 {
		if x.compSize, body, err = xzField(body); err != nil {
			return err
		}
		if x.compSize == 0 {
			return errors.New("xz: block declares a compressed size of zero")
		}
	}
	if flags&0x80 != 0 {
		if x.uncSize, body, err = xzField(body); err != nil {
			return err
		}
	}
	var id, propLen int64
	if id, body, err = xzField(body); err != nil {
		return err
	}
	if flags&0x03 != 0 || id != 0x21 {
		return errors.New("xz: the block uses a filter chain other than LZMA2 alone (BCJ or delta filters), which mlgate does not decode")
	}
	if propLen, body, err = xzField(body); err != nil {
		return err
	}
	if propLen != 1 || len(body) < 1 {
		return errors.New("xz: malformed LZMA2 filter properties")
	}
	prop := body[0]
	for _, p := range body[1:] {
		if p != 0 {
			return errors.New("xz: non-zero block header padding")
		}
	}
	if prop&0xc0 != 0 {
		return errors.New("xz: reserved LZMA2 property bits set")
	}
	dict, err := xzDictSize(prop)
	if err != nil {
		return err
	}
	if dict > maxXzDictionary {
		return &errWindow{size: dict}
	}
	// The dictionary never needs to be larger than the block's content.
	alloc := int64(dict)
	if x.uncSize >= 0 && x.uncSize < alloc {
		alloc = max(x.uncSize, lzma.MinDictCap)
	}
	if x.allocated+alloc > dictBudgetBase+dictBudgetPerByte*x.produced {
		return fmt.Errorf("xz: the blocks so far need %d bytes of dictionaries for %d bytes of content; refused (many blocks with large dictionaries)", x.allocated+alloc, x.produced)
	}
	x.allocated += alloc
	x.hdrSize = int64(size)
	x.dataStart = x.in.n
	x.out = 0
	x.check = x.newCheck()
	var src io.Reader = &x.in
	if x.compSize >= 0 {
		src = io.LimitReader(&x.in, x.compSize)
	}
	x.data, err = lzma.Reader2Config{DictCap: int(alloc)}.NewReader2(src)
	if err != nil {
		return fmt.Errorf("xz: LZMA2 data: %w", err)
	}
	return nil
}

// xzField reads one variable-length integer from a block header.
func xzField(b []byte) (int64, []byte, error) {
	v, n, err := xzVarint(b)
	if err != nil {
		return 0, nil, err
	}
	return int64(v), b[n:], nil
}

// xzVarint decodes the xz format's variable-length integer (at most 9
// bytes, 63 bits, no redundant trailing zero byte).
func xzVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0, errors.New("xz: truncated integer in a header")
		}
		if i > 0 && b[i] == 0 {
			return 0, 0, errors.New("xz: malformed integer in a header")
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("xz: integer in a header is too long")
}

// readVarint reads a variable-length integer from the input, feeding its
// bytes to h.
func (x *xzReader) readVarint(h hash.Hash32) (uint64, error) {
	var buf [9]byte
	for i := range buf {
		c, err := x.in.ReadByte()
		if err != nil {
			return 0, noEOF(err)
		}
		buf[i] = c
		if c&0x80 == 0 {
			h.Write(buf[:i+1])
			v, _, err := xzVarint(buf[:i+1])
			return v, err
		}
	}
	return 0, errors.New("xz: integer in the index is too long")
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// endBlock checks a block's sizes, padding and integrity check after its
// LZMA2 data ended, and records it for the index.
func (x *xzReader) endBlock() error {
	comp := x.in.n - x.dataStart
	if x.compSize >= 0 && comp != x.compSize {
		return errors.New("xz: a block's compressed size differs from its header")
	}
	if x.uncSize >= 0 && x.out != x.uncSize {
		return errors.New("xz: a block's uncompressed size differs from its header")
	}
	var tail [3 + 32]byte
	pad := int((4 - (x.hdrSize+comp)%4) % 4)
	t := tail[:pad+x.checkSize]
	if _, err := io.ReadFull(&x.in, t); err != nil {
		return noEOF(err)
	}
	for _, c := range t[:pad] {
		if c != 0 {
			return errors.New("xz: non-zero block padding")
		}
	}
	sum := t[pad:]
	switch h := x.check.(type) {
	case nil:
	case hash.Hash32:
		if binary.LittleEndian.Uint32(sum) != h.Sum32() {
			return errors.New("xz: block CRC32 mismatch")
		}
	case hash.Hash64:
		if binary.LittleEndian.Uint64(sum) != h.Sum64() {
			return errors.New("xz: block CRC64 mismatch")
		}
	default:
		if !bytes.Equal(sum, h.Sum(nil)) {
			return errors.New("xz: block SHA-256 mismatch")
		}
	}
	unpadded := uint64(x.hdrSize+comp) + uint64(x.checkSize)
	x.records++
	x.sumUnpadded += unpadded
	x.sumUnc += uint64(x.out)
	x.recordsDigest.Write(appendVarint(appendVarint(nil, unpadded), uint64(x.out)))
	return nil
}

// indexAndFooter reads the index (its indicator byte already read),
// compares it with the blocks seen, and reads the stream footer.
func (x *xzReader) indexAndFooter() error {
	start := x.in.n - 1
	crc := crc32.NewIEEE()
	crc.Write([]byte{0})
	count, err := x.readVarint(crc)
	if err != nil {
		return err
	}
	if count != x.records {
		return fmt.Errorf("xz: the index lists %d blocks, the stream has %d", count, x.records)
	}
	digest := crc32.NewIEEE()
	var sumUnpadded, sumUnc uint64
	for range count {
		u, err := x.readVarint(crc)
		if err != nil {
			return err
		}
		c, err := x.readVarint(crc)
		if err != nil {
			return err
		}
		sumUnpadded += u
		sumUnc += c
		digest.Write(appendVarint(appendVarint(nil, u), c))
	}
	if sumUnpadded != x.sumUnpadded || sumUnc != x.sumUnc || digest.Sum32() != x.recordsDigest.Sum32() {
		return errors.New("xz: the index does not match the blocks")
	}
	var tail [3 + 4]byte
	pad := int((4 - (x.in.n-start)%4) % 4)
	t := tail[:pad+4]
	if _, err := io.ReadFull(&x.in, t); err != nil {
		return noEOF(err)
	}
	for _, c := range t[:pad] {
		if c != 0 {
			return errors.New("xz: non-zero index padding")
		}
	}
	crc.Write(t[:pad])
	if binary.LittleEndian.Uint32(t[pad:]) != crc.Sum32() {
		return errors.New("xz: index CRC32 mismatch")
	}
	indexSize := x.in.n - start
	var f [12]byte
	if _, err := io.ReadFull(&x.in, f[:]); err != nil {
		return noEOF(err)
	}
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[:4]) {
		return errors.New("xz: stream footer checksum mismatch")
	}
	if (int64(binary.LittleEndian.Uint32(f[4:8]))+1)*4 != indexSize || f[8] != x.flags[0] || f[9] != x.flags[1] || f[10] != 'Y' || f[11] != 'Z' {
		return errors.New("xz: stream footer does not match the stream")
	}
	x.inStream = false
	return nil
}
