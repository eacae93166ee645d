package pickle

import (
	"bytes"
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
			var a asm
			return a.proto(2).call("os", "system", "echo pwned").stop().Bytes()
		}, IssueDangerousGlobal, "would run os.system('echo pwned') at offset 2"},
		{"python 2 spelling of builtins", func() []byte {
			var a asm
			return a.call("__builtin__", "eval", "1+1").stop().Bytes()
		}, IssueDangerousGlobal, "__builtin__.eval('1+1') at offset 25 — builtins.eval"},
		{"STACK_GLOBAL dotted name through another module", func() []byte {
			var a asm
			a.proto(4).stackGlobal("pathlib", "os.system").str("id").tuple1().reduce().stop()
			return a.Bytes()
		}, IssueDangerousGlobal, "walks attributes through pathlib"},
		{"importlib + getattr chain", func() []byte {
			var a asm
			a.proto(2)
			a.global("builtins", "getattr")
			a.mark().global("importlib", "import_module").mark().str("os").tuple().reduce().str("system").tuple().reduce()
			a.mark().str("id").tuple().reduce().stop()
			return a.Bytes()
		}, IssueIndirectCall, "calls a value computed while unpickling"},
		{"copyreg extension code", func() []byte {
			var a asm
			return a.proto(2).op(opEXT1, 42).mark().str("id").tuple().reduce().stop().Bytes()
		}, IssueExtension, "extension code 42"},
		{"FRAME whose length hides opcodes", func() []byte {
			var a asm
			a.proto(4).frame(3)
			a.call("os", "system", "id").stop()
			return a.Bytes()
		}, IssueMalformed, "crosses the end of its FRAME"},
		{"second pickle after STOP", func() []byte {
			var a asm
			a.proto(2).none().stop()
			a.proto(2).call("subprocess", "check_output", "id").stop()
			return a.Bytes()
		}, IssueDangerousGlobal, "subprocess.check_output('id')"},
		{"second pickle after STOP is itself reported", func() []byte {
			var a asm
			a.proto(2).none().stop().proto(2).none().stop()
			return a.Bytes()
		}, IssueMalformed, "data after STOP"},
		{"payload followed by a broken stream", func() []byte {
			var a asm
			a.proto(2).call("os", "system", "id").op(0xff)
			return a.Bytes()
		}, IssueDangerousGlobal, "os.system('id')"},
		{"broken stream after payload is malformed", func() []byte {
			var a asm
			a.proto(2).call("os", "system", "id").op(0xff)
			return a.Bytes()
		}, IssueMalformed, "unknown opcode 0xff"},
		{"allowed reconstructor made to call os.system", func() []byte {
			var a asm
			a.proto(2).global("copyreg", "_reconstructor").mark().global("os", "system").global("builtins", "object").none().tuple().reduce().stop()
			return a.Bytes()
		}, IssueIndirectCall, "copyreg._reconstructor at offset"},
		{"dynamic STACK_GLOBAL", func() []byte {
			var a asm
			a.proto(4).global("builtins", "str").mark().str("o").tuple().reduce().str("system").op(opSTACK_GLOBAL).stop()
			return a.Bytes()
		}, IssueDynamicGlobal, "computed values"},
		{"BUILD monkey-patches a class", func() []byte {
			var a asm
			a.proto(2).global("collections", "OrderedDict").emptyDict().str("__reduce__").none().setitem().build().stop()
			return a.Bytes()
		}, IssueMutation, "modifies collections.OrderedDict itself"},
		{"BUILD sets a dunder attribute on an allowed object", func() []byte {
			var a asm
			a.proto(2).global("collections", "OrderedDict").op(opEMPTY_TUPLE).reduce().emptyDict().str("__class__").none().setitem().build().stop()
			return a.Bytes()
		}, IssueMutation, "sets __class__"},
		{"INST runs a dangerous global", func() []byte {
			var a asm
			a.mark().str("id")
			a.WriteByte(opINST)
			a.WriteString("subprocess\nPopen\n")
			return a.stop().Bytes()
		}, IssueDangerousGlobal, "subprocess.Popen('id')"},
		{"OBJ runs a dangerous global", func() []byte {
			var a asm
			return a.mark().global("os", "system").str("id").op(opOBJ).stop().Bytes()
		}, IssueDangerousGlobal, "os.system('id')"},
		{"nested torch loader", func() []byte {
			var a asm
			return a.proto(2).call("torch.storage", "_load_from_bytes", "x").stop().Bytes()
		}, IssueDangerousGlobal, "torch.storage._load_from_bytes"},
		{"unknown global", func() []byte {
			var a asm
			return a.proto(2).call("sklearn.linear_model", "LogisticRegression").stop().Bytes()
		}, IssueUnknownGlobal, "not on the torch allow-list"},
		{"persistent id that is not a storage reference", func() []byte {
			var a asm
			return a.proto(2).str("x").op(opBINPERSID).stop().Bytes()
		}, IssuePersistentID, "not a 5-tuple"},
		{"truncated stream", func() []byte {
			var a asm
			return a.proto(2).str("abc").Bytes()[:5]
		}, IssueMalformed, "truncated"},
		{"stack underflow", func() []byte {
			var a asm
			return a.proto(2).reduce().none().stop().Bytes()
		}, IssueMalformed, "stack underflow at REDUCE"},
		{"memo GET of an undefined index", func() []byte {
			var a asm
			return a.proto(2).binget(7).stop().Bytes()
		}, IssueMalformed, "never PUT"},
		{"values left on the stack", func() []byte {
			var a asm
			return a.proto(2).none().none().stop().Bytes()
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
		{"torch state dict", func() []byte { return torchStateDict(50) }, KindTorch},
		{"plain data with allowed builtins", func() []byte {
			var a asm
			a.proto(2).mark()
			a.global("builtins", "set").mark().mark().int(1).op(opLIST).tuple().reduce()
			a.global("_codecs", "encode").mark().str("abc").str("latin1").tuple().reduce()
			a.global("__builtin__", "frozenset").op(opEMPTY_TUPLE).reduce()
			a.global("builtins", "complex").mark().int(1).int(2).tuple().reduce()
			a.op(opLIST).stop()
			return a.Bytes()
		}, KindPlain},
		{"a string that names os.system is data", func() []byte {
			var a asm
			return a.proto(4).str("os").str("system").tuple2().stop().Bytes()
		}, KindPlain},
		{"dotted module name is not a dotted attribute", func() []byte {
			var a asm
			return a.proto(2).global("torch._utils", "_rebuild_tensor_v2").op(opPOP).none().stop().Bytes()
		}, KindTorch},
		{"reconstructor of an allowed class", func() []byte {
			var a asm
			a.proto(2).global("copyreg", "_reconstructor").mark().global("collections", "OrderedDict").global("builtins", "object").none().tuple().reduce().stop()
			return a.Bytes()
		}, KindPlain},
		{"defaultdict without factory", func() []byte {
			var a asm
			return a.proto(2).global("collections", "defaultdict").none().tuple1().reduce().stop().Bytes()
		}, KindPlain},
		{"frames that match their opcodes", func() []byte {
			var inner asm
			inner.call("builtins", "set").stop()
			var a asm
			a.proto(4).frame(uint64(inner.Len()))
			a.Write(inner.Bytes())
			return a.Bytes()
		}, KindPlain},
		{"memoized values", func() []byte {
			var a asm
			return a.proto(4).str("x").memoize().op(opPOP).binget(0).stop().Bytes()
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
	res := analyze(torchStateDict(3), KindPlain)
	if !has(res, IssueUnknownGlobal, "torch._utils._rebuild_tensor_v2") || !has(res, IssuePersistentID, "defines none") {
		t.Errorf("a torch pickle under the plain allow-list must be reported: %v", kinds(res))
	}
}

func TestTorchPersistentIDs(t *testing.T) {
	bad := func(id func(a *asm)) []byte {
		var a asm
		a.proto(2)
		id(&a)
		return a.op(opBINPERSID).stop().Bytes()
	}
	for name, src := range map[string][]byte{
		"not storage": bad(func(a *asm) {
			a.mark().str("module").global("torch", "FloatStorage").str("0").str("cpu").int(1).tuple()
		}),
		"wrong type":        bad(func(a *asm) { a.mark().str("storage").global("torch", "Size").str("0").str("cpu").int(1).tuple() }),
		"os.system as type": bad(func(a *asm) { a.mark().str("storage").global("os", "system").str("0").str("cpu").int(1).tuple() }),
		"short tuple":       bad(func(a *asm) { a.mark().str("storage").tuple() }),
	} {
		if res := analyze(src, KindTorch); !has(res, IssuePersistentID, "not a torch storage reference") {
			t.Errorf("%s: %v", name, kinds(res))
		}
	}
}

func TestRenderIsBounded(t *testing.T) {
	var a asm
	a.proto(2).global("os", "system").mark().str(strings.Repeat("A", 5000)).tuple().reduce().stop()
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
	var a asm
	a.proto(2)
	for i := 0; i < 20; i++ {
		a.none()
	}
	a.stop()
	res := Analyze(bytes.NewReader(a.Bytes()), &Policy{}, lim)
	if !has(res, IssueMalformed, "stack deeper than 10") {
		t.Errorf("stack limit: %v", kinds(res))
	}
	// A huge declared string is skipped, not allocated.
	var b asm
	b.proto(4).op(opBINUNICODE8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f)
	res = Analyze(bytes.NewReader(b.Bytes()), &Policy{}, DefaultLimits)
	if !has(res, IssueMalformed, "truncated") {
		t.Errorf("huge string: %v", kinds(res))
	}
}

func TestStrictPolicy(t *testing.T) {
	var a asm
	res := Analyze(bytes.NewReader(a.proto(2).none().stop().Bytes()), &Policy{Strict: true}, DefaultLimits)
	if len(res.Issues) != 1 || res.Issues[0].Kind != "strict" {
		t.Errorf("strict: %v", kinds(res))
	}
}

func TestUserAllowList(t *testing.T) {
	var a asm
	src := a.proto(2).call("sklearn.linear_model", "LogisticRegression").call("os", "system", "x").stop().Bytes()
	res := Analyze(bytes.NewReader(src), &Policy{Allow: []string{"sklearn.*", "os.system"}}, DefaultLimits)
	if has(res, IssueUnknownGlobal, "sklearn") {
		t.Error("allow-list entry not applied")
	}
	if !has(res, IssueDangerousGlobal, "os.system") {
		t.Error("the allow-list must not override the dangerous list")
	}
}
