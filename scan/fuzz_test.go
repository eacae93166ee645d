package scan

import (
	"bytes"
	"testing"

	"github.com/mlgate/mlgate/scan/pickle/pickletest"
	"github.com/ulikunitz/xz"
)

// FuzzDispatch feeds arbitrary bytes to format detection and the container
// layer (zip and PyTorch zip, legacy PyTorch, .npy, gzip/bzip2/xz/zstd,
// nested archives). Nothing may panic or hang, and every finding must be
// complete.
func FuzzDispatch(f *testing.F) {
	f.Add(pickletest.TorchDataPkl(3, 2))
	f.Add(legacyTorchFileSeed())
	f.Add(npyFile("|O", evilPickle()))
	f.Add(npyFile("<f4", make([]byte, 16)))
	var zb bytes.Buffer
	pickletest.WriteTorchZip(&zb, 2, 2)
	f.Add(zb.Bytes())
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add(xzOf(f, evilPickle(), xz.WriterConfig{CheckSum: xz.CRC32, DictCap: 1 << 16, BlockSize: 16}))
	f.Add(xzBuildSized(0, true, evilPickle(), []byte("tail")))
	f.Add(xzBuild(1, plainPickle(), nil))
	f.Add(zstdOf(f, evilPickle()))
	f.Add(zstdFrame(12, plainPickle()))
	f.Fuzz(func(t *testing.T, b []byte) {
		a := &Artifact{Path: "fuzz.pt"}
		s := &scanner{opts: Options{MaxDecompressed: 1 << 20, MaxDepth: 3}, art: a}
		s.dispatch(bytes.NewReader(b), int64(len(b)), "", 0)
		for _, f := range a.Findings {
			if f.RuleID == "" || f.Message == "" || f.Fingerprint == "" {
				t.Fatalf("incomplete finding %+v", f)
			}
			if len(f.Message) > 8192 {
				t.Fatalf("unbounded message (%d bytes)", len(f.Message))
			}
		}
	})
}

func legacyTorchFileSeed() []byte { return legacyTorchFile(pickletest.TorchStateDict(1)) }
