package zipdir

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

type file struct {
	name   string
	body   []byte
	method uint16
}

func build(t testing.TB, files []file) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f.name, Method: f.method})
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type got struct {
	name string
	body []byte
	err  error
}

func readAll(data []byte) ([]got, error) {
	r := bytes.NewReader(data)
	d, err := Open(r, int64(len(data)))
	if err != nil {
		return nil, err
	}
	var out []got
	var entries []Entry
	err = d.Walk(func(e *Entry) error {
		c := *e
		c.Name = append([]byte(nil), e.Name...)
		entries = append(entries, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range entries {
		e := &entries[i]
		var l Local
		g := got{name: string(e.Name)}
		if g.err = d.ReadLocal(e, &l); g.err == nil {
			var rc io.ReadCloser
			if rc, g.err = d.OpenEntry(e, l.DataOffset); g.err == nil {
				g.body, g.err = io.ReadAll(io.LimitReader(rc, 1<<20))
				rc.Close()
			}
		}
		out = append(out, g)
	}
	return out, nil
}

func TestMatchesArchiveZip(t *testing.T) {
	files := []file{
		{"a.txt", []byte("hello"), zip.Store},
		{"dir/", nil, zip.Store},
		{"dir/b.bin", bytes.Repeat([]byte("xyz"), 10000), zip.Deflate},
		{"empty", nil, zip.Deflate},
		{"a.txt", []byte("second"), zip.Store},
	}
	data := build(t, files)
	out, err := readAll(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(files) {
		t.Fatalf("%d entries, want %d", len(out), len(files))
	}
	for i, f := range files {
		if out[i].name != f.name || !bytes.Equal(out[i].body, f.body) || out[i].err != nil {
			t.Errorf("entry %d: %q %d bytes err=%v; want %q %d bytes", i, out[i].name, len(out[i].body), out[i].err, f.name, len(f.body))
		}
	}
}

func TestZip64ManyEntries(t *testing.T) {
	var files []file
	for i := 0; i < 70000; i++ { // more than 65,535: zip64 end records
		files = append(files, file{name: fmt.Sprintf("f%d", i), body: []byte{byte(i)}, method: zip.Store})
	}
	data := build(t, files)
	d, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Count() != 70000 {
		t.Fatalf("count %d", d.Count())
	}
	n := 0
	if err := d.Walk(func(e *Entry) error {
		if string(e.Name) != fmt.Sprintf("f%d", n) {
			return fmt.Errorf("entry %d named %q", n, e.Name)
		}
		n++
		return nil
	}); err != nil || n != 70000 {
		t.Fatalf("walked %d: %v", n, err)
	}
}

func TestChecksumAndSizeErrors(t *testing.T) {
	data := build(t, []file{{"p.pkl", []byte("payload-bytes"), zip.Store}})
	// Flip a content byte: the CRC no longer matches.
	bad := bytes.Clone(data)
	i := bytes.Index(bad, []byte("payload"))
	bad[i] ^= 1
	out, err := readAll(bad)
	if err != nil || !errors.Is(out[0].err, ErrChecksum) {
		t.Fatalf("flipped byte: %v / %v", err, out)
	}
	// Declare a shorter uncompressed size in the central directory.
	short := bytes.Clone(data)
	cd := bytes.LastIndex(short, []byte("PK\x01\x02"))
	short[cd+24]--
	out, err = readAll(short)
	if err != nil || !errors.Is(out[0].err, ErrSize) {
		t.Fatalf("short size: %v / %+v", err, out)
	}
}

func TestRejectsGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("PK\x05\x06"), bytes.Repeat([]byte{0}, 100)} {
		if _, err := Open(bytes.NewReader(in), int64(len(in))); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
	// A directory that claims more records than it holds.
	data := build(t, []file{{"a", []byte("x"), zip.Store}})
	eocd := bytes.LastIndex(data, []byte("PK\x05\x06"))
	data[eocd+10] = 5
	data[eocd+8] = 5
	if _, err := readAll(data); err == nil {
		t.Fatal("short directory accepted")
	}
}

// FuzzWalk checks that no input makes the reader panic or loop, and that
// wherever archive/zip reads an archive, this package lists the same names
// and the same content.
func FuzzWalk(f *testing.F) {
	f.Add(build(f, []file{{"a", []byte("hello"), zip.Store}, {"b/c", bytes.Repeat([]byte("q"), 300), zip.Deflate}}))
	f.Add(build(f, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := readAll(data)
		zr, zerr := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if zerr != nil || err != nil {
			return
		}
		if len(zr.File) != len(out) {
			t.Fatalf("archive/zip lists %d entries, zipdir %d", len(zr.File), len(out))
		}
		for i, zf := range zr.File {
			if zf.Name != out[i].name {
				t.Fatalf("entry %d: %q vs %q", i, zf.Name, out[i].name)
			}
			rc, err := zf.Open()
			if err != nil {
				continue
			}
			body, rerr := io.ReadAll(io.LimitReader(rc, 1<<20))
			rc.Close()
			if rerr == nil && out[i].err == nil && !bytes.Equal(body, out[i].body) {
				t.Fatalf("entry %q: contents differ", zf.Name)
			}
		}
	})
}
