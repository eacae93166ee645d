// Package zipdir reads a zip archive's central directory one record at a
// time, without holding the directory in memory, and opens single entries
// with their local header checked and their CRC-32 and size verified.
//
// archive/zip builds a File value for every entry before the first can be
// read; a PyTorch checkpoint with 100,000 tensors has 100,000 entries, so
// that costs tens of megabytes and most of the time of a scan that only
// needs a handful of them. Records here are visited by a callback with a
// reused Entry, so memory stays flat whatever the entry count.
package zipdir

import (
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// Limits.
const (
	// MaxEntries bounds the records visited in one directory.
	MaxEntries = 10_000_000
	// eocdSearch is how far from the end the end-of-central-directory
	// record is searched for: its size plus the largest comment.
	eocdSearch = 22 + 65535
)

// ErrFormat is returned for data that is not a readable zip archive.
var ErrFormat = errors.New("not a valid zip file")

// Methods a zip entry can be stored with that Open can read.
const (
	Store   = 0
	Deflate = 8
)

// Entry is one central directory record. Name is only valid during the
// callback that receives it unless copied.
type Entry struct {
	Name             []byte
	Method           uint16
	Flags            uint16
	CRC32            uint32
	CompressedSize   uint64
	UncompressedSize uint64
	HeaderOffset     uint64
	ExternalAttrs    uint32
	CreatorVersion   uint16
	// Index is the record's position in the directory.
	Index int
}

// IsDir reports whether the entry names a directory.
func (e *Entry) IsDir() bool {
	return len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/'
}

// Encrypted reports the traditional/strong encryption flag.
func (e *Entry) Encrypted() bool { return e.Flags&0x1 != 0 }

// Dir is an archive's central directory location.
type Dir struct {
	r       io.ReaderAt
	size    int64
	offset  int64 // of the first record
	dirSize int64
	count   uint64
	// Comment is the archive comment.
	Comment []byte
}

// Open locates the central directory of the archive of size bytes in r.
func Open(r io.ReaderAt, size int64) (*Dir, error) {
	if size < 22 {
		return nil, ErrFormat
	}
	n := min(size, eocdSearch)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read end of central directory: %w", err)
	}
	p := -1
	for i := len(buf) - 22; i >= 0; i-- {
		if buf[i] == 'P' && buf[i+1] == 'K' && buf[i+2] == 5 && buf[i+3] == 6 {
			// The comment must fit exactly; a signature inside a comment
			// or in data does not end the file.
			if cl := int(binary.LittleEndian.Uint16(buf[i+20:])); i+22+cl <= len(buf) {
				p = i
				break
			}
		}
	}
	if p < 0 {
		return nil, ErrFormat
	}
	e := buf[p:]
	d := &Dir{r: r, size: size}
	d.count = uint64(binary.LittleEndian.Uint16(e[10:]))
	d.dirSize = int64(binary.LittleEndian.Uint32(e[12:]))
	d.offset = int64(binary.LittleEndian.Uint32(e[16:]))
	cl := int(binary.LittleEndian.Uint16(e[20:]))
	d.Comment = append([]byte(nil), e[22:22+cl]...)
	eocdAt := size - n + int64(p)
	if d.count == 0xffff || d.dirSize == 0xffffffff || d.offset == 0xffffffff {
		if err := d.zip64(eocdAt); err != nil {
			return nil, err
		}
	}
	if d.offset < 0 || d.dirSize < 0 || d.offset > size || d.dirSize > size-d.offset {
		return nil, fmt.Errorf("%w: central directory at %d (%d bytes) lies outside the %d-byte file", ErrFormat, d.offset, d.dirSize, size)
	}
	if d.count > MaxEntries {
		return nil, fmt.Errorf("%w: %d entries (limit %d)", ErrFormat, d.count, MaxEntries)
	}
	return d, nil
}

func (d *Dir) zip64(eocdAt int64) error {
	if eocdAt < 20 {
		return nil // no locator: the 0xffff values are real
	}
	var loc [20]byte
	if _, err := d.r.ReadAt(loc[:], eocdAt-20); err != nil {
		return fmt.Errorf("read zip64 locator: %w", err)
	}
	if binary.LittleEndian.Uint32(loc[:]) != 0x07064b50 {
		return nil
	}
	at := int64(binary.LittleEndian.Uint64(loc[8:]))
	if at < 0 || at > d.size-56 {
		return fmt.Errorf("%w: zip64 directory end at %d is outside the file", ErrFormat, at)
	}
	var rec [56]byte
	if _, err := d.r.ReadAt(rec[:], at); err != nil {
		return fmt.Errorf("read zip64 directory end: %w", err)
	}
	if binary.LittleEndian.Uint32(rec[:]) != 0x06064b50 {
		return fmt.Errorf("%w: bad zip64 directory end signature", ErrFormat)
	}
	d.count = binary.LittleEndian.Uint64(rec[32:])
	d.dirSize = int64(binary.LittleEndian.Uint64(rec[40:]))
	d.offset = int64(binary.LittleEndian.Uint64(rec[48:]))
	return nil
}

// Count is the number of entries the directory declares.
func (d *Dir) Count() uint64 { return d.count }

// Walk calls fn for each central directory record in order, with an Entry
// that is reused between calls. It stops at the first error fn returns.
// A record count that disagrees with the records found is an error.
func (d *Dir) Walk(fn func(*Entry) error) error {
	br := &reader{r: d.r, off: d.offset, end: d.offset + d.dirSize}
	var e Entry
	var hdr [46]byte
	i := 0
	for ; uint64(i) < d.count; i++ {
		if err := br.full(hdr[:]); err != nil {
			return fmt.Errorf("%w: central directory ends after %d of %d records", ErrFormat, i, d.count)
		}
		if binary.LittleEndian.Uint32(hdr[:]) != 0x02014b50 {
			return fmt.Errorf("%w: record %d of the central directory has a bad signature", ErrFormat, i)
		}
		e = Entry{Index: i, Name: e.Name[:0]}
		e.CreatorVersion = binary.LittleEndian.Uint16(hdr[4:])
		e.Flags = binary.LittleEndian.Uint16(hdr[8:])
		e.Method = binary.LittleEndian.Uint16(hdr[10:])
		e.CRC32 = binary.LittleEndian.Uint32(hdr[16:])
		e.CompressedSize = uint64(binary.LittleEndian.Uint32(hdr[20:]))
		e.UncompressedSize = uint64(binary.LittleEndian.Uint32(hdr[24:]))
		nameLen := int(binary.LittleEndian.Uint16(hdr[28:]))
		extraLen := int(binary.LittleEndian.Uint16(hdr[30:]))
		commentLen := int(binary.LittleEndian.Uint16(hdr[32:]))
		e.ExternalAttrs = binary.LittleEndian.Uint32(hdr[38:])
		e.HeaderOffset = uint64(binary.LittleEndian.Uint32(hdr[42:]))
		if cap(e.Name) < nameLen {
			e.Name = make([]byte, nameLen, max(nameLen, 256))
		}
		e.Name = e.Name[:nameLen]
		if err := br.full(e.Name); err != nil {
			return fmt.Errorf("%w: record %d is truncated", ErrFormat, i)
		}
		if extraLen > 0 {
			extra, err := br.slice(extraLen)
			if err != nil {
				return fmt.Errorf("%w: record %d is truncated", ErrFormat, i)
			}
			e.zip64Extra(extra)
		}
		if err := br.skip(commentLen); err != nil {
			return fmt.Errorf("%w: record %d is truncated", ErrFormat, i)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return nil
}

// zip64Extra applies a zip64 extended information field: the fields whose
// 32-bit value is all ones are stored there, in a fixed order.
func (e *Entry) zip64Extra(extra []byte) {
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return
		}
		field := extra[:size]
		extra = extra[size:]
		if tag != 0x0001 {
			continue
		}
		next := func(v *uint64) {
			if *v == 0xffffffff && len(field) >= 8 {
				*v = binary.LittleEndian.Uint64(field)
				field = field[8:]
			}
		}
		next(&e.UncompressedSize)
		next(&e.CompressedSize)
		next(&e.HeaderOffset)
	}
}

// Local is what an entry's local file header says.
type Local struct {
	Name       []byte
	DataOffset int64
	Method     uint16
	Flags      uint16
}

// ReadLocal reads the local file header of e into l (reusing l.Name).
func (d *Dir) ReadLocal(e *Entry, l *Local) error {
	off := int64(e.HeaderOffset)
	var hdr [30]byte
	if e.HeaderOffset > uint64(d.size) || off > d.size-30 {
		return fmt.Errorf("%w: local header offset %d is outside the file", ErrFormat, e.HeaderOffset)
	}
	if _, err := d.r.ReadAt(hdr[:], off); err != nil {
		return fmt.Errorf("read local header: %w", err)
	}
	if binary.LittleEndian.Uint32(hdr[:]) != 0x04034b50 {
		return fmt.Errorf("%w: no local file header at offset %d", ErrFormat, off)
	}
	l.Flags = binary.LittleEndian.Uint16(hdr[6:])
	l.Method = binary.LittleEndian.Uint16(hdr[8:])
	n := int(binary.LittleEndian.Uint16(hdr[26:]))
	x := int(binary.LittleEndian.Uint16(hdr[28:]))
	if cap(l.Name) < n {
		l.Name = make([]byte, n, max(n, 256))
	}
	l.Name = l.Name[:n]
	if _, err := d.r.ReadAt(l.Name, off+30); err != nil {
		return fmt.Errorf("read local header name: %w", err)
	}
	l.DataOffset = off + 30 + int64(n) + int64(x)
	if l.DataOffset > d.size {
		return fmt.Errorf("%w: local header at %d runs past the end of the file", ErrFormat, off)
	}
	return nil
}

// Stored returns, for an entry stored without compression whose sizes
// agree, a function giving its content as a section of the archive once the
// data offset is known (from ReadLocal); nil otherwise. The section is not
// checked against the CRC-32: read the entry through OpenEntry for that.
func (d *Dir) Stored(e *Entry) func(dataOffset int64) *io.SectionReader {
	if e.Method != Store || e.CompressedSize != e.UncompressedSize || e.Encrypted() || e.UncompressedSize > uint64(d.size) {
		return nil
	}
	return func(off int64) *io.SectionReader {
		n := int64(e.UncompressedSize)
		if off > d.size-n {
			n = max(d.size-off, 0)
		}
		return io.NewSectionReader(d.r, off, n)
	}
}

// ErrChecksum is returned by a reader from OpenEntry when the content's
// CRC-32 differs from the directory's.
var ErrChecksum = errors.New("zip: checksum error")

// ErrSize is returned when the content's length differs from the declared
// uncompressed size.
var ErrSize = errors.New("zip: size differs from the declared size")

// OpenEntry returns a reader of e's content whose data starts at
// dataOffset (from ReadLocal). The reader reports ErrChecksum or ErrSize at
// the end when the content does not match the directory; reading stops at
// the declared uncompressed size.
func (d *Dir) OpenEntry(e *Entry, dataOffset int64) (io.ReadCloser, error) {
	if e.CompressedSize > uint64(d.size) || dataOffset > d.size-int64(e.CompressedSize) {
		return nil, fmt.Errorf("%w: entry data (%d bytes at %d) runs past the end of the file", ErrFormat, e.CompressedSize, dataOffset)
	}
	raw := io.NewSectionReader(d.r, dataOffset, int64(e.CompressedSize))
	var rc io.ReadCloser
	switch e.Method {
	case Store:
		rc = io.NopCloser(raw)
	case Deflate:
		rc = flate.NewReader(raw)
	default:
		return nil, fmt.Errorf("zip: unsupported compression method %d", e.Method)
	}
	return &checked{rc: rc, want: e.CRC32, size: e.UncompressedSize, h: crc32.NewIEEE()}, nil
}

type checked struct {
	rc   io.ReadCloser
	h    hash.Hash32
	want uint32
	size uint64
	n    uint64
	err  error
}

func (c *checked) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := c.rc.Read(p)
	if c.n+uint64(n) > c.size {
		n = int(c.size - c.n) // content longer than declared: stop there
		c.err = ErrSize
	}
	c.h.Write(p[:n])
	c.n += uint64(n)
	if c.err != nil {
		return n, c.err
	}
	if err == io.EOF {
		switch {
		case c.n != c.size:
			c.err = ErrSize
		case c.h.Sum32() != c.want:
			c.err = ErrChecksum
		default:
			c.err = io.EOF
		}
		return n, c.err
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *checked) Close() error { return c.rc.Close() }

// reader reads a byte range sequentially through a buffer.
type reader struct {
	r        io.ReaderAt
	off, end int64
	buf      []byte
	pos      int
}

const readBuf = 256 << 10

func (b *reader) fill(need int) error {
	avail := len(b.buf) - b.pos
	if avail >= need {
		return nil
	}
	if size := max(readBuf, need); cap(b.buf) < size {
		nb := make([]byte, avail, size)
		copy(nb, b.buf[b.pos:])
		b.buf = nb
	} else {
		copy(b.buf[:avail], b.buf[b.pos:])
		b.buf = b.buf[:avail]
	}
	b.pos = 0
	want := min(int64(cap(b.buf)-avail), b.end-b.off)
	if want <= 0 {
		return io.ErrUnexpectedEOF
	}
	n, err := b.r.ReadAt(b.buf[avail:avail+int(want)], b.off)
	b.off += int64(n)
	b.buf = b.buf[:avail+n]
	if len(b.buf) < need {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

func (b *reader) full(p []byte) error {
	if err := b.fill(len(p)); err != nil {
		return err
	}
	copy(p, b.buf[b.pos:])
	b.pos += len(p)
	return nil
}

func (b *reader) slice(n int) ([]byte, error) {
	if err := b.fill(n); err != nil {
		return nil, err
	}
	s := b.buf[b.pos : b.pos+n]
	b.pos += n
	return s, nil
}

func (b *reader) skip(n int) error {
	_, err := b.slice(n)
	return err
}
