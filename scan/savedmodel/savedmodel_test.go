package savedmodel

import (
	"bytes"
	"strings"
	"testing"
)

// pb builds protobuf messages for tests.
type pb struct{ bytes.Buffer }

func (p *pb) varint(v uint64) {
	for v >= 0x80 {
		p.WriteByte(byte(v) | 0x80)
		v >>= 7
	}
	p.WriteByte(byte(v))
}

func (p *pb) bytesField(num uint64, b []byte) *pb {
	p.varint(num<<3 | 2)
	p.varint(uint64(len(b)))
	p.Write(b)
	return p
}

func (p *pb) str(num uint64, s string) *pb { return p.bytesField(num, []byte(s)) }

func node(name, op string) []byte {
	var n pb
	n.str(1, name).str(2, op).str(3, "input:0")
	return n.Bytes()
}

// savedModel wraps graph nodes and library function nodes the way
// saved_model.pb nests them.
func savedModel(graphOps []string, fnOps []string) []byte {
	var g pb
	for i, op := range graphOps {
		g.bytesField(1, node("n"+string(rune('a'+i)), op))
	}
	if len(fnOps) > 0 {
		var fn pb
		var sig pb
		sig.str(1, "__inference_call_123")
		fn.bytesField(1, sig.Bytes())
		for i, op := range fnOps {
			fn.bytesField(3, node("f"+string(rune('a'+i)), op))
		}
		var lib pb
		lib.bytesField(1, fn.Bytes())
		g.bytesField(2, lib.Bytes())
	}
	var mg pb
	mg.bytesField(2, g.Bytes())
	var sm pb
	sm.varint(1<<3 | 0)
	sm.varint(1)
	sm.bytesField(2, mg.Bytes())
	return sm.Bytes()
}

func TestOps(t *testing.T) {
	benign := savedModel([]string{"Placeholder", "MatMul", "SaveV2", "RestoreV2"}, []string{"Relu", "BiasAdd"})
	info, problems := Check(bytes.NewReader(benign), int64(len(benign)))
	if len(problems) != 0 || info.Nodes != 6 || info.Functions != 1 || info.MetaGraphs != 1 {
		t.Errorf("benign: %+v %+v", info, problems)
	}
	evil := savedModel([]string{"Placeholder", "ReadFile"}, []string{"WriteFile", "EagerPyFunc", "WriteFile"})
	_, problems = Check(bytes.NewReader(evil), int64(len(evil)))
	var ops []string
	for _, p := range problems {
		ops = append(ops, p.Op+"/"+p.Level)
	}
	if strings.Join(ops, ",") != "ReadFile/critical,WriteFile/critical,EagerPyFunc/critical" {
		t.Errorf("ops %v", ops)
	}
}

func TestMalformed(t *testing.T) {
	good := savedModel([]string{"MatMul"}, nil)
	for name, b := range map[string][]byte{
		"truncated":    good[:len(good)-2],
		"huge length":  {0x12, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad wiretype": {0x13},
	} {
		if _, problems := Check(bytes.NewReader(b), int64(len(b))); len(problems) == 0 || problems[0].Kind != "malformed" {
			t.Errorf("%s: %+v", name, problems)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add(savedModel([]string{"ReadFile"}, []string{"PyFunc"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, problems := Check(bytes.NewReader(b), int64(len(b)))
		if len(problems) > maxProblems {
			t.Fatal("too many problems")
		}
	})
}
