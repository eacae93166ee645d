// Package pickletest assembles pickle streams opcode by opcode for tests and
// fixture generators: the streams a pickler writes, and the malformed ones
// it never would. It is test support; nothing in it is ever unpickled.
package pickletest

import (
	"bytes"
	"encoding/binary"
)

// Opcodes used by the assembler.
const (
	opMARK         = '('
	opSTOP         = '.'
	opREDUCE       = 'R'
	opTUPLE        = 't'
	opNONE         = 'N'
	opBUILD        = 'b'
	opGLOBAL       = 'c'
	opEMPTY_DICT   = '}'
	opSETITEM      = 's'
	opSETITEMS     = 'u'
	opBINGET       = 'h'
	opBINPUT       = 'q'
	opEMPTY_TUPLE  = ')'
	opBININT       = 'J'
	opBINUNICODE   = 'X'
	opBINPERSID    = 'Q'
	opPROTO        = 0x80
	opTUPLE1       = 0x85
	opTUPLE2       = 0x86
	opNEWFALSE     = 0x89
	opSHORT_BINUNI = 0x8c
	opSTACK_GLOBAL = 0x93
	opMEMOIZE      = 0x94
	opFRAME        = 0x95
)

// Asm is a pickle stream under construction.
type Asm struct{ bytes.Buffer }

func (a *Asm) Op(c byte, args ...byte) *Asm { a.WriteByte(c); a.Write(args); return a }
func (a *Asm) Proto(n byte) *Asm            { return a.Op(opPROTO, n) }
func (a *Asm) Mark() *Asm                   { return a.Op(opMARK) }
func (a *Asm) Stop() *Asm                   { return a.Op(opSTOP) }
func (a *Asm) Reduce() *Asm                 { return a.Op(opREDUCE) }
func (a *Asm) Tuple() *Asm                  { return a.Op(opTUPLE) }
func (a *Asm) Tuple1() *Asm                 { return a.Op(opTUPLE1) }
func (a *Asm) Tuple2() *Asm                 { return a.Op(opTUPLE2) }
func (a *Asm) None() *Asm                   { return a.Op(opNONE) }
func (a *Asm) Build() *Asm                  { return a.Op(opBUILD) }
func (a *Asm) EmptyDict() *Asm              { return a.Op(opEMPTY_DICT) }
func (a *Asm) Setitem() *Asm                { return a.Op(opSETITEM) }
func (a *Asm) Setitems() *Asm               { return a.Op(opSETITEMS) }
func (a *Asm) Memoize() *Asm                { return a.Op(opMEMOIZE) }
func (a *Asm) Binget(i byte) *Asm           { return a.Op(opBINGET, i) }
func (a *Asm) Binput(i byte) *Asm           { return a.Op(opBINPUT, i) }

// global writes GLOBAL module\nname\n.
func (a *Asm) Global(mod, name string) *Asm {
	a.WriteByte(opGLOBAL)
	a.WriteString(mod + "\n" + name + "\n")
	return a
}

// str writes SHORT_BINUNICODE or BINUNICODE.
func (a *Asm) Str(s string) *Asm {
	if len(s) < 256 {
		a.Op(opSHORT_BINUNI, byte(len(s)))
	} else {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
		a.Op(opBINUNICODE, n[:]...)
	}
	a.WriteString(s)
	return a
}

func (a *Asm) StackGlobal(mod, name string) *Asm {
	return a.Str(mod).Str(name).Op(opSTACK_GLOBAL)
}

func (a *Asm) Int(v int32) *Asm {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(v))
	return a.Op(opBININT, n[:]...)
}

func (a *Asm) Frame(n uint64) *Asm {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	return a.Op(opFRAME, b[:]...)
}

// call writes mod.name(args...) with string arguments via REDUCE.
func (a *Asm) Call(mod, name string, args ...string) *Asm {
	a.Global(mod, name).Mark()
	for _, s := range args {
		a.Str(s)
	}
	return a.Tuple().Reduce()
}

// torchTensor writes _rebuild_tensor_v2(persistent_load(('storage',
// torch.FloatStorage, key, 'cpu', n)), 0, (n,), (1,), False, OrderedDict())
// as torch.save does.
func (a *Asm) TorchTensor(key string, n int32) *Asm {
	a.Global("torch._utils", "_rebuild_tensor_v2")
	a.Mark()
	a.Mark().Str("storage").Global("torch", "FloatStorage").Str(key).Str("cpu").Int(n).Tuple().Op(opBINPERSID)
	a.Int(0)
	a.Int(n).Tuple1()
	a.Int(1).Tuple1()
	a.Op(opNEWFALSE)
	a.Global("collections", "OrderedDict").Op(opEMPTY_TUPLE).Reduce()
	a.Tuple().Reduce()
	return a
}

// torchStateDict writes an OrderedDict of n tensors with the _metadata
// BUILD that torch state dicts carry.
func TorchStateDict(n int) []byte {
	var a Asm
	a.Proto(2)
	a.Global("collections", "OrderedDict").Op(opEMPTY_TUPLE).Reduce().Binput(0)
	a.Mark()
	for i := 0; i < n; i++ {
		a.Str("layer" + string(rune('a'+i%26)) + ".weight")
		a.TorchTensor(string(rune('0'+i%10)), 4)
	}
	a.Setitems()
	// state dict metadata: BUILD {'_metadata': OrderedDict()}
	a.EmptyDict().Str("_metadata").Global("collections", "OrderedDict").Op(opEMPTY_TUPLE).Reduce().Setitem().Build()
	a.Stop()
	return a.Bytes()
}
