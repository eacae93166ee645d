package sign

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChecksumLineRoundTrip(t *testing.T) {
	d := sha256.Sum256([]byte("x"))
	for _, p := range []string{"a/b.bin", "with space", "back\\slash", "new\nline", "cr\rx", "ü✓"} {
		line := ChecksumLine(d[:], p)
		es, bad, err := ParseChecksums(strings.NewReader(line + "\n"))
		if err != nil || bad != 0 || len(es) != 1 || es[0].Path != p || !bytes.Equal(es[0].Digest, d[:]) {
			t.Errorf("%q: %q -> %+v bad=%d err=%v", p, line, es, bad, err)
		}
	}
	// GNU escaping matches coreutils: "\" prefix, "\\" and "\n".
	if got := ChecksumLine(d[:], "a\\b\nc"); !strings.HasPrefix(got, "\\") || !strings.HasSuffix(got, `  a\\b\nc`) {
		t.Errorf("escape: %q", got)
	}
}

func TestParseChecksumsForms(t *testing.T) {
	h := strings.Repeat("ab", 32)
	in := h + "  text.txt\n" + h + " *bin.bin\nSHA256 (bsd (x).bin) = " + h + "\n# comment\n\nnot a line\n" + h[:63] + "  short\n" + h + "\tx\n"
	es, bad, err := ParseChecksums(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Path)
	}
	if strings.Join(names, "|") != "text.txt|bin.bin|bsd (x).bin" || bad != 3 {
		t.Fatalf("got %q bad=%d", names, bad)
	}
}

func TestCheckChecksums(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	os.WriteFile(a, []byte("hello"), 0o644)
	sum := sha256.Sum256([]byte("hello"))
	wrong := sha256.Sum256([]byte("other"))
	st, err := CheckChecksums([]ChecksumEntry{{Path: a, Digest: sum[:]}, {Path: a, Digest: wrong[:]}, {Path: filepath.Join(dir, "nope"), Digest: sum[:]}, {Path: dir, Digest: sum[:]}}, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st[0] != CheckOK || st[1] != CheckMismatch || st[2] != CheckUnreadable || st[3] != CheckUnreadable {
		t.Fatalf("statuses %v", st)
	}
}

// FuzzParseChecksums: no panic, and every accepted entry formats back to
// a line that parses to the same entry.
func FuzzParseChecksums(f *testing.F) {
	h := strings.Repeat("0f", 32)
	f.Add([]byte(h + "  a\n" + "\\" + h + "  b\\\\c\\n\n" + "SHA256 (x) = " + h + "\n"))
	f.Add([]byte(h + " *bin\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, _, err := ParseChecksums(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, e := range es {
			line := ChecksumLine(e.Digest, e.Path)
			es2, bad, err := ParseChecksums(strings.NewReader(line + "\n"))
			if err != nil || bad != 0 || len(es2) != 1 || es2[0].Path != e.Path || !bytes.Equal(es2[0].Digest, e.Digest) {
				// Names the line format cannot carry are skipped.
				if strings.HasPrefix(e.Path, "#") || strings.ContainsAny(e.Path, "\x00") {
					continue
				}
				t.Fatalf("%q -> %q -> %+v bad=%d err=%v", e.Path, line, es2, bad, err)
			}
		}
	})
}
