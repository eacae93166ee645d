package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mlgate/mlgate/internal/testutil"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// tensor describes one entry for build.
type tensor struct {
	name  string
	dtype string
	shape []int64
	bytes int64 // data size
}

// build writes a valid file: the tensors laid out in order, zero data,
// the header padded with spaces to a multiple of 8 like the reference
// writer.
func build(meta map[string]string, ts ...tensor) []byte {
	var h strings.Builder
	h.WriteString("{")
	if meta != nil {
		m, _ := json.Marshal(meta)
		fmt.Fprintf(&h, `"__metadata__":%s`, m)
	}
	var off int64
	for i, t := range ts {
		if i > 0 || meta != nil {
			h.WriteString(",")
		}
		name, _ := json.Marshal(t.name)
		shape, _ := json.Marshal(t.shape)
		if t.shape == nil {
			shape = []byte("[]")
		}
		fmt.Fprintf(&h, `%s:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, name, t.dtype, shape, off, off+t.bytes)
		off += t.bytes
	}
	h.WriteString("}")
	return file(h.String(), int(off))
}

// file pads hdr with spaces to a multiple of 8 and appends data zero bytes.
func file(hdr string, data int) []byte {
	h := []byte(hdr)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return raw(uint64(len(h)), append(h, make([]byte, data)...))
}

// raw writes the length field hl and rest verbatim.
func raw(hl uint64, rest []byte) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, hl), rest...)
}

// entry is one tensor entry's JSON; name and dtype go in verbatim.
func entry(name, dtype, shape string, begin, end int64) string {
	return fmt.Sprintf(`"%s":{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, name, dtype, shape, begin, end)
}

func obj(entries ...string) string { return "{" + strings.Join(entries, ",") + "}" }

type tcase struct {
	name string
	file []byte
	want []string // one substring per expected problem
}

func validSample() []byte {
	return build(map[string]string{"format": "pt", "note": "a \u00e9 \"q\""},
		tensor{"a.weight", "F32", []int64{2, 3}, 24},
		tensor{"b", "BF16", []int64{4}, 8},
		tensor{"scalar", "I64", []int64{}, 8},
		tensor{"mask", "BOOL", []int64{3}, 3},
		tensor{"empty", "U8", []int64{0, 5}, 0},
		tensor{"c", "C64", []int64{1}, 8},
		tensor{"f8", "F8_E4M3", []int64{2}, 2},
		tensor{"e8", "F8_E8M0", []int64{1}, 1},
		tensor{"f4", "F4", []int64{2, 3}, 3},
		tensor{"f6", "F6_E2M3", []int64{4}, 3},
		tensor{"u64", "U64", []int64{1, 1, 1}, 8},
	)
}

func cases() []tcase {
	big := make([]string, 150)
	for i := range big {
		big[i] = entry(fmt.Sprint("t", i), "F128", "[1]", int64(i), int64(i+1))
	}
	deep := strings.Repeat("[", 20) + strings.Repeat("]", 20)
	rank65 := "[" + strings.TrimSuffix(strings.Repeat("1,", 65), ",") + "]"
	u8 := func(name string, b, e int64) string { return entry(name, "U8", fmt.Sprintf("[%d]", e-b), b, e) }
	return []tcase{
		// Layout and padding.
		{"valid", validSample(), nil},
		{"empty header", file("{}", 0), nil},
		{"space padding", raw(8, []byte("{}      ")), nil},
		{"whitespace between tokens", file("{ \"w\" :\n{\t\"dtype\":\"U8\",\r\n\"shape\":[ 2 ],\"data_offsets\":[0, 2] } }", 2), nil},
		{"NUL after the object", raw(8, []byte("{}\x00     ")), []string{"byte 0x00 after the JSON object"}},
		{"newline after the object", raw(8, []byte("{}\n     ")), []string{"after the JSON object"}},
		{"second object", file("{}{}", 0), []string{"'{' after the JSON object"}},
		{"leading whitespace", file(" {}", 0), []string{"does not start with '{'"}},
		{"not an object", file("[]", 0), []string{"not a JSON object"}},
		{"only spaces", raw(8, []byte("        ")), []string{"not a JSON object (found end of header)"}},
		{"truncated JSON", file(`{"w":{"dtype":"U8"`, 0), []string{"invalid JSON"}},
		{"trailing comma", file(`{"w":1,}`, 0), []string{"entry must be an object", "invalid JSON: expected a string key"}},
		{"bad escape", file(`{"\x":1}`, 0), []string{"valid escape sequence"}},
		{"leading zero", file(obj(`"w":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}`), 1), []string{"invalid JSON: expected ',' or ']'"}},
		{"bad literal", file(`{"__metadata__":nul}`, 0), []string{"__metadata__ must be an object", "expected null"}},
		{"empty header with data", file("{}", 3), []string{"3 bytes of trailing data"}},

		// Header length field.
		{"empty file", nil, []string{"file is 0 bytes"}},
		{"short file", []byte{1, 0, 0, 0, 0}, []string{"shorter than the 8-byte"}},
		{"header length 0", raw(0, []byte("{}")), []string{"header length is 0"}},
		{"header length beyond file", raw(100, []byte("{}        ")), []string{"header length 100 exceeds the 10 bytes"}},
		{"header length beyond limit and file", raw(MaxHeader+1, []byte("{}")), []string{"exceeds the 100000000-byte limit", "exceeds the 2 bytes"}},
		{"header length huge", raw(1<<63+5, nil), []string{"-byte limit", "exceeds the 0 bytes"}},

		// Duplicates.
		{"duplicate tensor name", file(obj(u8("w", 0, 1), u8("w", 1, 2)), 2), []string{`duplicate tensor name "w"`}},
		{"duplicate tensor name via escape", file(obj(u8("w", 0, 1), `"\u0077":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}`), 2), []string{`duplicate tensor name "w"`}},
		{"duplicate tensor name, same range", file(obj(u8("w", 0, 1), u8("w", 0, 1)), 1), []string{`duplicate tensor name "w"`, "overlaps"}},
		{"distinct tensor names", file(obj(u8("w", 0, 1), u8("W", 1, 2)), 2), nil},
		{"duplicate key in tensor entry", file(obj(`"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}`), 1), []string{`tensor "w": duplicate key "dtype"`}},
		{"duplicate data_offsets", file(obj(`"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"data_offsets":[1,2]}`), 1), []string{`duplicate key "data_offsets"`}},
		{"duplicate __metadata__", file(`{"__metadata__":{},"__metadata__":{"a":"b"}}`, 0), []string{"duplicate __metadata__ entry"}},
		{"duplicate metadata key", file(`{"__metadata__":{"a":"1","b":"2","a":"3"}}`, 0), []string{`duplicate __metadata__ key "a"`}},
		{"duplicate key nested in unknown value", file(obj(`"w":{"dtype":"U8","shape":[],"data_offsets":[0,1],"x":{"k":1,"k":2}}`), 1), []string{`unknown key "x"`, `duplicate key "k"`}},
		{"triplicate", file(obj(u8("w", 0, 1), u8("w", 1, 2), u8("w", 2, 3)), 3), []string{`duplicate tensor name "w"`, `duplicate tensor name "w"`}},

		// __metadata__.
		{"metadata only", file(`{"__metadata__":{"format":"pt"}}`, 0), nil},
		{"metadata value not a string", file(`{"__metadata__":{"a":1,"b":"x","c":{"d":"e"}}}`, 0), []string{`key "a" must be a string, found a number`, `key "c" must be a string, found an object`}},
		{"metadata null", file(`{"__metadata__":null}`, 0), []string{"__metadata__ must be an object, found null"}},
		{"metadata array", file(`{"__metadata__":["a"]}`, 0), []string{"__metadata__ must be an object, found an array"}},

		// Tensor entries.
		{"tensor entry not an object", file(`{"w":[0,1]}`, 0), []string{`tensor "w": entry must be an object, found an array`}},
		{"unknown key", file(obj(`"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"offset":0}`), 1), []string{`unknown key "offset"`}},
		{"missing keys", file(`{"w":{}}`, 0), []string{"missing dtype", "missing shape", "missing data_offsets"}},
		{"empty tensor name", file(obj(u8("", 0, 1)), 1), []string{"tensor name is empty"}},
		{"unknown dtype", file(obj(entry("w", "F128", "[1]", 0, 16)), 16), []string{`unknown dtype "F128"`}},
		{"lowercase dtype", file(obj(entry("w", "f32", "[1]", 0, 4)), 4), []string{`unknown dtype "f32"`}},
		{"dtype not a string", file(obj(`"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}`), 4), []string{"dtype must be a string, found a number"}},
		{"FNUZ dtype", file(obj(entry("w", "F8_E5M2FNUZ", "[3]", 0, 3)), 3), nil},
		{"F4 whole bytes", file(obj(entry("w", "F4", "[4]", 0, 2)), 2), nil},
		{"F4 half byte", file(obj(entry("w", "F4", "[3]", 0, 2)), 2), []string{"3 elements of F4 do not fill a whole number of bytes"}},
		{"F6 whole bytes", file(obj(entry("w", "F6_E3M2", "[2,2]", 0, 3)), 3), nil},
		{"scalar", file(obj(entry("w", "F64", "[]", 0, 8)), 8), nil},
		{"scalar size mismatch", file(obj(entry("w", "F64", "[]", 0, 4)), 4), []string{"span 4 bytes but 1 elements of F64 need 8"}},
		{"size mismatch", file(obj(entry("w", "F16", "[3]", 0, 4)), 4), []string{"span 4 bytes but 3 elements of F16 need 6"}},
		{"shape not an array", file(obj(`"w":{"dtype":"U8","shape":3,"data_offsets":[0,3]}`), 3), []string{"shape must be an array, found a number"}},
		{"shape negative", file(obj(entry("w", "U8", "[-1]", 0, 0)), 0), []string{"shape[0] is negative (-1)"}},
		{"shape negative zero", file(obj(entry("w", "U8", "[-0]", 0, 0)), 0), []string{"shape[0] is negative (-0)"}},
		{"shape fraction", file(obj(entry("w", "U8", "[2,1.5]", 0, 3)), 3), []string{"shape[1] is not an integer (1.5)"}},
		{"shape exponent", file(obj(entry("w", "U8", "[1e1,2E0]", 0, 20)), 20), nil},
		{"shape integral with fraction digits", file(obj(entry("w", "U8", "[2.50e1]", 0, 25)), 25), nil},
		{"shape non-integral exponent", file(obj(entry("w", "U8", "[15e-1]", 0, 1)), 1), []string{"shape[0] is not an integer (15e-1)"}},
		{"shape too big", file(obj(entry("w", "U8", "[9223372036854775808]", 0, 0)), 0), []string{"shape[0] does not fit in int64"}},
		{"shape huge exponent", file(obj(entry("w", "U8", "[1e99999999999999999999]", 0, 0)), 0), []string{"shape[0] does not fit in int64"}},
		{"shape max int64 times zero", file(obj(entry("w", "U8", "[0,9223372036854775807]", 0, 0)), 0), nil},
		{"shape string element", file(obj(entry("w", "U8", `["3"]`, 0, 3)), 3), []string{`shape[0] must be a non-negative integer, found a string`}},
		{"shape product overflow", file(obj(entry("w", "U8", "[4294967296,4294967296]", 0, 0)), 0), []string{"element count overflows int64"}},
		{"shape product overflow before zero", file(obj(entry("w", "U8", "[4294967296,4294967296,0]", 0, 0)), 0), []string{"element count overflows int64"}},
		{"shape size overflow", file(obj(entry("w", "F32", "[4611686018427387904]", 0, 0)), 0), []string{"size of 4611686018427387904 elements of F32 overflows int64"}},
		{"shape bits overflow", file(obj(entry("w", "F4", "[4611686018427387904]", 0, 0)), 0), []string{"size in bits of 4611686018427387904 elements of F4 overflows"}},
		{"rank 64", file(obj(entry("w", "U8", "["+strings.TrimSuffix(strings.Repeat("1,", 64), ",")+"]", 0, 1)), 1), nil},
		{"rank 65", file(obj(entry("w", "U8", rank65, 0, 1)), 1), []string{"more than 64 dimensions"}},
		{"data_offsets three elements", file(obj(`"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}`), 1), []string{"exactly 2 elements, found 3", "trailing data"}},
		{"data_offsets one element", file(obj(`"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}`), 0), []string{"exactly 2 elements, found 1"}},
		{"data_offsets not an array", file(obj(`"w":{"dtype":"U8","shape":[1],"data_offsets":{"0":1}}`), 0), []string{"data_offsets must be an array, found an object"}},
		{"data_offsets begin after end", file(obj(entry("w", "U8", "[1]", 2, 1)), 0), []string{"begin 2 is after end 1"}},
		{"data_offsets negative", file(obj(`"w":{"dtype":"U8","shape":[0],"data_offsets":[-0,0]}`), 0), []string{"data_offsets[0] is negative (-0)"}},
		{"data_offsets exponent", file(obj(`"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4e0]}`), 4), nil},
		{"data_offsets fraction", file(obj(`"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4.5]}`), 4), []string{"data_offsets[1] is not an integer (4.5)", "4 bytes of trailing data"}},

		// Layout of the data section.
		{"zero-size tensors", file(obj(u8("z0", 0, 0), u8("a", 0, 2), u8("z1", 2, 2), u8("b", 2, 4), u8("z2", 4, 4)), 4), nil},
		{"only zero-size", file(obj(u8("z0", 0, 0), u8("z1", 0, 0)), 0), nil},
		{"out of order in header", file(obj(u8("b", 2, 4), u8("a", 0, 2)), 4), nil},
		{"zero-size inside another", file(obj(u8("a", 0, 4), u8("z", 2, 2)), 4), []string{`tensor "z" overlaps tensor "a"`}},
		{"zero-size past the end", file(obj(u8("a", 0, 4), u8("z", 6, 6)), 4), []string{`data_offsets end 6 is beyond the end`, `2-byte gap in the data section before tensor "z"`}},
		{"gap", file(obj(u8("a", 0, 4), u8("b", 8, 12)), 12), []string{`4-byte gap in the data section before tensor "b"`}},
		{"first begin not 0", file(obj(u8("a", 4, 8)), 8), []string{`4-byte gap in the data section before tensor "a" (data offsets 0 to 4`}},
		{"overlap", file(obj(u8("a", 0, 8), u8("b", 4, 12)), 12), []string{`tensor "b" overlaps tensor "a" (it begins at data offset 4, before 8)`}},
		{"trailing data", file(obj(u8("a", 0, 4)), 6), []string{"2 bytes of trailing data after the last tensor"}},
		{"end beyond file", file(obj(u8("a", 0, 8)), 4), []string{"data_offsets end 8 is beyond the end of the file (the data section is 4 bytes)"}},
		{"end beyond file, second tensor", file(obj(u8("a", 0, 4), u8("b", 4, 1<<40)), 4), []string{"data_offsets end 1099511627776 is beyond the end"}},

		// Strings.
		{"invalid UTF-8 in name", file(obj(u8("w\xff", 0, 1)), 1), []string{"not valid UTF-8"}},
		{"invalid UTF-8 in metadata", file("{\"__metadata__\":{\"a\":\"\xc0\x80\"}}", 0), []string{"not valid UTF-8"}},
		{"UTF-8 name", file(obj(u8("wé日本", 0, 1)), 1), nil},
		{"escaped surrogate pair", file(obj(`"\ud83d\ude00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}`), 1), nil},
		{"unpaired surrogate", file(obj(`"\ud83d":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}`), 1), []string{"unpaired UTF-16 surrogate"}},
		{"control character", file(obj(u8("a\tb", 0, 1)), 1), []string{"unescaped control character 0x09"}},
		{"unterminated string", file(`{"abc`, 0), []string{"unterminated string"}},

		// Bounds.
		{"deep nesting", file(obj(`"w":{"dtype":"U8","shape":[],"data_offsets":[0,1],"x":`+deep+`}`), 1), []string{`unknown key "x"`, "deeper than 16 levels"}},
		{"nesting 16", file(`{"__metadata__":`+strings.Repeat("[", 15)+strings.Repeat("]", 15)+`}`, 0), []string{"__metadata__ must be an object"}},
		{"nesting 17", file(`{"__metadata__":`+strings.Repeat("[", 16)+strings.Repeat("]", 16)+`}`, 0), []string{"__metadata__ must be an object", "deeper than 16 levels"}},
		{"problem cap", file(obj(big...), 150), make([]string, MaxProblems)},
	}
}

func TestValidate(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			info, probs := Validate(bytes.NewReader(c.file), int64(len(c.file)))
			check(t, c, info, probs)
		})
	}
}

func check(t *testing.T, c tcase, info *Info, probs []Problem) {
	t.Helper()
	if info == nil {
		t.Fatal("nil Info")
	}
	if c.want == nil && probs != nil {
		t.Errorf("want no problems, got %q", probs)
		return
	}
	if len(probs) != len(c.want) {
		t.Errorf("want %d problems %q, got %d: %q", len(c.want), c.want, len(probs), probs)
		return
	}
	used := make([]bool, len(probs))
next:
	for _, w := range c.want {
		for i, p := range probs {
			if !used[i] && strings.Contains(p.Msg, w) {
				used[i] = true
				continue next
			}
		}
		t.Errorf("no problem matches %q in %q", w, probs)
	}
	for i, p := range probs {
		if p.Offset < 0 || p.Offset > int64(len(c.file)) {
			t.Errorf("problem %d offset %d outside the file", i, p.Offset)
		}
		if i > 0 && p.Offset < probs[i-1].Offset {
			t.Errorf("problems not sorted by offset: %q", probs)
		}
	}
}

func TestValidInfo(t *testing.T) {
	b := validSample()
	info, probs := Validate(bytes.NewReader(b), int64(len(b)))
	if probs != nil {
		t.Fatalf("problems: %q", probs)
	}
	hl := int64(binary.LittleEndian.Uint64(b))
	if info.HeaderLen != hl || hl%8 != 0 {
		t.Errorf("HeaderLen %d, want %d (a multiple of 8)", info.HeaderLen, hl)
	}
	if info.Tensors != 11 {
		t.Errorf("Tensors %d, want 11", info.Tensors)
	}
	if info.DataBytes != 24+8+8+3+0+8+2+1+3+3+8 || info.DataBytes != int64(len(b))-8-hl {
		t.Errorf("DataBytes %d", info.DataBytes)
	}
	want := map[string]string{"format": "pt", "note": "a \u00e9 \"q\""}
	if !maps.Equal(info.Metadata, want) {
		t.Errorf("Metadata %q, want %q", info.Metadata, want)
	}
}

func TestMetadataBounded(t *testing.T) {
	var kv []string
	for i := range MaxMetadataKeys + 10 {
		kv = append(kv, fmt.Sprintf(`"k%d":"v"`, i))
	}
	b := file(`{"__metadata__":{`+strings.Join(kv, ",")+`,"k0":"dup"}}`, 0)
	info, probs := Validate(bytes.NewReader(b), int64(len(b)))
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, `duplicate __metadata__ key "k0"`) {
		t.Errorf("problems %q", probs)
	}
	if len(info.Metadata) != MaxMetadataKeys || info.Metadata["k0"] != "v" {
		t.Errorf("kept %d keys, k0=%q", len(info.Metadata), info.Metadata["k0"])
	}
}

func TestTensorLimit(t *testing.T) {
	defer func(n int) { tensorLimit = n }(tensorLimit)
	tensorLimit = 3
	b := file(obj(
		entry("a", "U8", "[1]", 0, 1), entry("b", "U8", "[1]", 1, 2),
		entry("c", "U8", "[1]", 2, 3), entry("d", "U8", "[1]", 3, 4)), 4)
	info, probs := Validate(bytes.NewReader(b), int64(len(b)))
	check(t, tcase{file: b, want: []string{"more than 3 tensors"}}, info, probs)
	b = file(obj(entry("a", "U8", "[1]", 0, 1), entry("b", "U8", "[1]", 1, 2), entry("c", "U8", "[1]", 2, 3)), 3)
	info, probs = Validate(bytes.NewReader(b), int64(len(b)))
	check(t, tcase{file: b}, info, probs)
}

// fakeFile serves a length field, then a header of "{}" and spaces, then
// zeros, for any claimed size, without holding the bytes.
type fakeFile struct {
	hl  uint64
	err error // returned for reads past the length field
}

func (f fakeFile) ReadAt(p []byte, off int64) (int, error) {
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], f.hl)
	for i := range p {
		o := off + int64(i)
		switch {
		case o < 8:
			p[i] = lb[o]
		case f.err != nil:
			return i, f.err
		case o == 8:
			p[i] = '{'
		case o == 9:
			p[i] = '}'
		case uint64(o) < 8+f.hl:
			p[i] = ' '
		default:
			p[i] = 0
		}
	}
	return len(p), nil
}

func TestHeaderLimit(t *testing.T) {
	_, probs := Validate(fakeFile{hl: MaxHeader + 1}, 1<<40)
	check(t, tcase{file: make([]byte, 8), want: []string{"header length 100000001 exceeds the 100000000-byte limit"}}, &Info{}, probs)
	if testing.Short() {
		t.Skip("reads a 100 MB header")
	}
	info, probs := Validate(fakeFile{hl: MaxHeader}, 8+MaxHeader)
	if probs != nil || info.HeaderLen != MaxHeader {
		t.Errorf("header of exactly MaxHeader bytes: %+v %q", info, probs)
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("boom")
	_, probs := Validate(fakeFile{hl: 16, err: boom}, 64)
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "cannot read the header (0 of 16 bytes read): boom") || probs[0].Offset != 8 {
		t.Errorf("read error: %q", probs)
	}
	// A size claim larger than the file.
	b := file("{}", 0)
	_, probs = Validate(bytes.NewReader(b[:12]), int64(len(b)))
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "cannot read the header (4 of 8 bytes read)") {
		t.Errorf("short file: %q", probs)
	}
	_, probs = Validate(bytes.NewReader(nil), 100)
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "cannot read the header length") {
		t.Errorf("empty reader: %q", probs)
	}
	_, probs = Validate(fakeFile{hl: 16, err: errors.New("two\nlines " + strings.Repeat("é", 200))}, 64)
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "two lines é") || strings.Contains(probs[0].Msg, "\n") || !utf8.ValidString(probs[0].Msg) || len(probs[0].Msg) > 300 {
		t.Errorf("error text: %q", probs)
	}
	_, probs = Validate(nil, 100)
	if len(probs) != 1 {
		t.Errorf("nil reader: %q", probs)
	}
}

func TestProblemOffsets(t *testing.T) {
	// The duplicate is reported at the second key; the gap at the data
	// section offset where it begins.
	h := obj(entry("w", "U8", "[1]", 0, 1), entry("w", "U8", "[1]", 2, 3))
	b := file(h, 3)
	_, probs := Validate(bytes.NewReader(b), int64(len(b)))
	second := int64(8 + strings.LastIndex(h, `"w"`))
	hl := int64(binary.LittleEndian.Uint64(b))
	if len(probs) != 2 || probs[0].Offset != second || probs[1].Offset != 8+hl+1 {
		t.Errorf("offsets: %q (want %d and %d)", probs, second, 8+hl+1)
	}
	if s := probs[0].String(); !strings.HasPrefix(s, fmt.Sprintf("offset %d: duplicate", second)) {
		t.Errorf("String() = %q", s)
	}
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		in  string
		n   int64
		cls numClass
	}{
		{"0", 0, numOK}, {"7", 7, numOK}, {"0.0", 0, numOK}, {"0e5", 0, numOK}, {"1.0", 1, numOK},
		{"1e3", 1000, numOK}, {"1E+3", 1000, numOK}, {"1200e-2", 12, numOK}, {"0.5e1", 5, numOK},
		{"9223372036854775807", 1<<63 - 1, numOK}, {"9223372036854775808", 0, numTooBig},
		{"922337203685477580.7e1", 1<<63 - 1, numOK}, {"92233720368547758e2", 9223372036854775800, numOK}, {"92233720368547759e2", 0, numTooBig},
		{"1e18", 1e18, numOK}, {"1e19", 0, numTooBig}, {"10e18", 0, numTooBig}, {"9.3e18", 0, numTooBig},
		{"000", 0, numOK}, // scans "0"; the caller sees "00" next
		{"1.5", 0, numFraction}, {"1e-1", 0, numFraction}, {"0.1e1", 1, numOK}, {"12e-1", 0, numFraction},
		{"-1", 0, numNegative}, {"-0", 0, numNegative}, {"-1.5e3", 0, numNegative},
		{"1e-99999999999999999999", 0, numFraction}, {"0e99999999999999999999", 0, numOK},
	} {
		p := &parser{v: &validator{}, b: []byte(c.in)}
		n, cls, err := p.number()
		if err != nil || n != c.n || cls != c.cls {
			t.Errorf("%s: got %d %v %v, want %d %v", c.in, n, cls, err, c.n, c.cls)
		}
	}
	for _, in := range []string{"-", "1.", "1e", "1e+", ".5", "-a"} {
		p := &parser{v: &validator{size: 100}, b: []byte(in)}
		if _, _, err := p.number(); err == nil {
			t.Errorf("%q: no syntax error", in)
		}
	}
}

// A long name is cut in messages and decoded only as far as needed.
func TestLongName(t *testing.T) {
	name := strings.Repeat("n", 4<<20)
	var es []string
	for range MaxProblems {
		es = append(es, `"k":1`)
	}
	b := file(obj(`"`+name+`":{`+strings.Join(es, ",")+`}`), 0)
	start := testutil.CPUTime()
	_, probs := Validate(bytes.NewReader(b), int64(len(b)))
	if d := testutil.CPUTime() - start; d > 5*time.Second {
		t.Errorf("took %v of CPU", d)
	}
	if len(probs) != MaxProblems {
		t.Fatalf("%d problems", len(probs))
	}
	for _, p := range probs {
		if len(p.Msg) > 200 || !strings.Contains(p.Msg, `"nnnnnnnnnn`) || !strings.Contains(p.Msg, `n"…`) {
			t.Fatalf("message %q", p.Msg)
		}
	}
}
