package pickle

import (
	"bytes"
	"github.com/mlgate/mlgate/scan/pickle/pickletest"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// FuzzAnalyze feeds arbitrary bytes to the VM and the policy under both
// kinds. Nothing may panic or hang; every stream ends with stats.
func FuzzAnalyze(f *testing.F) {
	files, _ := filepath.Glob("testdata/cpython/*.pkl")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(pickletest.TorchStateDict(3))
	var a pickletest.Asm
	f.Add(a.Proto(4).Frame(3).Call("os", "system", "id").Stop().Bytes())
	a.Reset()
	f.Add(a.Proto(2).Op(opEXT2, 1, 0).Mark().Op(opLONG1, 2, 1, 0x80).Op(opLONG4, 1, 0, 0, 0, 7).Op(opBINBYTES8, 1, 0, 0, 0, 0, 0, 0, 0, 'x').Tuple().Reduce().Stop().Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range []Kind{KindPlain, KindTorch} {
			res := Analyze(bytes.NewReader(b), &Policy{Kind: k}, DefaultLimits)
			if res == nil {
				t.Fatal("nil result")
			}
			for _, is := range res.Issues {
				if is.Message == "" || is.Kind == "" {
					t.Fatalf("empty issue %+v", is)
				}
				if len(is.Message) > 4096 {
					t.Fatalf("unbounded message (%d bytes)", len(is.Message))
				}
			}
		}
	})
}

// FuzzMemoGets checks that the memo pre-pass finds the same indices
// whether opcodes arrive whole in the reader's buffer (fast path) or one
// byte at a time (slow path).
func FuzzMemoGets(f *testing.F) {
	f.Add(pickletest.TorchDataPkl(30, 4))
	f.Add(pickletest.TorchStateDict(3))
	var a pickletest.Asm
	f.Add(a.Proto(2).Op(opBINGET, 3).Op(opLONG_BINGET, 1, 2, 0, 0).Op(opSHORT_BINUNI, 2, 'h', 'i').Stop().Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		lim := DefaultLimits
		fast, okFast := memoGets(bytes.NewReader(b), lim)
		slow, okSlow := memoGets(iotest.OneByteReader(bytes.NewReader(b)), lim)
		if okFast != okSlow || (fast == nil) != (slow == nil) {
			t.Fatalf("ok %v/%v", okFast, okSlow)
		}
		if fast == nil {
			return
		}
		for i := int64(0); i < 1<<12; i++ {
			if fast.has(i) != slow.has(i) {
				t.Fatalf("index %d: fast %v slow %v", i, fast.has(i), slow.has(i))
			}
		}
		if len(fast.big) != len(slow.big) {
			t.Fatalf("large indices: %d vs %d", len(fast.big), len(slow.big))
		}
	})
}
