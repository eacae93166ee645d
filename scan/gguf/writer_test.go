package gguf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// This file writes GGUF files for the tests, independently of the parser.

// Value type codes, spelled out for the writer.
const (
	tU8, tI8, tU16, tI16, tU32, tI32, tF32, tBool, tStr, tArr, tU64, tI64, tF64 = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
)

// ggml type codes used in tests.
const (
	gF32, gF16, gQ4_0, gQ8_0, gQ4_K, gIQ2_XXS, gI8, gBF16 = 0, 1, 2, 8, 12, 16, 24, 30
)

// testTypeSizes are ggml block sizes and bytes per block (IQ2_XXS included,
// though the parser does not check its size).
var testTypeSizes = map[uint32][2]uint64{
	gF32: {1, 4}, gF16: {1, 2}, gBF16: {1, 2}, gI8: {1, 1},
	gQ4_0: {32, 18}, gQ8_0: {32, 34}, gQ4_K: {256, 144}, gIQ2_XXS: {256, 66},
}

// kv is one metadata pair. val is encoded according to typ; a raw value is
// written verbatim after the type, and rawKey replaces the encoded key.
type kv struct {
	key    string
	typ    uint32
	val    any
	rawKey []byte
}

// arr is an ARRAY value.
type arr struct {
	elem  uint32
	items []any
}

// raw bytes are written as they are.
type raw []byte

// rawBool is a BOOL written as any byte.
type rawBool uint8

// tinfo is one tensor info; off < 0 places the tensor after the previous
// one, aligned. The data section is written zero-filled to the end of the
// last tensor, except that tensors beyond 16 MiB get no data.
type tinfo struct {
	name string
	dims []uint64
	typ  uint32
	off  int64
	// rawDims, if set, replaces n_dims and dims.
	rawDims []byte
}

// spec describes a file to write.
type spec struct {
	magic       string // "" means GGUF
	version     uint32
	kvs         []kv
	tensors     []tinfo
	align       uint64  // padding alignment; 0 means 32
	tensorCount *uint64 // overrides the declared counts
	kvCount     *uint64
	truncate    int64 // bytes cut off the end
	extra       int64 // zero bytes added at the end
}

func u64p(v uint64) *uint64 { return &v }

type enc struct{ bytes.Buffer }

func (e *enc) u32(v uint32) { binary.Write(&e.Buffer, binary.LittleEndian, v) }
func (e *enc) u64(v uint64) { binary.Write(&e.Buffer, binary.LittleEndian, v) }
func (e *enc) str(s string) { e.u64(uint64(len(s))); e.WriteString(s) }

func (e *enc) value(typ uint32, v any) {
	if r, ok := v.(raw); ok {
		e.Write(r)
		return
	}
	switch typ {
	case tBool:
		switch b := v.(type) {
		case bool:
			if b {
				e.WriteByte(1)
			} else {
				e.WriteByte(0)
			}
		case rawBool:
			e.WriteByte(byte(b))
		default:
			panic(fmt.Sprintf("bool value %T", v))
		}
	case tStr:
		e.str(v.(string))
	case tArr:
		a := v.(arr)
		e.u32(a.elem)
		e.u64(uint64(len(a.items)))
		for _, it := range a.items {
			e.value(a.elem, it)
		}
	case tU8, tI8, tU16, tI16, tU32, tI32, tF32, tU64, tI64, tF64:
		if err := binary.Write(&e.Buffer, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	default:
		panic(fmt.Sprintf("no encoding for type %d", typ))
	}
}

// nbytes is a tensor's data size per testTypeSizes (0 if unknown).
func (t tinfo) nbytes() uint64 {
	ts, ok := testTypeSizes[t.typ]
	if !ok {
		return 0
	}
	n := uint64(1)
	for _, d := range t.dims {
		n *= d
	}
	return n / ts[0] * ts[1]
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// build writes the file and returns it with its data-section offset.
func (s spec) build() ([]byte, int64) {
	var e enc
	magic := s.magic
	if magic == "" {
		magic = "GGUF"
	}
	e.WriteString(magic)
	e.u32(s.version)
	tc, kc := uint64(len(s.tensors)), uint64(len(s.kvs))
	if s.tensorCount != nil {
		tc = *s.tensorCount
	}
	if s.kvCount != nil {
		kc = *s.kvCount
	}
	e.u64(tc)
	e.u64(kc)
	for _, p := range s.kvs {
		if p.rawKey != nil {
			e.Write(p.rawKey)
		} else {
			e.str(p.key)
		}
		e.u32(p.typ)
		e.value(p.typ, p.val)
	}
	align := s.align
	if align == 0 {
		align = 32
	}
	var next, end uint64
	for _, t := range s.tensors {
		e.str(t.name)
		if t.rawDims != nil {
			e.Write(t.rawDims)
		} else {
			e.u32(uint32(len(t.dims)))
			for _, d := range t.dims {
				e.u64(d)
			}
		}
		e.u32(t.typ)
		off := uint64(t.off)
		if t.off < 0 {
			off = alignUp(next, align)
		}
		e.u64(off)
		if off+t.nbytes() > next {
			next = off + t.nbytes()
		}
		if off < 1<<24 && t.nbytes() < 1<<24 { // no data for absurd tensors
			end = max(end, off+t.nbytes())
		}
	}
	data := alignUp(uint64(e.Len()), align)
	if len(s.tensors) > 0 {
		e.Write(make([]byte, int(data)-e.Len()+int(end)))
	}
	e.Write(make([]byte, s.extra))
	b := e.Bytes()
	return b[:int64(len(b))-s.truncate], int64(data)
}

// Realistic chat templates that must not be flagged.
const (
	chatML = `{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`

	llama3Strict = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] %}{% set loop_messages = messages[1:] %}{% else %}{% set loop_messages = messages %}{% endif %}" +
		"{% if system_message is defined %}{{ '<|start_header_id|>system<|end_header_id|>\n\n' + system_message + '<|eot_id|>' }}{% endif %}" +
		"{% for message in messages %}{% if message['role'] not in ['system', 'user', 'assistant'] %}{{ raise_exception('Only system, user and assistant roles are supported!') }}{% endif %}" +
		"{% if message['role'] == 'system' %}{% continue %}{% endif %}" +
		"{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}" +
		"{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"

	llama3Trim = `{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %}`

	// toolUse has prose that looks like the Flask globals and Jinja
	// features common in tool-calling templates.
	toolUse = `{%- if tools %}{{- '<|im_start|>system\n' }}{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}{%- else %}{{- 'You are a helpful assistant. Answer the user\'s request. Do not change the config. Functions:' }}{%- endif %}` +
		`{%- for tool in tools %}{{- "\n" }}{{- tool | tojson }}{%- endfor %}{{- "\n<|im_end|>\n" }}{%- endif %}` +
		`{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}` +
		`{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{%- if ns.multi_step_tool and message.role == "user" %}{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}` +
		`{%- for message in messages %}{%- if message.content is string %}{%- set content = message.content %}{%- else %}{%- set content = '' %}{%- endif %}` +
		`{{- '<|im_start|>' + message.role + '\n' + content | trim }}{%- if message.tool_calls %}{%- for tool_call in message.tool_calls %}{{- '<tool_call>\n{"name": "' }}{{- tool_call.function.name }}{{- '", "arguments": ' }}{{- tool_call.function.arguments | tojson }}{{- '}\n</tool_call>' }}{%- endfor %}{%- endif %}{{- '<|im_end|>\n' }}{%- endfor %}` +
		`{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}`
)

// fullSpec is a valid file with a value of every type, nested arrays,
// chat templates and tensors of several types.
func fullSpec() spec {
	return spec{
		version: 3,
		kvs: []kv{
			{key: "general.architecture", typ: tStr, val: "llama"},
			{key: "general.name", typ: tStr, val: "test model ü"},
			{key: "general.alignment", typ: tU32, val: uint32(32)},
			{key: "test.u8", typ: tU8, val: uint8(200)},
			{key: "test.i8", typ: tI8, val: int8(-3)},
			{key: "test.u16", typ: tU16, val: uint16(65000)},
			{key: "test.i16", typ: tI16, val: int16(-300)},
			{key: "test.u32", typ: tU32, val: uint32(1 << 31)},
			{key: "test.i32", typ: tI32, val: int32(-1 << 30)},
			{key: "test.f32", typ: tF32, val: float32(1.5)},
			{key: "test.bool", typ: tBool, val: true},
			{key: "test.bool0", typ: tBool, val: false},
			{key: "test.u64", typ: tU64, val: uint64(1 << 62)},
			{key: "test.i64", typ: tI64, val: int64(-1 << 62)},
			{key: "test.f64", typ: tF64, val: math.Pi},
			{key: "test.empty", typ: tStr, val: ""},
			{key: "test.arr.u8", typ: tArr, val: arr{tU8, []any{uint8(1), uint8(2)}}},
			{key: "test.arr.f32", typ: tArr, val: arr{tF32, []any{float32(1), float32(2), float32(3)}}},
			{key: "test.arr.bool", typ: tArr, val: arr{tBool, []any{true, false, true}}},
			{key: "test.arr.empty", typ: tArr, val: arr{tI64, nil}},
			{key: "tokenizer.ggml.tokens", typ: tArr, val: arr{tStr, []any{"<s>", "</s>", "__init__", "▁the", ""}}},
			{key: "test.arr.nested", typ: tArr, val: arr{tArr, []any{
				arr{tU16, []any{uint16(1)}},
				arr{tArr, []any{arr{tArr, []any{arr{tStr, []any{"deep"}}}}}},
			}}},
			{key: "tokenizer.chat_template", typ: tStr, val: chatML},
			{key: "tokenizer.chat_template.strict", typ: tStr, val: llama3Strict},
			{key: "tokenizer.chat_template.trim", typ: tStr, val: llama3Trim},
			{key: "tokenizer.chat_template.tool_use", typ: tStr, val: toolUse},
		},
		tensors: []tinfo{
			{name: "token_embd.weight", dims: []uint64{8, 4}, typ: gF32, off: -1},
			{name: "blk.0.attn_q.weight", dims: []uint64{64, 2}, typ: gQ4_0, off: -1},
			{name: "blk.0.ffn_up.weight", dims: []uint64{256}, typ: gQ4_K, off: -1},
			{name: "blk.0.empty", dims: []uint64{0, 4}, typ: gF16, off: -1},
			{name: "blk.0.iq", dims: []uint64{256}, typ: gIQ2_XXS, off: -1},
			{name: "blk.0.scalar", dims: nil, typ: gI8, off: -1},
			{name: "blk.0.q8", dims: []uint64{32, 1, 1, 2}, typ: gQ8_0, off: -1},
			{name: "output.weight", dims: []uint64{3, 5}, typ: gBF16, off: -1},
		},
	}
}

// smallSpec is a minimal valid file the malformed cases start from.
func smallSpec() spec {
	return spec{
		version: 3,
		kvs: []kv{
			{key: "general.architecture", typ: tStr, val: "llama"},
			{key: "test.v", typ: tU32, val: uint32(7)},
		},
		tensors: []tinfo{
			{name: "a", dims: []uint64{4}, typ: gF32, off: -1},
			{name: "b", dims: []uint64{4}, typ: gF32, off: -1},
		},
	}
}
