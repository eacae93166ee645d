package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidate feeds arbitrary bytes to Validate twice: as a whole file,
// and as a header behind a correct length field (so that mutations explore
// the JSON rather than break the length). Nothing may panic; problems are
// bounded and well-formed; and a file is valid exactly when an independent
// checker built on encoding/json and math/big says so.
func FuzzValidate(f *testing.F) {
	for _, c := range cases() {
		// Large seeds (the problem-cap case) make the fuzzer spend its
		// minimisation time on their mutants.
		if len(c.file) <= 2048 {
			f.Add(c.file)
		}
	}
	f.Add([]byte(`{"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"__metadata__":{"a":"b"}}`))
	f.Add([]byte(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"\u0061":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkInput(t, b)
		checkInput(t, raw(uint64(len(b)), b))
	})
}

func checkInput(t *testing.T, b []byte) {
	info, probs := Validate(bytes.NewReader(b), int64(len(b)))
	if info == nil {
		t.Fatal("nil Info")
	}
	if probs != nil && len(probs) == 0 {
		t.Fatal("empty, non-nil problem list")
	}
	if len(probs) > MaxProblems {
		t.Fatalf("%d problems", len(probs))
	}
	for i, p := range probs {
		if p.Msg == "" || len(p.Msg) > 512 || strings.HasSuffix(p.Msg, ".") || strings.ContainsAny(p.Msg, "\n\r") || !utf8.ValidString(p.Msg) {
			t.Fatalf("bad message %q", p.Msg)
		}
		if p.Offset < 0 || p.Offset > int64(len(b)) {
			t.Fatalf("offset %d outside a %d-byte file: %s", p.Offset, len(b), p.Msg)
		}
		if i > 0 && p.Offset < probs[i-1].Offset {
			t.Fatalf("unsorted: %q", probs)
		}
	}
	if len(info.Metadata) > MaxMetadataKeys || info.Tensors < 0 || info.HeaderLen < 0 || info.DataBytes < 0 {
		t.Fatalf("bad info %+v", info)
	}
	if info.HeaderLen != 0 && info.HeaderLen+info.DataBytes+8 != int64(len(b)) {
		t.Fatalf("HeaderLen %d + DataBytes %d + 8 != %d", info.HeaderLen, info.DataBytes, len(b))
	}
	ok, skip, why := oracle(b)
	if skip {
		return
	}
	if ok != (probs == nil) {
		t.Fatalf("oracle says valid=%v (%s); Validate says %q", ok, why, probs)
	}
	if ok && info.Tensors+len(info.Metadata) > 0 && info.HeaderLen == 0 {
		t.Fatalf("valid file with no HeaderLen: %+v", info)
	}
}

// oracle is an independent checker of the same rules: encoding/json for
// syntax and values, json.Decoder tokens for duplicates and depth, and
// math/big for numbers. skip is set where encoding/json hides the input
// (escaped surrogates, which it silently replaces).
func oracle(b []byte) (ok, skip bool, why string) {
	if len(b) < 8 {
		return false, false, "short"
	}
	hl := binary.LittleEndian.Uint64(b)
	if hl == 0 || hl > MaxHeader || hl > uint64(len(b)-8) {
		return false, false, "length"
	}
	h := b[8 : 8+hl]
	if bytes.Contains(bytes.ToLower(h), []byte(`\ud`)) {
		return false, true, ""
	}
	obj := bytes.TrimRight(h, " ")
	if h[0] != '{' || !utf8.Valid(h) || !json.Valid(obj) || obj[len(obj)-1] != '}' {
		return false, false, "syntax"
	}
	if why := dupsOrDeep(obj); why != "" {
		return false, false, why
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(obj, &top); err != nil {
		return false, false, err.Error()
	}
	type rng struct{ b, e int64 }
	var rs []rng
	for name, raw := range top {
		if name == "__metadata__" {
			var m map[string]json.RawMessage
			if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
				return false, false, "metadata"
			}
			for _, v := range m {
				if v[0] != '"' {
					return false, false, "metadata value"
				}
			}
			continue
		}
		var e map[string]json.RawMessage
		if name == "" || raw[0] != '{' || json.Unmarshal(raw, &e) != nil || len(e) != 3 {
			return false, false, "entry"
		}
		var dt string
		if json.Unmarshal(e["dtype"], &dt) != nil || e["dtype"][0] != '"' {
			return false, false, "dtype"
		}
		shape, ok1 := numbers(e["shape"])
		offs, ok2 := numbers(e["data_offsets"])
		if !ok1 || !ok2 {
			return false, false, "shape or data_offsets"
		}
		bits := int64(0)
		for _, d := range dtypes {
			if d.name == dt {
				bits = d.bits
			}
		}
		if bits == 0 || len(shape) > MaxRank || len(offs) != 2 {
			return false, false, "dtype, rank or offsets"
		}
		count := big.NewInt(1)
		maxInt := big.NewInt(math.MaxInt64)
		for _, s := range shape {
			d, ok := oracleInt(s)
			if !ok {
				return false, false, "shape element"
			}
			count.Mul(count, big.NewInt(d))
			if count.Cmp(maxInt) > 0 {
				return false, false, "count overflow"
			}
		}
		begin, ok1 := oracleInt(offs[0])
		end, ok2 := oracleInt(offs[1])
		if !ok1 || !ok2 || begin > end {
			return false, false, "offsets"
		}
		size := new(big.Int).Mul(count, big.NewInt(bits))
		if bits%8 == 0 {
			size.Div(size, big.NewInt(8))
		} else if size.Cmp(maxInt) > 0 || size.Bit(0)|size.Bit(1)|size.Bit(2) != 0 {
			return false, false, "bits"
		} else {
			size.Div(size, big.NewInt(8))
		}
		if size.Cmp(maxInt) > 0 || size.Int64() != end-begin {
			return false, false, "size"
		}
		rs = append(rs, rng{begin, end})
	}
	slices.SortFunc(rs, func(a, b rng) int {
		if a.b != b.b {
			return int(min(max(a.b-b.b, -1), 1))
		}
		return int(min(max(a.e-b.e, -1), 1))
	})
	var at int64
	for _, r := range rs {
		if r.b != at {
			return false, false, "layout"
		}
		at = r.e
	}
	if at != int64(len(b))-8-int64(hl) {
		return false, false, "data size"
	}
	return true, false, ""
}

// numbers decodes an array of JSON numbers (json.Number alone would also
// take numeric strings).
func numbers(raw json.RawMessage) ([]json.Number, bool) {
	var elems []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		return nil, false
	}
	var ns []json.Number
	for _, e := range elems {
		if e[0] != '-' && (e[0] < '0' || e[0] > '9') {
			return nil, false
		}
		ns = append(ns, json.Number(e))
	}
	return ns, true
}

// oracleInt is the exact value of a JSON number if it is a non-negative
// integer that fits int64 and has no minus sign.
func oracleInt(n json.Number) (int64, bool) {
	s := string(n)
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	mant, exp := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp = s[:i], s[i+1:]
	}
	if !strings.ContainsAny(mant, "123456789") {
		return 0, true
	}
	// big.Rat would expand 1e999999999 exactly. A non-zero significand of
	// fewer than len(s) digits cannot make such exponents an int64.
	if exp != "" {
		if e, err := strconv.Atoi(exp); err != nil || e > len(s)+30 || e < -(len(s)+30) {
			return 0, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// dupsOrDeep walks obj's tokens and names the first duplicate key or
// excessive nesting, or returns "".
func dupsOrDeep(obj []byte) string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	type frame struct {
		keys  map[string]bool
		isObj bool
		key   bool // next string token is a key
	}
	var st []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return "token: " + err.Error()
		}
		var top *frame
		if len(st) > 0 {
			top = st[len(st)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			st = st[:len(st)-1]
			if len(st) > 0 && st[len(st)-1].isObj {
				st[len(st)-1].key = true
			}
			continue
		}
		if top != nil && top.isObj && top.key {
			k := tok.(string)
			if top.keys[k] {
				return "duplicate " + k
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			st = append(st, &frame{keys: map[string]bool{}, isObj: true, key: true})
		case json.Delim('['):
			st = append(st, &frame{})
		default:
			if top != nil && top.isObj {
				top.key = true
			}
		}
		if len(st) > MaxDepth {
			return "deep"
		}
	}
}
