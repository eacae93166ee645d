package scan

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlgate/mlgate/scan/pickle/pickletest"
)

// BenchmarkScanTorchZip scans a generated torch.save-style checkpoint with
// 100,000 small tensors (data.pkl about 12 MB). Compare with picklescan on
// the same file with bench/scan.sh.
func BenchmarkScanTorchZip(b *testing.B) {
	p := filepath.Join(b.TempDir(), "many.pt")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := pickletest.WriteTorchZip(w, 100_000, 4); err != nil {
		b.Fatal(err)
	}
	w.Flush()
	f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := File(p, Options{})
		if err != nil || len(a.Findings) != 0 {
			b.Fatalf("%v %v", err, a.Findings)
		}
	}
}
