package sign

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// BenchmarkReadSize hashes one 64 MiB file (page cache) with different
// read sizes; it is how ReadSize was chosen:
//
//	go test -run XXX -bench ReadSize ./sign/
func BenchmarkReadSize(b *testing.B) {
	p := filepath.Join(b.TempDir(), "f")
	data := make([]byte, 64<<20)
	rand.Read(data)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	f := &File{Name: "f", Path: p, Size: int64(len(data))}
	for _, size := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			buf := make([]byte, size)
			var done atomic.Int64
			b.SetBytes(f.Size)
			for b.Loop() {
				if _, err := hashRange(f, 0, f.Size, true, buf, &done); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
