package pickle

import (
	"bytes"
	"encoding/binary"
)

// asm assembles pickle streams opcode by opcode, so tests can build exactly
// the streams a pickler would write and the malformed ones it never would.
type asm struct{ bytes.Buffer }

func (a *asm) op(c byte, args ...byte) *asm { a.WriteByte(c); a.Write(args); return a }
func (a *asm) proto(n byte) *asm            { return a.op(opPROTO, n) }
func (a *asm) mark() *asm                   { return a.op(opMARK) }
func (a *asm) stop() *asm                   { return a.op(opSTOP) }
func (a *asm) reduce() *asm                 { return a.op(opREDUCE) }
func (a *asm) tuple() *asm                  { return a.op(opTUPLE) }
func (a *asm) tuple1() *asm                 { return a.op(opTUPLE1) }
func (a *asm) tuple2() *asm                 { return a.op(opTUPLE2) }
func (a *asm) none() *asm                   { return a.op(opNONE) }
func (a *asm) build() *asm                  { return a.op(opBUILD) }
func (a *asm) emptyDict() *asm              { return a.op(opEMPTY_DICT) }
func (a *asm) setitem() *asm                { return a.op(opSETITEM) }
func (a *asm) setitems() *asm               { return a.op(opSETITEMS) }
func (a *asm) memoize() *asm                { return a.op(opMEMOIZE) }
func (a *asm) binget(i byte) *asm           { return a.op(opBINGET, i) }
func (a *asm) binput(i byte) *asm           { return a.op(opBINPUT, i) }

// global writes GLOBAL module\nname\n.
func (a *asm) global(mod, name string) *asm {
	a.WriteByte(opGLOBAL)
	a.WriteString(mod + "\n" + name + "\n")
	return a
}

// str writes SHORT_BINUNICODE or BINUNICODE.
func (a *asm) str(s string) *asm {
	if len(s) < 256 {
		a.op(opSHORT_BINUNI, byte(len(s)))
	} else {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
		a.op(opBINUNICODE, n[:]...)
	}
	a.WriteString(s)
	return a
}

func (a *asm) stackGlobal(mod, name string) *asm {
	return a.str(mod).str(name).op(opSTACK_GLOBAL)
}

func (a *asm) int(v int32) *asm {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(v))
	return a.op(opBININT, n[:]...)
}

func (a *asm) frame(n uint64) *asm {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return a.op(opFRAME, b[:]...)
}

// call writes mod.name(args...) with string arguments via REDUCE.
func (a *asm) call(mod, name string, args ...string) *asm {
	a.global(mod, name).mark()
	for _, s := range args {
		a.str(s)
	}
	return a.tuple().reduce()
}

// torchTensor writes _rebuild_tensor_v2(persistent_load(('storage',
// torch.FloatStorage, key, 'cpu', n)), 0, (n,), (1,), False, OrderedDict())
// as torch.save does.
func (a *asm) torchTensor(key string, n int32) *asm {
	a.global("torch._utils", "_rebuild_tensor_v2")
	a.mark()
	a.mark().str("storage").global("torch", "FloatStorage").str(key).str("cpu").int(n).tuple().op(opBINPERSID)
	a.int(0)
	a.int(n).tuple1()
	a.int(1).tuple1()
	a.op(opNEWFALSE)
	a.global("collections", "OrderedDict").op(opEMPTY_TUPLE).reduce()
	a.tuple().reduce()
	return a
}

// torchStateDict writes an OrderedDict of n tensors with the _metadata
// BUILD that torch state dicts carry.
func torchStateDict(n int) []byte {
	var a asm
	a.proto(2)
	a.global("collections", "OrderedDict").op(opEMPTY_TUPLE).reduce().binput(0)
	a.mark()
	for i := 0; i < n; i++ {
		a.str("layer" + string(rune('a'+i%26)) + ".weight")
		a.torchTensor(string(rune('0'+i%10)), 4)
	}
	a.setitems()
	// state dict metadata: BUILD {'_metadata': OrderedDict()}
	a.emptyDict().str("_metadata").global("collections", "OrderedDict").op(opEMPTY_TUPLE).reduce().setitem().build()
	a.stop()
	return a.Bytes()
}
