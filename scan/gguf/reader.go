package gguf

import "io"

// bufSize is the largest read the reader makes.
const bufSize = 64 << 10

// reader is a forward cursor over an io.ReaderAt with a read-ahead window.
// The window never extends past minEnd, a lower bound on where the
// metadata ends that the parser raises as it learns the structure (each
// remaining pair needs at least 12 bytes, an array of n strings at least
// 8n, ...). In a well-formed file the reader therefore never touches the
// tensor data.
type reader struct {
	r      io.ReaderAt
	size   int64
	off    int64  // current position
	buf    []byte // bytes at bufOff
	bufOff int64
	minEnd int64 // the metadata extends at least this far
	err    error // first read error
}

// left is the number of bytes between the cursor and the end of the file.
func (d *reader) left() int64 { return d.size - d.off }

// promise records that the structure being parsed extends to at least end.
func (d *reader) promise(end int64) {
	if end > d.minEnd {
		d.minEnd = end
	}
}

// next returns the next n bytes (0 <= n <= bufSize) and advances past them.
// The slice is valid until the next call. It returns nil if fewer than n
// bytes are left or a read fails (then err is set).
func (d *reader) next(n int) []byte {
	if n < 0 || n > bufSize || int64(n) > d.left() || d.err != nil {
		return nil
	}
	if d.off >= d.bufOff && d.off+int64(n) <= d.bufOff+int64(len(d.buf)) {
		s := int(d.off - d.bufOff)
		d.off += int64(n)
		return d.buf[s : s+n]
	}
	want := int64(n)
	if ahead := min(d.minEnd-d.off, bufSize, d.left()); ahead > want {
		want = ahead
	}
	if int64(cap(d.buf)) < want {
		d.buf = make([]byte, max(want, min(2*int64(cap(d.buf)), bufSize)))
	}
	d.buf = d.buf[:want]
	m, err := d.r.ReadAt(d.buf, d.off)
	if int64(m) < want {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
		d.buf = d.buf[:0]
		return nil
	}
	d.bufOff = d.off
	d.off += int64(n)
	return d.buf[:n]
}

// skip advances over n bytes without reading them. It fails if fewer than
// n bytes are left.
func (d *reader) skip(n int64) bool {
	if n < 0 || n > d.left() {
		return false
	}
	d.off += n
	return true
}
