// Package pickle analyzes Python pickle streams without executing them.
//
// A symbolic VM decodes every opcode of protocols 0 to 5 and simulates the
// unpickler's stack and memo with symbolic values. Where the real unpickler
// would import a module attribute (GLOBAL, STACK_GLOBAL, INST, EXT*) or call
// something (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ, and the method calls that
// BUILD, APPEND(S), SETITEM(S) and ADDITEMS make on non-builtin objects),
// the VM reports an event to an Observer instead, with the byte offset. It
// never imports, calls or loads anything.
//
// Malformed input is reported, not fatal: truncation, unknown opcodes,
// stack underflow, memo misuse, FRAME length mismatches and data after
// STOP are Problems, and decoding continues where the byte stream still
// allows it. All state is bounded (Limits).
package pickle

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Limits bound the VM's memory and work on hostile input.
type Limits struct {
	MaxStack  int   // values on the stack
	MaxMarks  int   // nested MARKs
	MaxMemo   int   // memo entries
	MaxLine   int   // bytes in a text-opcode argument line
	MaxBytes  int64 // total bytes read (0: unlimited)
	MaxKeep   int   // bytes of a string kept for reporting
	MaxItems  int   // container items kept for reporting
	MaxPickle int   // pickles decoded from one stream (0: until EOF)
}

// DefaultLimits are generous for real checkpoints and small enough to keep
// memory bounded on hostile files.
var DefaultLimits = Limits{
	MaxStack: 1 << 20,
	MaxMarks: 1 << 16,
	MaxMemo:  1 << 22,
	MaxLine:  1 << 16,
	MaxKeep:  256,
	MaxItems: 64,
}

// Problem is something malformed in the stream.
type Problem struct {
	Offset int64
	Msg    string
}

// Mutation is a BUILD, APPEND(S), SETITEM(S) or ADDITEMS applied to a value
// that is not a plain container: the unpickler then calls a method of the
// target (__setstate__, append, extend, __setitem__, add) or writes its
// __dict__, which is code execution or state tampering when the target is
// not what it seems.
type Mutation struct {
	Op     string
	Target Value
	Arg    Value
	Offset int64
}

// Observer receives the VM's events. Implementations decide policy.
type Observer interface {
	Global(g *Global)
	Call(c *Call)
	Mutation(m *Mutation)
	Persistent(p *Persistent)
	Problem(p Problem)
}

// Payload tells the VM about raw data a format writes into the pickle
// stream after a BUILD (joblib writes NumPy array bytes, or a nested pickle
// for object arrays, right after each NumpyArrayWrapper).
type Payload struct {
	Skip      int64  // raw bytes to skip
	AlignByte bool   // a 1-byte padding length, then that much padding, comes first
	Nested    bool   // a complete nested pickle follows
	Problem   string // the payload's size cannot be determined: decoding stops
}

// PayloadHook is implemented by observers that recognise such formats.
type PayloadHook interface {
	AfterBuild(target, state Value) (Payload, bool)
}

// Stats summarises a decoded stream.
type Stats struct {
	Pickles  int   // complete pickles (ended by STOP)
	Protocol int   // highest PROTO seen
	Opcodes  int64 // opcodes decoded
	End      int64 // offset just after the last STOP (or where decoding stopped)
	Complete bool  // the stream ended cleanly after a STOP
}

// Run decodes pickles from r, reporting events to obs, until EOF (or
// Limits.MaxPickle pickles). More than one pickle in the stream is itself a
// Problem unless MaxPickle allows it.
func Run(r io.Reader, lim Limits, obs Observer) Stats {
	return run(r, lim, obs, nil)
}

// RunTwoPass is Run for a stream that can be read twice. A first, cheap pass
// only notes which memo indices the stream ever fetches (GET, BINGET,
// LONG_BINGET); the decoding pass then keeps only those memo entries. A
// checkpoint memoizes every string, tuple and call but fetches a handful of
// them back, so this keeps memory flat however many tensors it holds.
func RunTwoPass(open func() (io.ReadCloser, error), lim Limits, obs Observer) (Stats, error) {
	r, err := open()
	if err != nil {
		return Stats{}, err
	}
	gets, ok := memoGets(r, lim)
	r.Close()
	if !ok {
		gets = nil // the stream embeds raw payloads: keep every memo entry
	}
	r, err = open()
	if err != nil {
		return Stats{}, err
	}
	defer r.Close()
	return run(r, lim, obs, gets), nil
}

func run(r io.Reader, lim Limits, obs Observer, gets *indexSet) Stats {
	vm := &machine{r: bufio.NewReaderSize(r, 64<<10), lim: lim, obs: obs, gets: gets}
	vm.run()
	return vm.stats
}

type machine struct {
	r     *bufio.Reader
	off   int64
	lim   Limits
	obs   Observer
	stats Stats

	stack []Value
	marks []int
	memo  map[int64]Value

	frameEnd int64 // end offset of the current FRAME; 0 when none
	stopped  bool  // a fatal problem ended decoding

	// gets, when set, lists the memo indices the stream fetches; only those
	// are stored. memoNext counts MEMOIZE indices either way.
	gets     *indexSet
	memoNext int64
	scratch  [16]byte
	depth    int   // nested pickles (joblib object arrays)
	opEnd    int64 // end of the current opcode when a payload followed it
}

var errStop = errors.New("stop")

// newCall returns a Call of fn with args.
func (m *machine) newCall(fn, args Value, op string, start int64) *Call {
	return &Call{Func: fn, Args: args, Op: op, Offset: start}
}

func (m *machine) problem(off int64, format string, args ...any) {
	m.obs.Problem(Problem{Offset: off, Msg: fmt.Sprintf(format, args...)})
}

// fatal records a problem that ends decoding.
func (m *machine) fatal(off int64, format string, args ...any) error {
	m.problem(off, format, args...)
	m.stopped = true
	return errStop
}

func (m *machine) run() {
	for {
		if m.lim.MaxPickle > 0 && m.stats.Pickles >= m.lim.MaxPickle {
			return
		}
		if _, err := m.r.Peek(1); err != nil {
			if m.stats.Pickles == 0 {
				m.problem(m.off, "empty stream: no pickle")
			}
			m.stats.Complete = m.stats.Pickles > 0
			return
		}
		if m.stats.Pickles > 0 && m.lim.MaxPickle == 0 {
			m.problem(m.off, "data after STOP: another pickle (or hidden payload) follows the first one")
		}
		m.stack = m.stack[:0]
		m.marks = m.marks[:0]
		m.memo = map[int64]Value{}
		m.memoNext = 0
		m.frameEnd = 0
		if err := m.one(); err != nil {
			return
		}
	}
}

// one decodes a single pickle up to its STOP.
func (m *machine) one() error {
	for {
		start := m.off
		op, err := m.r.ReadByte()
		if err != nil {
			if m.frameEnd > m.off {
				return m.fatal(start, "truncated: stream ends inside a FRAME that declared %d more bytes", m.frameEnd-m.off)
			}
			return m.fatal(start, "truncated: stream ends before STOP")
		}
		m.off++
		m.stats.Opcodes++
		if m.lim.MaxBytes > 0 && m.off > m.lim.MaxBytes {
			return m.fatal(start, "stream is longer than the %d-byte limit", m.lim.MaxBytes)
		}
		if err := m.step(op, start); err != nil {
			return err
		}
		end := m.off
		if m.opEnd > 0 {
			end, m.opEnd = m.opEnd, 0 // raw payload after the opcode is not part of it
		}
		if m.frameEnd > 0 && end > m.frameEnd && start < m.frameEnd {
			m.problem(start, "opcode %s crosses the end of its FRAME (frame ends at offset %d): unpicklers disagree on such streams", opName(op), m.frameEnd)
		}
		if op == opSTOP {
			if m.frameEnd > m.off {
				m.problem(start, "STOP inside a FRAME that declared %d more bytes", m.frameEnd-m.off)
			}
			return nil
		}
	}
}

// Opcodes.
const (
	opMARK            = '('
	opSTOP            = '.'
	opPOP             = '0'
	opPOP_MARK        = '1'
	opDUP             = '2'
	opFLOAT           = 'F'
	opINT             = 'I'
	opBININT          = 'J'
	opBININT1         = 'K'
	opLONG            = 'L'
	opBININT2         = 'M'
	opNONE            = 'N'
	opPERSID          = 'P'
	opBINPERSID       = 'Q'
	opREDUCE          = 'R'
	opSTRING          = 'S'
	opBINSTRING       = 'T'
	opSHORT_BINSTRING = 'U'
	opUNICODE         = 'V'
	opBINUNICODE      = 'X'
	opAPPEND          = 'a'
	opBUILD           = 'b'
	opGLOBAL          = 'c'
	opDICT            = 'd'
	opEMPTY_DICT      = '}'
	opAPPENDS         = 'e'
	opGET             = 'g'
	opBINGET          = 'h'
	opINST            = 'i'
	opLONG_BINGET     = 'j'
	opLIST            = 'l'
	opEMPTY_LIST      = ']'
	opOBJ             = 'o'
	opPUT             = 'p'
	opBINPUT          = 'q'
	opLONG_BINPUT     = 'r'
	opSETITEM         = 's'
	opTUPLE           = 't'
	opEMPTY_TUPLE     = ')'
	opSETITEMS        = 'u'
	opBINFLOAT        = 'G'
	opPROTO           = 0x80
	opNEWOBJ          = 0x81
	opEXT1            = 0x82
	opEXT2            = 0x83
	opEXT4            = 0x84
	opTUPLE1          = 0x85
	opTUPLE2          = 0x86
	opTUPLE3          = 0x87
	opNEWTRUE         = 0x88
	opNEWFALSE        = 0x89
	opLONG1           = 0x8a
	opLONG4           = 0x8b
	opBINBYTES        = 'B'
	opSHORT_BINBYTES  = 'C'
	opSHORT_BINUNI    = 0x8c
	opBINUNICODE8     = 0x8d
	opBINBYTES8       = 0x8e
	opEMPTY_SET       = 0x8f
	opADDITEMS        = 0x90
	opFROZENSET       = 0x91
	opNEWOBJ_EX       = 0x92
	opSTACK_GLOBAL    = 0x93
	opMEMOIZE         = 0x94
	opFRAME           = 0x95
	opBYTEARRAY8      = 0x96
	opNEXT_BUFFER     = 0x97
	opREADONLY_BUFFER = 0x98
)

var opNames = map[byte]string{
	opMARK: "MARK", opSTOP: "STOP", opPOP: "POP", opPOP_MARK: "POP_MARK", opDUP: "DUP", opFLOAT: "FLOAT",
	opINT: "INT", opBININT: "BININT", opBININT1: "BININT1", opLONG: "LONG", opBININT2: "BININT2", opNONE: "NONE",
	opPERSID: "PERSID", opBINPERSID: "BINPERSID", opREDUCE: "REDUCE", opSTRING: "STRING", opBINSTRING: "BINSTRING",
	opSHORT_BINSTRING: "SHORT_BINSTRING", opUNICODE: "UNICODE", opBINUNICODE: "BINUNICODE", opAPPEND: "APPEND",
	opBUILD: "BUILD", opGLOBAL: "GLOBAL", opDICT: "DICT", opEMPTY_DICT: "EMPTY_DICT", opAPPENDS: "APPENDS",
	opGET: "GET", opBINGET: "BINGET", opINST: "INST", opLONG_BINGET: "LONG_BINGET", opLIST: "LIST",
	opEMPTY_LIST: "EMPTY_LIST", opOBJ: "OBJ", opPUT: "PUT", opBINPUT: "BINPUT", opLONG_BINPUT: "LONG_BINPUT",
	opSETITEM: "SETITEM", opTUPLE: "TUPLE", opEMPTY_TUPLE: "EMPTY_TUPLE", opSETITEMS: "SETITEMS",
	opBINFLOAT: "BINFLOAT", opPROTO: "PROTO", opNEWOBJ: "NEWOBJ", opEXT1: "EXT1", opEXT2: "EXT2", opEXT4: "EXT4",
	opTUPLE1: "TUPLE1", opTUPLE2: "TUPLE2", opTUPLE3: "TUPLE3", opNEWTRUE: "NEWTRUE", opNEWFALSE: "NEWFALSE",
	opLONG1: "LONG1", opLONG4: "LONG4", opBINBYTES: "BINBYTES", opSHORT_BINBYTES: "SHORT_BINBYTES",
	opSHORT_BINUNI: "SHORT_BINUNICODE", opBINUNICODE8: "BINUNICODE8", opBINBYTES8: "BINBYTES8",
	opEMPTY_SET: "EMPTY_SET", opADDITEMS: "ADDITEMS", opFROZENSET: "FROZENSET", opNEWOBJ_EX: "NEWOBJ_EX",
	opSTACK_GLOBAL: "STACK_GLOBAL", opMEMOIZE: "MEMOIZE", opFRAME: "FRAME", opBYTEARRAY8: "BYTEARRAY8",
	opNEXT_BUFFER: "NEXT_BUFFER", opREADONLY_BUFFER: "READONLY_BUFFER",
}

// IsOpcode reports whether b is a pickle opcode of protocols 0-5.
func IsOpcode(b byte) bool { return opTable[b] }

// opTable and argTable are opNames and argLen as arrays, for the hot loop
// of the first pass.
var (
	opTable  [256]bool
	argTable [256]int
)

func init() {
	for op := range opNames {
		opTable[op] = true
	}
	for op, n := range argLen {
		argTable[op] = n
	}
}

func opName(op byte) string {
	if n := opNameTable[op]; n != "" {
		return n
	}
	return fmt.Sprintf("0x%02x", op)
}

// opNameTable is opNames as an array: opName is called for every opcode.
var opNameTable = func() (t [256]string) {
	for op, n := range opNames {
		t[op] = n
	}
	return t
}()

// --- reading arguments -----------------------------------------------------

func (m *machine) read(n int, start int64, what string) ([]byte, error) {
	// Fast path: the bytes are buffered. The slice points into the reader's
	// buffer and, like scratch, is valid until the next read.
	if n <= m.r.Buffered() {
		b, _ := m.r.Peek(n)
		m.r.Discard(n)
		m.off += int64(n)
		return b, nil
	}
	var b []byte
	if n <= len(m.scratch) {
		b = m.scratch[:n] // fixed-size arguments: valid until the next read
	} else {
		b = make([]byte, n)
	}
	k, err := io.ReadFull(m.r, b)
	m.off += int64(k)
	if err != nil {
		return nil, m.fatal(start, "truncated: %s needs %d bytes, %d left", what, n, k)
	}
	return b, nil
}

func (m *machine) u8(start int64, what string) (uint64, error) {
	b, err := m.read(1, start, what)
	if err != nil {
		return 0, err
	}
	return uint64(b[0]), nil
}

func (m *machine) u16(start int64, what string) (uint64, error) {
	b, err := m.read(2, start, what)
	if err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint16(b)), nil
}

func (m *machine) u32(start int64, what string) (uint64, error) {
	b, err := m.read(4, start, what)
	if err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint32(b)), nil
}

func (m *machine) u64(start int64, what string) (uint64, error) {
	b, err := m.read(8, start, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// line reads a text argument up to '\n' (not included), bounded.
func (m *machine) line(start int64, what string) (string, error) {
	var b []byte
	for {
		chunk, err := m.r.ReadSlice('\n')
		m.off += int64(len(chunk))
		b = append(b, chunk...)
		if len(b) > m.lim.MaxLine {
			return "", m.fatal(start, "%s argument is longer than %d bytes", what, m.lim.MaxLine)
		}
		if err == nil {
			return string(b[:len(b)-1]), nil
		}
		if err != bufio.ErrBufferFull {
			return "", m.fatal(start, "truncated: %s argument has no terminating newline", what)
		}
	}
}

// blob reads a length-prefixed payload, keeping at most MaxKeep bytes and
// skipping the rest without holding it in memory.
func (m *machine) blob(n uint64, start int64, what string) (string, int64, error) {
	if n > math.MaxInt64/2 {
		return "", 0, m.fatal(start, "%s declares an impossible length %d", what, n)
	}
	keep := min(int(min(n, uint64(m.lim.MaxKeep))), m.lim.MaxKeep)
	b, err := m.read(keep, start, what)
	if err != nil {
		return "", 0, err
	}
	rest := int64(n) - int64(keep)
	if rest > 0 {
		if m.lim.MaxBytes > 0 && m.off+rest > m.lim.MaxBytes {
			return "", 0, m.fatal(start, "%s of %d bytes exceeds the %d-byte stream limit", what, n, m.lim.MaxBytes)
		}
		var k int64
		for k < rest {
			d, err := m.r.Discard(int(min(rest-k, 1<<30)))
			k += int64(d)
			if err != nil {
				m.off += k
				return "", 0, m.fatal(start, "truncated: %s declares %d bytes, %d left", what, n, int64(keep)+k)
			}
		}
		m.off += k
	}
	return string(b), int64(n), nil
}

// --- stack -------------------------------------------------------------

func (m *machine) push(v Value, start int64) error {
	if len(m.stack) >= m.lim.MaxStack {
		return m.fatal(start, "stack deeper than %d values", m.lim.MaxStack)
	}
	m.stack = append(m.stack, v)
	return nil
}

// pop removes the top value. Underflow (or reaching a MARK) is a problem;
// decoding goes on with an unknown value.
func (m *machine) pop(start int64, op byte) Value {
	v := m.top(start, op)
	if v != nil || len(m.stack) > m.floor() {
		m.stack = m.stack[:len(m.stack)-1]
	}
	return v
}

// top returns the top value without removing it (nil, and a problem, on
// underflow).
func (m *machine) top(start int64, op byte) Value {
	if len(m.stack) <= m.floor() {
		m.problem(start, "stack underflow at %s", opName(op))
		return nil
	}
	return m.stack[len(m.stack)-1]
}

// floor is the stack height at the innermost MARK.
func (m *machine) floor() int {
	if len(m.marks) > 0 {
		return m.marks[len(m.marks)-1]
	}
	return 0
}

// popMark removes and returns the values above the innermost MARK.
func (m *machine) popMark(start int64, op byte) []Value {
	if len(m.marks) == 0 {
		m.problem(start, "%s without a MARK", opName(op))
		items := m.stack
		m.stack = nil
		return items
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	if k > len(m.stack) {
		k = len(m.stack)
	}
	items := make([]Value, len(m.stack)-k)
	copy(items, m.stack[k:])
	clear(m.stack[k:])
	m.stack = m.stack[:k]
	return items
}

// markSeq pops the items above the innermost MARK into a new container of
// kind, keeping at most MaxItems of them.
func (m *machine) markSeq(kind SeqKind, start int64, op byte) *Seq {
	k := 0
	if len(m.marks) == 0 {
		m.problem(start, "%s without a MARK", opName(op))
	} else {
		k = min(m.marks[len(m.marks)-1], len(m.stack))
		m.marks = m.marks[:len(m.marks)-1]
	}
	src := m.stack[k:]
	s := &Seq{Kind: kind, Len: len(src)}
	keep := min(len(src), m.lim.MaxItems)
	if keep <= len(s.small) {
		s.Items = s.small[:keep]
	} else {
		s.Items = make([]Value, keep)
	}
	copy(s.Items, src)
	clear(src)
	m.stack = m.stack[:k]
	return s
}

// seq makes a container of items, keeping at most MaxItems of them; it
// takes ownership of items (callers pass a fresh slice).
func (m *machine) seq(kind SeqKind, items []Value) *Seq {
	s := &Seq{Kind: kind, Len: len(items)}
	if len(items) > m.lim.MaxItems {
		items = append([]Value(nil), items[:m.lim.MaxItems]...)
	}
	s.Items = items
	return s
}

// emptyTuple is shared: tuples are immutable, and mutations of a tuple are
// reported, never applied.
var emptyTuple = &Seq{Kind: Tuple}

func (m *machine) appendItems(s *Seq, items []Value) {
	s.Len += len(items)
	if room := m.lim.MaxItems - len(s.Items); room > 0 {
		s.Items = append(s.Items, items[:min(room, len(items))]...)
	}
}

func (m *machine) setItems(d *Dict, kv []Value) {
	for i := 0; i+1 < len(kv); i += 2 {
		d.Len++
		if len(d.Keys) < m.lim.MaxItems {
			d.Keys = append(d.Keys, kv[i])
			d.Vals = append(d.Vals, kv[i+1])
		}
	}
}

func (m *machine) memoPut(idx int64, v Value, start int64) error {
	if idx < 0 {
		m.problem(start, "negative memo index %d", idx)
		return nil
	}
	if m.gets != nil && !m.gets.has(idx) {
		if v == nil {
			m.problem(start, "memo PUT with an empty stack")
		}
		return nil // never fetched: no need to keep it
	}
	if _, exists := m.memo[idx]; !exists && len(m.memo) >= m.lim.MaxMemo {
		return m.fatal(start, "memo larger than %d entries", m.lim.MaxMemo)
	}
	if v == nil {
		m.problem(start, "memo PUT with an empty stack")
	}
	m.memo[idx] = v
	return nil
}

func (m *machine) memoGet(idx int64, start int64) error {
	v, ok := m.memo[idx]
	if !ok && !(m.gets != nil && idx < m.memoNext) {
		m.problem(start, "memo GET of index %d, which was never PUT", idx)
	}
	// (With first-pass filtering, a PUT index that is fetched is always
	// kept; an unknown value here would only lose detail, not detection:
	// every global is reported when it is created.)
	return m.push(v, start)
}

// --- the opcodes ---------------------------------------------------------

func (m *machine) step(op byte, start int64) error {
	switch op {
	case opMARK:
		if len(m.marks) >= m.lim.MaxMarks {
			return m.fatal(start, "more than %d nested MARKs", m.lim.MaxMarks)
		}
		m.marks = append(m.marks, len(m.stack))
	case opSTOP:
		v := m.pop(start, op)
		floor := 0
		if len(m.marks) > 0 {
			m.problem(start, "STOP with %d unclosed MARK(s)", len(m.marks))
		}
		if len(m.stack) > floor {
			m.problem(start, "STOP leaves %d value(s) on the stack", len(m.stack))
		}
		_ = v
		m.stats.Pickles++
		m.stats.End = m.off
	case opPOP:
		if len(m.marks) > 0 && len(m.stack) == m.marks[len(m.marks)-1] {
			m.marks = m.marks[:len(m.marks)-1] // CPython pops a MARK here
			return nil
		}
		m.pop(start, op)
	case opPOP_MARK:
		m.popMark(start, op)
	case opDUP:
		return m.push(m.top(start, op), start)
	case opFLOAT:
		s, err := m.line(start, "FLOAT")
		if err != nil {
			return err
		}
		f, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if perr != nil {
			m.problem(start, "FLOAT argument %q is not a number", truncate(s))
		}
		return m.push(Float(f), start)
	case opINT:
		s, err := m.line(start, "INT")
		if err != nil {
			return err
		}
		switch s {
		case "00":
			return m.push(Bool(false), start)
		case "01":
			return m.push(Bool(true), start)
		}
		return m.push(m.parseInt(strings.TrimSuffix(s, "L"), start, "INT"), start)
	case opLONG:
		s, err := m.line(start, "LONG")
		if err != nil {
			return err
		}
		return m.push(m.parseInt(strings.TrimSuffix(s, "L"), start, "LONG"), start)
	case opBININT:
		v, err := m.u32(start, "BININT")
		if err != nil {
			return err
		}
		return m.push(intValue(int64(int32(uint32(v)))), start)
	case opBININT1:
		v, err := m.u8(start, "BININT1")
		if err != nil {
			return err
		}
		return m.push(intValue(int64(v)), start)
	case opBININT2:
		v, err := m.u16(start, "BININT2")
		if err != nil {
			return err
		}
		return m.push(Int{V: int64(v)}, start)
	case opLONG1, opLONG4:
		var n uint64
		var err error
		if op == opLONG1 {
			n, err = m.u8(start, "LONG1")
		} else {
			n, err = m.u32(start, "LONG4")
			if err == nil && int32(uint32(n)) < 0 {
				return m.fatal(start, "LONG4 with negative length")
			}
		}
		if err != nil {
			return err
		}
		if n > 1<<16 {
			// Python would build an enormous integer; keep only its size.
			if _, _, err := m.blob(n, start, opName(op)); err != nil {
				return err
			}
			return m.push(Int{Text: fmt.Sprintf("<%d-byte integer>", n)}, start)
		}
		b, err := m.read(int(n), start, opName(op))
		if err != nil {
			return err
		}
		return m.push(decodeLong(b), start)
	case opNONE:
		return m.push(None{}, start)
	case opNEWTRUE:
		return m.push(Bool(true), start)
	case opNEWFALSE:
		return m.push(Bool(false), start)
	case opBINFLOAT:
		b, err := m.read(8, start, "BINFLOAT")
		if err != nil {
			return err
		}
		return m.push(Float(math.Float64frombits(binary.BigEndian.Uint64(b))), start)
	case opSTRING:
		s, err := m.line(start, "STRING")
		if err != nil {
			return err
		}
		if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
			m.problem(start, "STRING argument is not quoted")
		} else {
			s = s[1 : len(s)-1]
		}
		return m.push(m.str(s), start)
	case opUNICODE:
		s, err := m.line(start, "UNICODE")
		if err != nil {
			return err
		}
		return m.push(m.str(s), start)
	case opBINSTRING, opBINUNICODE, opBINBYTES, opSHORT_BINSTRING, opSHORT_BINUNI, opSHORT_BINBYTES,
		opBINUNICODE8, opBINBYTES8, opBYTEARRAY8:
		return m.blobOp(op, start)
	case opEMPTY_TUPLE:
		return m.push(emptyTuple, start)
	case opTUPLE:
		return m.push(m.markSeq(Tuple, start, op), start)
	case opTUPLE1, opTUPLE2, opTUPLE3:
		n := int(op - opTUPLE1 + 1)
		t := &Seq{Kind: Tuple, Len: n}
		t.Items = t.small[:n]
		for i := n - 1; i >= 0; i-- {
			t.Items[i] = m.pop(start, op)
		}
		return m.push(t, start)
	case opEMPTY_LIST:
		return m.push(&Seq{Kind: List}, start)
	case opLIST:
		return m.push(m.markSeq(List, start, op), start)
	case opEMPTY_DICT:
		return m.push(&Dict{}, start)
	case opDICT:
		items := m.popMark(start, op)
		if len(items)%2 != 0 {
			m.problem(start, "DICT with an odd number of items")
		}
		d := &Dict{}
		m.setItems(d, items)
		return m.push(d, start)
	case opEMPTY_SET:
		return m.push(&Seq{Kind: Set}, start)
	case opFROZENSET:
		return m.push(m.markSeq(FrozenSet, start, op), start)
	case opAPPEND:
		v := m.pop(start, op)
		m.mutate(op, start, m.top(start, op), []Value{v})
	case opAPPENDS, opSETITEMS, opADDITEMS:
		items := m.popMark(start, op)
		if op == opSETITEMS && len(items)%2 != 0 {
			m.problem(start, "SETITEMS with an odd number of items")
		}
		m.mutate(op, start, m.top(start, op), items)
	case opSETITEM:
		v := m.pop(start, op)
		k := m.pop(start, op)
		m.mutate(op, start, m.top(start, op), []Value{k, v})
	case opGLOBAL, opINST:
		mod, err := m.line(start, opName(op)+" module")
		if err != nil {
			return err
		}
		name, err := m.line(start, opName(op)+" name")
		if err != nil {
			return err
		}
		mod, name = m.boundName(mod, start, op), m.boundName(name, start, op)
		g := &Global{Module: mod, Name: name, Offset: start}
		m.obs.Global(g)
		if op == opGLOBAL {
			return m.push(g, start)
		}
		c := &Call{Func: g, Args: m.markSeq(Tuple, start, op), Op: "INST", Offset: start}
		m.obs.Call(c)
		return m.push(c, start)
	case opSTACK_GLOBAL:
		nameV := m.pop(start, op)
		modV := m.pop(start, op)
		mod, ok1 := modV.(Str)
		name, ok2 := nameV.(Str)
		g := &Global{Offset: start}
		if ok1 && ok2 && mod.Len == int64(len(mod.S)) && name.Len == int64(len(name.S)) {
			g.Module, g.Name = mod.S, name.S
		} else {
			g.Dynamic = true
			g.Module, g.Name = Render(modV), Render(nameV)
		}
		m.obs.Global(g)
		return m.push(g, start)
	case opEXT1, opEXT2, opEXT4:
		var code uint64
		var err error
		switch op {
		case opEXT1:
			code, err = m.u8(start, "EXT1")
		case opEXT2:
			code, err = m.u16(start, "EXT2")
		default:
			code, err = m.u32(start, "EXT4")
		}
		if err != nil {
			return err
		}
		g := &Global{Module: "copyreg", Name: fmt.Sprintf("<extension %d>", code), Offset: start, Ext: int64(code)}
		if code == 0 {
			m.problem(start, "%s with extension code 0, which unpicklers reject", opName(op))
		}
		m.obs.Global(g)
		return m.push(g, start)
	case opREDUCE:
		args := m.pop(start, op)
		fn := m.pop(start, op)
		c := m.newCall(fn, args, "REDUCE", start)
		m.obs.Call(c)
		return m.push(c, start)
	case opNEWOBJ:
		args := m.pop(start, op)
		cls := m.pop(start, op)
		c := m.newCall(cls, args, "NEWOBJ", start)
		m.obs.Call(c)
		return m.push(c, start)
	case opNEWOBJ_EX:
		kwargs := m.pop(start, op)
		args := m.pop(start, op)
		cls := m.pop(start, op)
		c := &Call{Func: cls, Args: args, Kwargs: kwargs, Op: "NEWOBJ_EX", Offset: start}
		m.obs.Call(c)
		return m.push(c, start)
	case opOBJ:
		items := m.popMark(start, op)
		var cls Value
		if len(items) == 0 {
			m.problem(start, "OBJ without a class")
		} else {
			cls, items = items[0], items[1:]
		}
		c := &Call{Func: cls, Args: m.seq(Tuple, items), Op: "OBJ", Offset: start}
		m.obs.Call(c)
		return m.push(c, start)
	case opBUILD:
		state := m.pop(start, op)
		target := m.top(start, op)
		if c, ok := target.(*Call); ok && c.State == nil {
			c.State = state
		}
		m.obs.Mutation(&Mutation{Op: "BUILD", Target: target, Arg: state, Offset: start})
		if hook, ok := m.obs.(PayloadHook); ok {
			if p, ok := hook.AfterBuild(target, state); ok {
				return m.payload(p, start)
			}
		}
	case opPERSID:
		s, err := m.line(start, "PERSID")
		if err != nil {
			return err
		}
		p := &Persistent{ID: m.str(s), Offset: start}
		m.obs.Persistent(p)
		return m.push(p, start)
	case opBINPERSID:
		p := &Persistent{ID: m.pop(start, op), Offset: start}
		m.obs.Persistent(p)
		return m.push(p, start)
	case opPUT:
		s, err := m.line(start, "PUT")
		if err != nil {
			return err
		}
		idx, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil {
			m.problem(start, "PUT index %q is not an integer", truncate(s))
			return nil
		}
		return m.memoPut(idx, m.top(start, op), start)
	case opBINPUT, opLONG_BINPUT:
		var idx uint64
		var err error
		if op == opBINPUT {
			idx, err = m.u8(start, "BINPUT")
		} else {
			idx, err = m.u32(start, "LONG_BINPUT")
		}
		if err != nil {
			return err
		}
		if int64(idx) >= m.memoNext {
			m.memoNext = int64(idx) + 1
		}
		return m.memoPut(int64(idx), m.top(start, op), start)
	case opMEMOIZE:
		idx := m.memoNext
		m.memoNext++
		return m.memoPut(idx, m.top(start, op), start)
	case opGET:
		s, err := m.line(start, "GET")
		if err != nil {
			return err
		}
		idx, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil {
			m.problem(start, "GET index %q is not an integer", truncate(s))
			return m.push(nil, start)
		}
		return m.memoGet(idx, start)
	case opBINGET:
		idx, err := m.u8(start, "BINGET")
		if err != nil {
			return err
		}
		return m.memoGet(int64(idx), start)
	case opLONG_BINGET:
		idx, err := m.u32(start, "LONG_BINGET")
		if err != nil {
			return err
		}
		return m.memoGet(int64(idx), start)
	case opPROTO:
		v, err := m.u8(start, "PROTO")
		if err != nil {
			return err
		}
		if v > 5 {
			m.problem(start, "unsupported pickle protocol %d", v)
		}
		if start != m.stats.End && m.stats.Opcodes > 1 && len(m.stack) > 0 {
			m.problem(start, "PROTO in the middle of a pickle")
		}
		m.stats.Protocol = max(m.stats.Protocol, int(v))
	case opFRAME:
		n, err := m.u64(start, "FRAME")
		if err != nil {
			return err
		}
		if m.frameEnd > start {
			m.problem(start, "FRAME starts inside the previous frame, which ends at offset %d", m.frameEnd)
		}
		if n > math.MaxInt64/2 {
			return m.fatal(start, "FRAME declares an impossible length %d", n)
		}
		m.frameEnd = m.off + int64(n)
	case opNEXT_BUFFER:
		return m.push(Buffer{}, start)
	case opREADONLY_BUFFER:
		m.top(start, op)
	default:
		return m.fatal(start, "unknown opcode 0x%02x: the stream cannot be decoded past this point", op)
	}
	return nil
}

// payload consumes raw data that follows a BUILD.
func (m *machine) payload(p Payload, start int64) error {
	m.opEnd = m.off
	if p.Problem != "" {
		return m.fatal(start, "%s", p.Problem)
	}
	if p.AlignByte {
		n, err := m.u8(start, "array alignment padding")
		if err != nil {
			return err
		}
		if _, _, err := m.blob(n, start, "array alignment padding"); err != nil {
			return err
		}
	}
	if p.Skip > 0 {
		if _, _, err := m.blob(uint64(p.Skip), start, "raw array data"); err != nil {
			return err
		}
	}
	if p.Nested {
		if m.depth >= maxNested {
			return m.fatal(start, "pickles nested deeper than %d", maxNested)
		}
		stack, marks, memo, memoNext, frameEnd := m.stack, m.marks, m.memo, m.memoNext, m.frameEnd
		m.stack, m.marks, m.memo, m.memoNext, m.frameEnd = nil, nil, map[int64]Value{}, 0, 0
		gets := m.gets
		m.gets = nil // the first pass did not see into nested pickles' indices
		m.depth++
		opEnd := m.opEnd
		err := m.one()
		m.opEnd = opEnd
		m.depth--
		m.stats.Pickles-- // the nested pickle is part of the outer one
		m.stack, m.marks, m.memo, m.memoNext, m.frameEnd, m.gets = stack, marks, memo, memoNext, frameEnd, gets
		return err
	}
	return nil
}

const maxNested = 8

// maxName bounds module and attribute names: real ones are identifiers.
const maxName = 256

// boundName reports and truncates an over-long GLOBAL/INST name, so that
// findings quoting it stay small.
func (m *machine) boundName(s string, start int64, op byte) string {
	if len(s) <= maxName {
		return s
	}
	m.problem(start, "%s name of %d bytes (names are identifiers)", opName(op), len(s))
	return s[:maxName] + "..."
}

func (m *machine) blobOp(op byte, start int64) error {
	var n uint64
	var err error
	switch op {
	case opSHORT_BINSTRING, opSHORT_BINUNI, opSHORT_BINBYTES:
		n, err = m.u8(start, opName(op))
	case opBINSTRING:
		n, err = m.u32(start, opName(op))
		if err == nil && int32(uint32(n)) < 0 {
			return m.fatal(start, "BINSTRING with negative length")
		}
	case opBINUNICODE, opBINBYTES:
		n, err = m.u32(start, opName(op))
	default:
		n, err = m.u64(start, opName(op))
	}
	if err != nil {
		return err
	}
	s, full, err := m.blob(n, start, opName(op))
	if err != nil {
		return err
	}
	switch op {
	case opBINBYTES, opSHORT_BINBYTES, opBINBYTES8:
		return m.push(Bytes{B: s, Len: full}, start)
	case opBYTEARRAY8:
		return m.push(Bytes{B: s, Len: full, Array: true}, start)
	}
	return m.push(Str{S: s, Len: full}, start)
}

func (m *machine) str(s string) Str {
	full := int64(len(s))
	if len(s) > m.lim.MaxKeep {
		s = s[:m.lim.MaxKeep]
	}
	return Str{S: s, Len: full}
}

func (m *machine) parseInt(s string, start int64, what string) Int {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Int{V: v}
	}
	if b, ok := new(big.Int).SetString(s, 10); ok {
		return Int{Text: truncate(b.String())}
	}
	m.problem(start, "%s argument %q is not an integer", what, truncate(s))
	return Int{}
}

// decodeLong decodes a little-endian two's-complement integer.
func decodeLong(b []byte) Int {
	if len(b) == 0 {
		return Int{}
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return Int{V: v.Int64()}
	}
	return Int{Text: truncate(v.String())}
}

// mutate handles APPEND(S), SETITEM(S) and ADDITEMS: on a plain container
// they add items; on anything else the unpickler calls a method of the
// target, which is reported.
func (m *machine) mutate(op byte, start int64, target Value, items []Value) {
	switch t := target.(type) {
	case *Seq:
		if (op == opAPPEND || op == opAPPENDS) && t.Kind == List || op == opADDITEMS && t.Kind == Set {
			m.appendItems(t, items)
			return
		}
	case *Dict:
		if op == opSETITEM || op == opSETITEMS {
			m.setItems(t, items)
			return
		}
	case nil:
		return // underflow already reported
	}
	m.obs.Mutation(&Mutation{Op: opName(op), Target: target, Arg: m.seq(Tuple, items), Offset: start})
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// argLen is the fixed argument length of an opcode, -1 for a text line,
// -2 for two text lines, and -(10+k) for a k-byte length prefix followed
// by that many bytes. Opcodes absent from the table have no argument.
var argLen = map[byte]int{
	opFLOAT: -1, opINT: -1, opLONG: -1, opPERSID: -1, opSTRING: -1, opUNICODE: -1, opGET: -1, opPUT: -1,
	opGLOBAL: -2, opINST: -2,
	opBININT: 4, opBININT1: 1, opBININT2: 2, opBINFLOAT: 8, opBINGET: 1, opLONG_BINGET: 4, opBINPUT: 1,
	opLONG_BINPUT: 4, opPROTO: 1, opEXT1: 1, opEXT2: 2, opEXT4: 4, opFRAME: 8,
	opLONG1: -11, opSHORT_BINSTRING: -11, opSHORT_BINUNI: -11, opSHORT_BINBYTES: -11,
	opLONG4: -14, opBINSTRING: -14, opBINUNICODE: -14, opBINBYTES: -14,
	opBINUNICODE8: -18, opBINBYTES8: -18, opBYTEARRAY8: -18,
}

// memoGets walks the opcodes without building values and returns every
// memo index a GET opcode fetches. It stops quietly at anything it cannot
// skip; the decoding pass reports such problems.
// ok is false when the stream uses a format that writes raw data between
// opcodes (joblib), which this pass cannot follow.
func memoGets(r io.Reader, lim Limits) (_ *indexSet, ok bool) {
	br := bufio.NewReaderSize(r, 64<<10)
	gets := &indexSet{}
	var off int64
	var b [8]byte // one buffer: a local passed to io.ReadFull would escape per opcode
	stops := 0
	for {
		// Fast path: whole opcodes straight from the reader's buffer.
		if buf, _ := br.Peek(br.Buffered()); len(buf) > 0 {
			i, stop, ok := memoGetsBuffered(buf, gets, &stops, off, lim)
			br.Discard(i)
			off += int64(i)
			if stop {
				if !ok {
					return nil, false
				}
				return gets, true
			}
		}
		// Slow path: one opcode whose argument is not all buffered.
		op, err := br.ReadByte()
		if err != nil {
			return gets, true
		}
		off++
		if lim.MaxBytes > 0 && off > lim.MaxBytes {
			return gets, true
		}
		if op == opSTOP && lim.MaxPickle > 0 {
			if stops++; stops >= lim.MaxPickle {
				return gets, true
			}
		}
		n := argTable[op]
		if n == 0 {
			if !opTable[op] {
				return gets, true
			}
			continue
		}
		switch {
		case n == -1 || n == -2:
			for i := 0; i < -n; i++ {
				line, err := readLine(br, lim.MaxLine)
				if err != nil {
					return gets, true
				}
				off += int64(len(line)) + 1
				if strings.Contains(line, "numpy_pickle") {
					return nil, false
				}
				if op == opGET {
					if idx, err := strconv.ParseInt(line, 10, 64); err == nil {
						gets.add(idx)
					}
				}
			}
		case n > 0:
			if _, err := io.ReadFull(br, b[:n]); err != nil {
				return gets, true
			}
			off += int64(n)
			switch op {
			case opBINGET:
				gets.add(int64(b[0]))
			case opLONG_BINGET:
				gets.add(int64(binary.LittleEndian.Uint32(b[:4])))
			}
		default:
			k := -n - 10
			if _, err := io.ReadFull(br, b[:k]); err != nil {
				return gets, true
			}
			var length uint64
			for i := k - 1; i >= 0; i-- {
				length = length<<8 | uint64(b[i])
			}
			if op == opSHORT_BINUNI && length > 0 {
				// STACK_GLOBAL names arrive as short strings.
				if peek, err := br.Peek(int(length)); err == nil && bytes.Contains(peek, []byte("numpy_pickle")) {
					return nil, false
				}
			}
			if length > math.MaxInt64/2 {
				return gets, true
			}
			skipped, err := br.Discard(int(min(length, math.MaxInt32)))
			off += int64(k) + int64(skipped)
			if length > math.MaxInt32 {
				return gets, true
			}
			if err != nil {
				return gets, true
			}
		}
	}
}

// memoGetsBuffered is memoGets over bytes already in memory. It consumes
// whole opcodes only and returns how many bytes it used; stop is true when
// the walk is over (ok false for a joblib stream), false when the next
// opcode is not entirely in buf (or is a text-line opcode) and the caller
// must read it.
func memoGetsBuffered(buf []byte, gets *indexSet, stops *int, off int64, lim Limits) (i int, stop, ok bool) {
	for i < len(buf) {
		if lim.MaxBytes > 0 && off+int64(i)+1 > lim.MaxBytes {
			return i, true, true
		}
		op := buf[i]
		n := argTable[op]
		switch {
		case n == 0:
			if !opTable[op] {
				return i + 1, true, true
			}
			i++
			if op == opSTOP && lim.MaxPickle > 0 {
				if *stops++; *stops >= lim.MaxPickle {
					return i, true, true
				}
			}
		case n > 0:
			if i+1+n > len(buf) {
				return i, false, true
			}
			switch op {
			case opBINGET:
				gets.add(int64(buf[i+1]))
			case opLONG_BINGET:
				gets.add(int64(binary.LittleEndian.Uint32(buf[i+1:])))
			}
			i += 1 + n
		case n <= -11:
			k := -n - 10
			if i+1+k > len(buf) {
				return i, false, true
			}
			var length uint64
			for j := k; j >= 1; j-- {
				length = length<<8 | uint64(buf[i+j])
			}
			if length > uint64(len(buf)-(i+1+k)) {
				return i, false, true
			}
			payload := buf[i+1+k : i+1+k+int(length)]
			if op == opSHORT_BINUNI && bytes.Contains(payload, []byte("numpy_pickle")) {
				return i, true, false
			}
			i += 1 + k + int(length)
		default: // text-line arguments
			return i, false, true
		}
	}
	return i, false, true
}

// readLine reads up to '\n' (excluded), failing past max bytes.
func readLine(br *bufio.Reader, max int) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > max {
			return "", errors.New("line too long")
		}
		if err == nil {
			return string(b[:len(b)-1]), nil
		}
		if err != bufio.ErrBufferFull {
			return "", err
		}
	}
}

// indexSet is a set of memo indices: a bitset for the dense low range
// pickles use, a map beyond it.
type indexSet struct {
	bits []uint64
	big  map[int64]bool
}

const denseIndices = 1 << 24

func (s *indexSet) add(i int64) {
	if i >= 0 && i < denseIndices {
		w := int(i >> 6)
		if w >= len(s.bits) {
			s.bits = append(s.bits, make([]uint64, w+1-len(s.bits))...)
		}
		s.bits[w] |= 1 << (uint(i) & 63)
		return
	}
	if s.big == nil {
		s.big = map[int64]bool{}
	}
	s.big[i] = true
}

func (s *indexSet) has(i int64) bool {
	if i >= 0 && i < denseIndices {
		w := int(i >> 6)
		return w < len(s.bits) && s.bits[w]&(1<<(uint(i)&63)) != 0
	}
	return s.big[i]
}

// smallInts are pre-boxed small integers, so pushing one allocates nothing.
var smallInts = func() (t [257]Value) {
	for i := range t {
		t[i] = Int{V: int64(i) - 1}
	}
	return
}()

func intValue(v int64) Value {
	if v >= -1 && v <= 255 {
		return smallInts[v+1]
	}
	return Int{V: v}
}
