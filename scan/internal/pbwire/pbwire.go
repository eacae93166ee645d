// Package pbwire reads protobuf wire-format primitives from an io.ReaderAt
// at given offsets, for the checkers that walk protobuf-encoded models
// (ONNX, SavedModel) without decoding whole messages.
package pbwire

import "io"

// Reader reads varints and short strings at offsets of R.
type Reader struct {
	R   io.ReaderAt
	buf []byte
}

// Varint reads a base-128 varint at off, not reading past end; n is its
// encoded length. ok is false for a truncated or over-long varint.
func (r *Reader) Varint(off, end int64) (v uint64, n int64, ok bool) {
	var b [10]byte
	m := min(int64(len(b)), end-off)
	if m <= 0 {
		return 0, 0, false
	}
	k, _ := r.R.ReadAt(b[:m], off)
	for i := 0; i < k; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			if i == 9 && b[i] > 1 {
				return 0, 0, false // more than 64 bits
			}
			return v, int64(i + 1), true
		}
	}
	return 0, 0, false
}

// String reads n bytes at off (fewer if the input ends first).
func (r *Reader) String(off int64, n int) string {
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	k, _ := r.R.ReadAt(r.buf[:n], off)
	return string(r.buf[:k])
}
