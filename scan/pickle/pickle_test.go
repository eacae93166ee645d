package pickle

import (
	"bytes"
	"github.com/mlgate/mlgate/scan/pickle/pickletest"
	"strings"
	"testing"
)

func analyze(b []byte, kind Kind) *Result {
	return Analyze(bytes.NewReader(b), &Policy{Kind: kind}, DefaultLimits)
}

func kinds(res *Result) []string {
	var out []string
	for _, is := range res.Issues {
		out = append(out, is.Kind)
	}
	return out
}

func has(res *Result, kind, substr string) bool {
	for _, is := range res.Issues {
		if is.Kind == kind && strings.Contains(is.Message, substr) {
			return true
		}
	}
	return false
}

// Each bypass technique named in the scan issue, and what must be reported.
func TestBypassTechniques(t *testing.T) {
	cases := []struct {
		name     string
		src      func() []byte
		kind     string
		contains string
	}{
		{"GLOBAL os.system", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Call("os", "system", "echo pwned").Stop().Bytes()
		}, IssueDangerousGlobal, "would run os.system('echo pwned') at offset 2"},
		{"python 2 spelling of builtins", func() []byte {
			var a pickletest.Asm
			return a.Call("__builtin__", "eval", "1+1").Stop().Bytes()
		}, IssueDangerousGlobal, "__builtin__.eval('1+1') at offset 25 — builtins.eval"},
		{"STACK_GLOBAL dotted name through another module", func() []byte {
			var a pickletest.Asm
			a.Proto(4).StackGlobal("pathlib", "os.system").Str("id").Tuple1().Reduce().Stop()
			return a.Bytes()
		}, IssueDangerousGlobal, "walks attributes through pathlib"},
		{"importlib + getattr chain", func() []byte {
			var a pickletest.Asm
			a.Proto(2)
			a.Global("builtins", "getattr")
			a.Mark().Global("importlib", "import_module").Mark().Str("os").Tuple().Reduce().Str("system").Tuple().Reduce()
			a.Mark().Str("id").Tuple().Reduce().Stop()
			return a.Bytes()
		}, IssueIndirectCall, "calls a value computed while unpickling"},
		{"copyreg extension code", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Op(opEXT1, 42).Mark().Str("id").Tuple().Reduce().Stop().Bytes()
		}, IssueExtension, "extension code 42"},
		{"FRAME whose length hides opcodes", func() []byte {
			var a pickletest.Asm
			a.Proto(4).Frame(3)
			a.Call("os", "system", "id").Stop()
			return a.Bytes()
		}, IssueMalformed, "crosses the end of its FRAME"},
		{"second pickle after STOP", func() []byte {
			var a pickletest.Asm
			a.Proto(2).None().Stop()
			a.Proto(2).Call("subprocess", "check_output", "id").Stop()
			return a.Bytes()
		}, IssueDangerousGlobal, "subprocess.check_output('id')"},
		{"second pickle after STOP is itself reported", func() []byte {
			var a pickletest.Asm
			a.Proto(2).None().Stop().Proto(2).None().Stop()
			return a.Bytes()
		}, IssueMalformed, "data after STOP"},
		{"payload followed by a broken stream", func() []byte {
			var a pickletest.Asm
			a.Proto(2).Call("os", "system", "id").Op(0xff)
			return a.Bytes()
		}, IssueDangerousGlobal, "os.system('id')"},
		{"broken stream after payload is malformed", func() []byte {
			var a pickletest.Asm
			a.Proto(2).Call("os", "system", "id").Op(0xff)
			return a.Bytes()
		}, IssueMalformed, "unknown opcode 0xff"},
		{"allowed reconstructor made to call os.system", func() []byte {
			var a pickletest.Asm
			a.Proto(2).Global("copyreg", "_reconstructor").Mark().Global("os", "system").Global("builtins", "object").None().Tuple().Reduce().Stop()
			return a.Bytes()
		}, IssueIndirectCall, "copyreg._reconstructor at offset"},
		{"dynamic STACK_GLOBAL", func() []byte {
			var a pickletest.Asm
			a.Proto(4).Global("builtins", "str").Mark().Str("o").Tuple().Reduce().Str("system").Op(opSTACK_GLOBAL).Stop()
			return a.Bytes()
		}, IssueDynamicGlobal, "computed values"},
		{"BUILD monkey-patches a class", func() []byte {
			var a pickletest.Asm
			a.Proto(2).Global("collections", "OrderedDict").EmptyDict().Str("__reduce__").None().Setitem().Build().Stop()
			return a.Bytes()
		}, IssueMutation, "modifies collections.OrderedDict itself"},
		{"BUILD sets a dunder attribute on an allowed object", func() []byte {
			var a pickletest.Asm
			a.Proto(2).Global("collections", "OrderedDict").Op(opEMPTY_TUPLE).Reduce().EmptyDict().Str("__class__").None().Setitem().Build().Stop()
			return a.Bytes()
		}, IssueMutation, "sets __class__"},
		{"INST runs a dangerous global", func() []byte {
			var a pickletest.Asm
			a.Mark().Str("id")
			a.WriteByte(opINST)
			a.WriteString("subprocess\nPopen\n")
			return a.Stop().Bytes()
		}, IssueDangerousGlobal, "subprocess.Popen('id')"},
		{"OBJ runs a dangerous global", func() []byte {
			var a pickletest.Asm
			return a.Mark().Global("os", "system").Str("id").Op(opOBJ).Stop().Bytes()
		}, IssueDangerousGlobal, "os.system('id')"},
		{"nested torch loader", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Call("torch.storage", "_load_from_bytes", "x").Stop().Bytes()
		}, IssueDangerousGlobal, "torch.storage._load_from_bytes"},
		{"unknown global", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Call("sklearn.linear_model", "LogisticRegression").Stop().Bytes()
		}, IssueUnknownGlobal, "not on the torch allow-list"},
		{"persistent id that is not a storage reference", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Str("x").Op(opBINPERSID).Stop().Bytes()
		}, IssuePersistentID, "not a 5-tuple"},
		{"truncated stream", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Str("abc").Bytes()[:5]
		}, IssueMalformed, "truncated"},
		{"stack underflow", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Reduce().None().Stop().Bytes()
		}, IssueMalformed, "stack underflow at REDUCE"},
		{"memo GET of an undefined index", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Binget(7).Stop().Bytes()
		}, IssueMalformed, "never PUT"},
		{"values left on the stack", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).None().None().Stop().Bytes()
		}, IssueMalformed, "leaves 1 value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := analyze(c.src(), KindTorch)
			if !has(res, c.kind, c.contains) {
				t.Errorf("want %s containing %q, got:", c.kind, c.contains)
				for _, is := range res.Issues {
					t.Logf("  %s: %s", is.Kind, is.Message)
				}
			}
		})
	}
}

// Look-alikes that must not be reported.
func TestBenignLookAlikes(t *testing.T) {
	cases := []struct {
		name string
		src  func() []byte
		kind Kind
	}{
		{"torch state dict", func() []byte { return pickletest.TorchStateDict(50) }, KindTorch},
		{"plain data with allowed builtins", func() []byte {
			var a pickletest.Asm
			a.Proto(2).Mark()
			a.Global("builtins", "set").Mark().Mark().Int(1).Op(opLIST).Tuple().Reduce()
			a.Global("_codecs", "encode").Mark().Str("abc").Str("latin1").Tuple().Reduce()
			a.Global("__builtin__", "frozenset").Op(opEMPTY_TUPLE).Reduce()
			a.Global("builtins", "complex").Mark().Int(1).Int(2).Tuple().Reduce()
			a.Op(opLIST).Stop()
			return a.Bytes()
		}, KindPlain},
		{"a string that names os.system is data", func() []byte {
			var a pickletest.Asm
			return a.Proto(4).Str("os").Str("system").Tuple2().Stop().Bytes()
		}, KindPlain},
		{"dotted module name is not a dotted attribute", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Global("torch._utils", "_rebuild_tensor_v2").Op(opPOP).None().Stop().Bytes()
		}, KindTorch},
		{"reconstructor of an allowed class", func() []byte {
			var a pickletest.Asm
			a.Proto(2).Global("copyreg", "_reconstructor").Mark().Global("collections", "OrderedDict").Global("builtins", "object").None().Tuple().Reduce().Stop()
			return a.Bytes()
		}, KindPlain},
		{"defaultdict without factory", func() []byte {
			var a pickletest.Asm
			return a.Proto(2).Global("collections", "defaultdict").None().Tuple1().Reduce().Stop().Bytes()
		}, KindPlain},
		{"frames that match their opcodes", func() []byte {
			var inner pickletest.Asm
			inner.Call("builtins", "set").Stop()
			var a pickletest.Asm
			a.Proto(4).Frame(uint64(inner.Len()))
			a.Write(inner.Bytes())
			return a.Bytes()
		}, KindPlain},
		{"memoized values", func() []byte {
			var a pickletest.Asm
			return a.Proto(4).Str("x").Memoize().Op(opPOP).Binget(0).Stop().Bytes()
		}, KindPlain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := analyze(c.src(), c.kind)
			for _, is := range res.Issues {
				t.Errorf("unexpected %s: %s", is.Kind, is.Message)
			}
			if res.Stats.Pickles != 1 {
				t.Errorf("decoded %d pickles", res.Stats.Pickles)
			}
		})
	}
}

func TestTorchGlobalsNeedTorchKind(t *testing.T) {
	res := analyze(pickletest.TorchStateDict(3), KindPlain)
	if !has(res, IssueUnknownGlobal, "torch._utils._rebuild_tensor_v2") || !has(res, IssuePersistentID, "defines none") {
		t.Errorf("a torch pickle under the plain allow-list must be reported: %v", kinds(res))
	}
}

func TestTorchPersistentIDs(t *testing.T) {
	bad := func(id func(a *pickletest.Asm)) []byte {
		var a pickletest.Asm
		a.Proto(2)
		id(&a)
		return a.Op(opBINPERSID).Stop().Bytes()
	}
	for name, src := range map[string][]byte{
		"not storage": bad(func(a *pickletest.Asm) {
			a.Mark().Str("module").Global("torch", "FloatStorage").Str("0").Str("cpu").Int(1).Tuple()
		}),
		"wrong type": bad(func(a *pickletest.Asm) {
			a.Mark().Str("storage").Global("torch", "Size").Str("0").Str("cpu").Int(1).Tuple()
		}),
		"os.system as type": bad(func(a *pickletest.Asm) {
			a.Mark().Str("storage").Global("os", "system").Str("0").Str("cpu").Int(1).Tuple()
		}),
		"short tuple": bad(func(a *pickletest.Asm) { a.Mark().Str("storage").Tuple() }),
	} {
		if res := analyze(src, KindTorch); !has(res, IssuePersistentID, "not a torch storage reference") {
			t.Errorf("%s: %v", name, kinds(res))
		}
	}
}

func TestRenderIsBounded(t *testing.T) {
	var a pickletest.Asm
	a.Proto(2).Global("os", "system").Mark().Str(strings.Repeat("A", 5000)).Tuple().Reduce().Stop()
	res := analyze(a.Bytes(), KindPlain)
	for _, is := range res.Issues {
		if len(is.Message) > 1200 {
			t.Errorf("message of %d bytes", len(is.Message))
		}
		if !strings.Contains(is.Message, "...(5000 bytes)") {
			t.Errorf("truncation not shown: %s", is.Message)
		}
	}
}

func TestLimits(t *testing.T) {
	lim := DefaultLimits
	lim.MaxStack = 10
	var a pickletest.Asm
	a.Proto(2)
	for i := 0; i < 20; i++ {
		a.None()
	}
	a.Stop()
	res := Analyze(bytes.NewReader(a.Bytes()), &Policy{}, lim)
	if !has(res, IssueMalformed, "stack deeper than 10") {
		t.Errorf("stack limit: %v", kinds(res))
	}
	// A huge declared string is skipped, not allocated.
	var b pickletest.Asm
	b.Proto(4).Op(opBINUNICODE8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f)
	res = Analyze(bytes.NewReader(b.Bytes()), &Policy{}, DefaultLimits)
	if !has(res, IssueMalformed, "truncated") {
		t.Errorf("huge string: %v", kinds(res))
	}
}

func TestStrictPolicy(t *testing.T) {
	var a pickletest.Asm
	res := Analyze(bytes.NewReader(a.Proto(2).None().Stop().Bytes()), &Policy{Strict: true}, DefaultLimits)
	if len(res.Issues) != 1 || res.Issues[0].Kind != "strict" {
		t.Errorf("strict: %v", kinds(res))
	}
}

func TestUserAllowList(t *testing.T) {
	var a pickletest.Asm
	src := a.Proto(2).Call("sklearn.linear_model", "LogisticRegression").Call("os", "system", "x").Stop().Bytes()
	res := Analyze(bytes.NewReader(src), &Policy{Allow: []string{"sklearn.*", "os.system"}}, DefaultLimits)
	if has(res, IssueUnknownGlobal, "sklearn") {
		t.Error("allow-list entry not applied")
	}
	if !has(res, IssueDangerousGlobal, "os.system") {
		t.Error("the allow-list must not override the dangerous list")
	}
}
