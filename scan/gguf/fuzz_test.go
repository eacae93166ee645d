package gguf

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds are the test files: the full valid file, every malformed case
// and its look-alike, and files with malicious and benign templates.
func fuzzSeeds() [][]byte {
	b, _ := fullSpec().build()
	seeds := [][]byte{b}
	for _, c := range malformedCases {
		for _, f := range []func(*spec){c.bad, c.good} {
			s := smallSpec()
			f(&s)
			b, _ := s.build()
			seeds = append(seeds, b)
		}
	}
	for _, t := range []string{
		chatML, llama3Strict, llama3Trim, toolUse,
		`{{ ''.__class__.__mro__[1].__subclasses__() }}`,
		`{{ self.__init__.__globals__.__builtins__ }}`,
		`{{ cycler.__init__.__globals__.os.popen('id').read() }}`,
		"{{ x |\n attr ('\\x5f') }} request.x config.",
	} {
		seeds = append(seeds, withTemplates(tmplKV("tokenizer.chat_template", t)))
	}
	return seeds
}

// FuzzParse feeds arbitrary bytes to Parse. It must not panic, must read
// only inside the file, and its problems must be well-formed and capped.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		size := int64(len(b))
		tr := &boundsChecker{t: t, r: bytes.NewReader(b), size: size}
		info, probs := Parse(tr, size)
		if info == nil {
			t.Fatal("nil Info")
		}
		if probs != nil && len(probs) == 0 {
			t.Fatal("empty non-nil problems")
		}
		if len(probs) > MaxProblems {
			t.Fatalf("%d problems", len(probs))
		}
		for _, p := range probs {
			if p.Msg == "" || len(p.Msg) > 2048 || !utf8.ValidString(p.Msg) {
				t.Fatalf("bad message %q", p.Msg)
			}
			if p.Offset < 0 || p.Offset > size {
				t.Fatalf("offset %d outside file of %d: %v", p.Offset, size, p)
			}
			switch {
			case p.Kind == KindMalformed && p.Severity == High:
			case p.Kind == KindTemplate && p.Severity == Critical:
				if !strings.Contains(p.Msg, "chat template") {
					t.Fatalf("template problem %v", p)
				}
			default:
				t.Fatalf("kind/severity %v", p)
			}
		}
		if len(info.ChatTemplates) > MaxTemplates {
			t.Fatalf("%d templates kept", len(info.ChatTemplates))
		}
		for k, v := range info.ChatTemplates {
			if len(v) > MaxTemplateKeep {
				t.Fatalf("template %q kept %d bytes", k, len(v))
			}
		}
		if info.Alignment == 0 || info.Alignment&(info.Alignment-1) != 0 {
			t.Fatalf("alignment %d", info.Alignment)
		}
		if probs == nil && info.TensorCount > 0 && info.DataOffset == 0 {
			t.Fatalf("valid file with tensors but no data offset")
		}
		// The same bytes behind a larger stated size: reads fail, and
		// must be reported, not panic.
		Parse(bytes.NewReader(b), size+9)
	})
}

// boundsChecker fails the test on reads outside [0, size).
type boundsChecker struct {
	t    *testing.T
	r    *bytes.Reader
	size int64
}

func (c *boundsChecker) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > c.size || len(p) > bufSize {
		c.t.Fatalf("read of %d bytes at %d in a file of %d", len(p), off, c.size)
	}
	return c.r.ReadAt(p, off)
}
