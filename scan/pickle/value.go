package pickle

import (
	"fmt"
	"strconv"
	"strings"
)

// Value is a symbolic value on the pickle VM's stack. Nothing is ever
// constructed or called: a call is represented by a *Call that records what
// would have been invoked.
type Value interface{ isValue() }

// Scalar values.
type (
	// None is Python's None.
	None struct{}
	// Bool is True or False.
	Bool bool
	// Int is an integer; Text holds its decimal form when it does not fit in
	// 64 bits (LONG, LONG1, LONG4).
	Int struct {
		V    int64
		Text string
	}
	// Float is a float.
	Float float64
	// Str is a text string; only a prefix is kept (see maxKeep) and Len is
	// the full length in bytes.
	Str struct {
		S   string
		Len int64
	}
	// Bytes is a bytes or bytearray object; only a prefix is kept.
	Bytes struct {
		B     string
		Len   int64
		Array bool
	}
	// Buffer is an out-of-band buffer (protocol 5 NEXT_BUFFER).
	Buffer struct{}
)

// Seq is a tuple, list, set or frozenset. Items keeps the first maxItems
// elements; Len counts them all.
type Seq struct {
	Kind  SeqKind
	Items []Value
	Len   int
	// small backs Items for short containers (most tuples are), so a
	// tuple costs one allocation instead of two.
	small [6]Value
}

// SeqKind says which Python container a Seq is.
type SeqKind uint8

// Sequence kinds.
const (
	Tuple SeqKind = iota
	List
	Set
	FrozenSet
)

// Dict is a dict; Keys and Vals keep the first maxItems pairs.
type Dict struct {
	Keys, Vals []Value
	Len        int
}

// Global is a reference to a module attribute: what GLOBAL, INST and
// STACK_GLOBAL resolve by importing Module and looking up Name.
type Global struct {
	Module, Name string
	Offset       int64
	// Dynamic is set when STACK_GLOBAL's operands were not string constants,
	// so the real target cannot be known without running the pickle.
	Dynamic bool
	// Ext is the copyreg extension code (EXT1/2/4) that named it, if any.
	Ext int64

	q string // resolved module.name, computed once (memoized globals are reused)
}

// Call is the result of invoking Func with Args: REDUCE, NEWOBJ(_EX), INST
// and OBJ produce one. It is what the pickle would run.
type Call struct {
	Func   Value
	Args   Value
	Kwargs Value
	Op     string
	Offset int64
	// State is set when BUILD applied state to the object.
	State Value
}

// Persistent is an object the unpickler's persistent_load resolves from ID.
type Persistent struct {
	ID     Value
	Offset int64
}

func (None) isValue()        {}
func (Bool) isValue()        {}
func (Int) isValue()         {}
func (Float) isValue()       {}
func (Str) isValue()         {}
func (Bytes) isValue()       {}
func (Buffer) isValue()      {}
func (*Seq) isValue()        {}
func (*Dict) isValue()       {}
func (*Global) isValue()     {}
func (*Call) isValue()       {}
func (*Persistent) isValue() {}

// QualName is "module.name".
func (g *Global) QualName() string { return g.Module + "." + g.Name }

// Render writes v as Python-like source, bounded in depth and length, so a
// finding can say exactly what would run: os.system('echo pwned').
func Render(v Value) string {
	var b strings.Builder
	render(&b, v, 0)
	s := b.String()
	if len(s) > maxRender {
		s = s[:maxRender] + "..."
	}
	return s
}

const (
	maxRender = 400
	maxDepth  = 6
)

func render(b *strings.Builder, v Value, depth int) {
	if b.Len() > maxRender {
		return
	}
	if depth > maxDepth {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("?")
	case None:
		b.WriteString("None")
	case Bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case Int:
		if x.Text != "" {
			b.WriteString(x.Text)
		} else {
			b.WriteString(strconv.FormatInt(x.V, 10))
		}
	case Float:
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 64))
	case Str:
		b.WriteString(pyQuote(x.S, x.Len))
	case Bytes:
		if x.Array {
			b.WriteString("bytearray(")
		}
		b.WriteString("b" + pyQuote(x.B, x.Len))
		if x.Array {
			b.WriteString(")")
		}
	case Buffer:
		b.WriteString("<out-of-band buffer>")
	case *Global:
		if x.Ext != 0 {
			fmt.Fprintf(b, "<copyreg extension %d>", x.Ext)
			return
		}
		if x.Dynamic {
			b.WriteString("<dynamic global>")
			return
		}
		b.WriteString(x.QualName())
	case *Call:
		render(b, x.Func, depth+1)
		b.WriteString("(")
		if args, ok := x.Args.(*Seq); ok && args.Kind == Tuple {
			renderItems(b, args.Items, args.Len, depth)
		} else if x.Args != nil {
			b.WriteString("*")
			render(b, x.Args, depth+1)
		}
		if x.Kwargs != nil {
			b.WriteString(", **")
			render(b, x.Kwargs, depth+1)
		}
		b.WriteString(")")
	case *Persistent:
		b.WriteString("persistent_load(")
		render(b, x.ID, depth+1)
		b.WriteString(")")
	case *Seq:
		open, close := "(", ")"
		switch x.Kind {
		case List:
			open, close = "[", "]"
		case Set:
			open, close = "{", "}"
			if x.Len == 0 {
				open, close = "set(", ")"
			}
		case FrozenSet:
			open, close = "frozenset({", "})"
		}
		b.WriteString(open)
		renderItems(b, x.Items, x.Len, depth)
		if x.Kind == Tuple && x.Len == 1 {
			b.WriteString(",")
		}
		b.WriteString(close)
	case *Dict:
		b.WriteString("{")
		for i := range x.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			render(b, x.Keys[i], depth+1)
			b.WriteString(": ")
			render(b, x.Vals[i], depth+1)
			if b.Len() > maxRender {
				return
			}
		}
		if x.Len > len(x.Keys) {
			fmt.Fprintf(b, ", ...%d more", x.Len-len(x.Keys))
		}
		b.WriteString("}")
	default:
		b.WriteString("?")
	}
}

func renderItems(b *strings.Builder, items []Value, n, depth int) {
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		render(b, it, depth+1)
		if b.Len() > maxRender {
			return
		}
	}
	if n > len(items) {
		fmt.Fprintf(b, ", ...%d more", n-len(items))
	}
}

// pyQuote renders s as a single-quoted Python literal, noting truncation.
func pyQuote(s string, full int64) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	if full > int64(len(s)) {
		fmt.Fprintf(&b, "...(%d bytes)", full)
	}
	b.WriteByte('\'')
	return b.String()
}
