package report

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"

	"github.com/mlgate/mlgate/finding"
)

// referenceJSON is what encoding/json writes for the report; WriteJSON must
// produce the same bytes.
func referenceJSON(t testing.TB, r *Report) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jsonDoc(r)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func checkSameJSON(t testing.TB, r *Report) {
	t.Helper()
	var got bytes.Buffer
	if err := WriteJSON(&got, r); err != nil {
		t.Fatal(err)
	}
	want := referenceJSON(t, r)
	if !bytes.Equal(got.Bytes(), want) {
		g, w := got.Bytes(), want
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		lo := max(0, i-80)
		t.Fatalf("WriteJSON differs from encoding/json at byte %d:\n got: %q\nwant: %q", i, g[lo:min(len(g), i+80)], w[lo:min(len(w), i+80)])
	}
}

var awkward = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf8 \xc3", "\xe2\x80", "'single'",
}

func randomString(rng *rand.Rand) string {
	if rng.Intn(3) == 0 {
		return awkward[rng.Intn(len(awkward))]
	}
	b := make([]byte, rng.Intn(40))
	for i := range b {
		b[i] = byte(rng.Intn(256))
	}
	return string(b)
}

func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	checkSameJSON(t, &Report{})
	checkSameJSON(t, &Report{Tool: Tool{Name: "mlgate", Version: "v1"}, Inputs: []Input{}})
	for n := 0; n < 300; n++ {
		r := &Report{Tool: Tool{Name: randomString(rng), Version: randomString(rng)}, Suppressed: rng.Intn(5), Baselined: rng.Intn(5) - 1}
		for range rng.Intn(4) {
			in := Input{Path: randomString(rng), Format: randomString(rng), Status: randomString(rng)}
			if rng.Intn(2) == 0 {
				in.Error = randomString(rng)
			}
			switch rng.Intn(5) {
			case 0:
				in.Details = map[string]any{"pickles": []any{map[string]any{"name": randomString(rng), "globals": []string{randomString(rng)}}}, "n": 3}
			case 1:
				in.Details = []string{}
			case 2:
				var p *Tool
				in.Details = p
			case 3:
				in.Details = map[string]int{}
			}
			r.Inputs = append(r.Inputs, in)
		}
		for range rng.Intn(6) {
			f := finding.Finding{
				RuleID: randomString(rng), Severity: finding.Severity(rng.Intn(5)), Title: randomString(rng), Message: randomString(rng),
				Location: finding.Location{}, Fingerprint: randomString(rng),
			}
			if rng.Intn(2) == 0 {
				f.Location.File = randomString(rng)
			}
			if rng.Intn(2) == 0 {
				f.Location.Line = rng.Intn(1000)
			}
			if rng.Intn(2) == 0 {
				f.Location.Column = rng.Intn(100)
			}
			if rng.Intn(2) == 0 {
				f.Location.Logical = randomString(rng)
			}
			if rng.Intn(2) == 0 {
				f.Evidence = randomString(rng)
			}
			if rng.Intn(2) == 0 {
				f.Remediation = randomString(rng)
			}
			r.Findings = append(r.Findings, f)
		}
		checkSameJSON(t, r)
	}
}

func TestWriteJSONRejectsInvalidSeverity(t *testing.T) {
	var b bytes.Buffer
	err := WriteJSON(&b, &Report{Findings: []finding.Finding{{RuleID: "x", Severity: 9}}})
	if err == nil {
		t.Fatal("an invalid severity was written")
	}
	if b.Len() != 0 {
		t.Fatalf("partial output written before the error: %q", b.String())
	}
}

func FuzzWriteJSON(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s, 1, 2)
	}
	f.Fuzz(func(t *testing.T, a, b string, line, col int) {
		r := &Report{
			Tool:   Tool{Name: a, Version: b},
			Inputs: []Input{{Path: a, Format: b, Status: "error", Error: a + b}},
			Findings: []finding.Finding{{RuleID: a, Severity: finding.High, Title: b, Message: a,
				Location: finding.Location{File: b, Line: line, Column: col, Logical: a}, Evidence: b, Fingerprint: a}},
		}
		checkSameJSON(t, r)
	})
}

func BenchmarkWriteJSON(b *testing.B) {
	r := &Report{Tool: Tool{Name: "mlgate", Version: "v0"}}
	for i := range 10000 {
		r.Findings = append(r.Findings, finding.Finding{RuleID: "pipeline/gha/unpinned-action", Severity: finding.Medium,
			Title: "Third-party action not pinned to a commit SHA", Message: "Step uses actions/setup-python@v5 <tag>, which the owner can move.",
			Location: finding.Location{File: ".github/workflows/ci.yml", Line: i, Column: 9, Logical: "job build step 3"},
			Evidence: "actions/setup-python@v5", Remediation: "Pin the action to a full commit SHA & keep the tag in a comment.",
			Fingerprint: "0123456789abcdef0123456789abcdef"})
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if err := WriteJSON(&bytes.Buffer{}, r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			referenceJSON(b, r)
		}
	})
}
