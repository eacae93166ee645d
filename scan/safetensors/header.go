package safetensors

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// errStop ends parsing: a syntax error the scanner cannot resynchronise
// after, a bound exceeded, or the problem list full.
var errStop = errors.New("stop")

// parser is a streaming JSON scanner specialised to the safetensors header.
// It keeps no tree: per open object it records keys (decoded, in keybuf)
// to find duplicates when the object ends, and per tensor the byte range.
// Positions are header offsets; a header is at most MaxHeader bytes, so
// they fit in uint32.
type parser struct {
	v         *validator
	b         []byte
	pos       int
	info      *Info
	dataBytes int64

	limit   int      // if > 0, str stops once it has decoded more bytes
	keybuf  []byte   // decoded keys of the open objects
	keys    []keyRec // keys of the open objects, innermost last
	tmp     []byte   // decoded string scratch
	ranges  []span
	hasMeta bool
}

type keyRec struct{ start, end, pos uint32 }

// span is a tensor's data range and where its name and offsets are.
type span struct {
	begin, end       int64
	namePos, offsPos uint32
}

// dupCtx says what kind of object keys belong to, for duplicate messages.
type dupCtx struct {
	kind    int
	namePos int // ctxTensor: position of the tensor's name
}

const (
	ctxOther = iota
	ctxTop
	ctxTensor
	ctxMeta
)

// off converts a header position to a file offset.
func (p *parser) off(pos int) int64 { return 8 + int64(pos) }

func (p *parser) add(pos int, format string, args ...any) {
	p.v.add(p.off(pos), format, args...)
}

func (p *parser) peek() byte {
	if p.pos < len(p.b) {
		return p.b[p.pos]
	}
	return 0
}

func (p *parser) skipWS() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// describe names the byte at pos for a message.
func (p *parser) describe(pos int) string {
	if pos >= len(p.b) {
		return "end of header"
	}
	c := p.b[pos]
	if c > 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// kind names the JSON value starting at p.pos.
func (p *parser) kind() string {
	switch c := p.peek(); {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || isDigit(c):
		return "a number"
	default:
		return p.describe(p.pos)
	}
}

func (p *parser) syntax(pos int, want string) error {
	p.add(pos, "invalid JSON: expected %s, found %s", want, p.describe(pos))
	return errStop
}

// name decodes the start of the string at pos (a key already scanned) for
// a message: a name can be as long as the header, and each problem about
// its tensor renders it.
func (p *parser) name(pos int) string {
	if pos < 0 || pos >= len(p.b) || p.b[pos] != '"' {
		return "?"
	}
	q := parser{v: &validator{full: true}, b: p.b, pos: pos, limit: 80}
	s, err := q.str(false)
	if err != nil {
		return "?"
	}
	return quote(s)
}

func (p *parser) run() {
	p.skipWS()
	if p.peek() != '{' {
		p.add(p.pos, "header is not a JSON object (found %s)", p.describe(p.pos))
		return
	}
	if p.pos > 0 {
		p.add(0, "header does not start with '{' (leading whitespace)")
	}
	if err := p.top(); err != nil {
		return
	}
	for i := p.pos; i < len(p.b); i++ {
		if p.b[i] != ' ' {
			p.add(i, "header has %s after the JSON object; only space (0x20) padding may follow it", p.describe(i))
			break
		}
	}
	p.checkRanges()
}

// objIter walks the members of one object. Keys are recorded (decoded) so
// that duplicates can be reported when the object is closed.
type objIter struct {
	mark, kmark int // p.keys and p.keybuf lengths when the object opened
	n           int // members seen
	ctx         dupCtx
	closed      bool
}

// openObject enters the object at p.pos ('{'), which has the given depth.
func (p *parser) openObject(depth int, ctx dupCtx) (objIter, error) {
	if depth > MaxDepth {
		p.add(p.pos, "JSON nesting is deeper than %d levels", MaxDepth)
		return objIter{closed: true}, errStop
	}
	p.pos++
	return objIter{mark: len(p.keys), kmark: len(p.keybuf), ctx: ctx}, nil
}

// next moves to the object's next member and leaves p.pos at its value;
// ok is false after the closing '}'. The key stays valid until the object
// is closed.
func (p *parser) next(it *objIter) (key []byte, keyPos int, ok bool, err error) {
	if p.v.full {
		return nil, 0, false, errStop
	}
	p.skipWS()
	if it.n > 0 {
		switch p.peek() {
		case ',':
			p.pos++
			p.skipWS()
		case '}':
			p.pos++
			return nil, 0, false, nil
		default:
			return nil, 0, false, p.syntax(p.pos, "',' or '}'")
		}
	} else if p.peek() == '}' {
		p.pos++
		return nil, 0, false, nil
	}
	if p.peek() != '"' {
		return nil, 0, false, p.syntax(p.pos, "a string key")
	}
	keyPos = p.pos
	k, err := p.str(true)
	if err != nil {
		return nil, 0, false, err
	}
	start := len(p.keybuf)
	p.keybuf = append(p.keybuf, k...)
	end := len(p.keybuf)
	p.keys = append(p.keys, keyRec{uint32(start), uint32(end), uint32(keyPos)})
	p.skipWS()
	if p.peek() != ':' {
		return nil, 0, false, p.syntax(p.pos, "':'")
	}
	p.pos++
	p.skipWS()
	it.n++
	return p.keybuf[start:end:end], keyPos, true, nil
}

// closeObject reports the object's duplicate keys and forgets its keys. It
// must be called however the walk ended (so that a duplicate before a
// syntax error is still reported); calling it again does nothing.
func (p *parser) closeObject(it *objIter) {
	if it.closed {
		return
	}
	it.closed = true
	p.checkDups(p.keys[it.mark:], it.ctx)
	p.keys = p.keys[:it.mark]
	p.keybuf = p.keybuf[:it.kmark]
}

func (p *parser) checkDups(ks []keyRec, ctx dupCtx) {
	if len(ks) < 2 {
		return
	}
	key := func(k keyRec) []byte { return p.keybuf[k.start:k.end] }
	slices.SortFunc(ks, func(a, b keyRec) int {
		if c := bytes.Compare(key(a), key(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	first := ks[0]
	for _, k := range ks[1:] {
		if !bytes.Equal(key(k), key(first)) {
			first = k
			continue
		}
		kk, at := key(k), p.off(int(first.pos))
		switch ctx.kind {
		case ctxTop:
			if string(kk) == "__metadata__" {
				p.add(int(k.pos), "duplicate __metadata__ entry (first at offset %d)", at)
			} else {
				p.add(int(k.pos), "duplicate tensor name %s (first at offset %d)", quote(kk), at)
			}
		case ctxTensor:
			p.add(int(k.pos), "tensor %s: duplicate key %s (first at offset %d)", p.name(ctx.namePos), quote(kk), at)
		case ctxMeta:
			p.add(int(k.pos), "duplicate __metadata__ key %s (first at offset %d)", quote(kk), at)
		default:
			p.add(int(k.pos), "duplicate key %s (first at offset %d)", quote(kk), at)
		}
	}
}

// arrIter walks the elements of one array.
type arrIter struct{ n int }

// openArray enters the array at p.pos ('['), which has the given depth.
func (p *parser) openArray(depth int) (arrIter, error) {
	if depth > MaxDepth {
		p.add(p.pos, "JSON nesting is deeper than %d levels", MaxDepth)
		return arrIter{}, errStop
	}
	p.pos++
	return arrIter{}, nil
}

// nextElem moves to the array's next element (index it.n-1) and leaves
// p.pos at it; ok is false after the closing ']'.
func (p *parser) nextElem(it *arrIter) (ok bool, err error) {
	if p.v.full {
		return false, errStop
	}
	p.skipWS()
	if it.n > 0 {
		switch p.peek() {
		case ',':
			p.pos++
			p.skipWS()
		case ']':
			p.pos++
			return false, nil
		default:
			return false, p.syntax(p.pos, "',' or ']'")
		}
	} else if p.peek() == ']' {
		p.pos++
		return false, nil
	}
	it.n++
	return true, nil
}

// value scans any JSON value at p.pos; depth is the depth a container there
// would have.
func (p *parser) value(depth int) error {
	switch c := p.peek(); {
	case c == '{':
		it, err := p.openObject(depth, dupCtx{kind: ctxOther})
		defer p.closeObject(&it)
		for err == nil {
			var ok bool
			if _, _, ok, err = p.next(&it); ok {
				err = p.value(depth + 1)
			} else if err == nil {
				return nil
			}
		}
		return err
	case c == '[':
		it, err := p.openArray(depth)
		for err == nil {
			var ok bool
			if ok, err = p.nextElem(&it); ok {
				err = p.value(depth + 1)
			} else if err == nil {
				return nil
			}
		}
		return err
	case c == '"':
		_, err := p.str(true)
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || isDigit(c):
		_, _, err := p.number()
		return err
	default:
		return p.syntax(p.pos, "a JSON value")
	}
}

func (p *parser) literal(lit string) error {
	if !bytes.HasPrefix(p.b[p.pos:], []byte(lit)) {
		return p.syntax(p.pos, lit)
	}
	p.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// str scans the string at p.pos ('"') and returns it decoded, in p.tmp
// (valid until the next call); with p.limit set, possibly only its start. With report, it reports invalid UTF-8,
// unescaped control characters and unpaired surrogate escapes, once each
// per string; they decode to U+FFFD or themselves and scanning goes on.
// A bad escape or a missing closing quote is a syntax error.
func (p *parser) str(report bool) ([]byte, error) {
	b := p.b
	start := p.pos
	i := start + 1
	out := p.tmp[:0]
	var badUTF8, badCtl, badSurr bool
	for {
		end := len(b)
		if p.limit > 0 {
			if len(out) > p.limit {
				p.tmp = out
				return out, nil
			}
			end = min(end, i+p.limit+1)
		}
		j := i
		for j < end && b[j] >= 0x20 && b[j] < 0x80 && b[j] != '"' && b[j] != '\\' {
			j++
		}
		out = append(out, b[i:j]...)
		i = j
		if i >= len(b) {
			p.tmp = out
			p.add(start, "invalid JSON: unterminated string")
			return nil, errStop
		}
		switch c := b[i]; {
		case c == '"':
			p.pos = i + 1
			p.tmp = out
			return out, nil
		case c == '\\':
			if i+1 >= len(b) {
				p.tmp = out
				p.add(start, "invalid JSON: unterminated string")
				return nil, errStop
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
				i += 2
			case 'b':
				out = append(out, '\b')
				i += 2
			case 'f':
				out = append(out, '\f')
				i += 2
			case 'n':
				out = append(out, '\n')
				i += 2
			case 'r':
				out = append(out, '\r')
				i += 2
			case 't':
				out = append(out, '\t')
				i += 2
			case 'u':
				r, ok := hex4(b, i+2)
				if !ok {
					p.tmp = out
					return nil, p.syntax(i, "\\u and 4 hex digits")
				}
				esc := i
				i += 6
				if utf16.IsSurrogate(r) {
					paired := false
					if r < 0xdc00 && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						if r2, ok := hex4(b, i+2); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
							r = utf16.DecodeRune(r, r2)
							i += 6
							paired = true
						}
					}
					if !paired {
						if report && !badSurr {
							p.add(esc, "string has an unpaired UTF-16 surrogate escape")
							badSurr = true
						}
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				p.tmp = out
				return nil, p.syntax(i, "a valid escape sequence")
			}
		case c < 0x20:
			if report && !badCtl {
				p.add(i, "string has an unescaped control character 0x%02x", c)
				badCtl = true
			}
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				if report && !badUTF8 {
					p.add(i, "string is not valid UTF-8")
					badUTF8 = true
				}
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, b[i:i+n]...)
			}
			i += n
		}
	}
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// numClass says whether a JSON number is a usable non-negative int64.
type numClass uint8

const (
	numOK numClass = iota
	numNegative
	numFraction
	numTooBig
)

func (c numClass) String() string {
	switch c {
	case numNegative:
		return "is negative"
	case numFraction:
		return "is not an integer"
	case numTooBig:
		return "does not fit in int64"
	}
	return "is fine"
}

// number scans the number at p.pos. Its value is exact: 1e3 and 1.0 are
// the integers 1000 and 1, 15e-1 is a fraction. Any minus sign, even on
// zero, makes it negative.
func (p *parser) number() (int64, numClass, error) {
	b := p.b
	i := p.pos
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	if i >= len(b) || !isDigit(b[i]) {
		return 0, 0, p.syntax(i, "a digit")
	}
	if b[i] == '0' {
		i++
	} else {
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(b) && b[i] == '.' {
		i++
		fracStart = i
		if i >= len(b) || !isDigit(b[i]) {
			return 0, 0, p.syntax(i, "a digit after '.'")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		fracEnd = i
	}
	var exp int64
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, 0, p.syntax(i, "a digit in the exponent")
		}
		for i < len(b) && isDigit(b[i]) {
			if exp < 1e9 {
				exp = exp*10 + int64(b[i]-'0')
			}
			i++
		}
		if eneg {
			exp = -exp
		}
	}
	p.pos = i
	if neg {
		return 0, numNegative, nil
	}
	// The significand's digits are b[intStart:intEnd] then
	// b[fracStart:fracEnd]; the value is digits × 10^(exp - len(frac)).
	nInt, nFrac := intEnd-intStart, fracEnd-fracStart
	n := nInt + nFrac
	digit := func(k int) byte {
		if k < nInt {
			return b[intStart+k] - '0'
		}
		return b[fracStart+k-nInt] - '0'
	}
	lo, hi := 0, n-1
	for lo < n && digit(lo) == 0 {
		lo++
	}
	if lo == n {
		return 0, numOK, nil
	}
	for digit(hi) == 0 {
		hi--
	}
	e := exp - int64(nFrac) + int64(n-1-hi)
	if e < 0 {
		return 0, numFraction, nil
	}
	if int64(hi-lo+1)+e > 19 {
		return 0, numTooBig, nil
	}
	var u uint64
	for k := lo; k <= hi; k++ {
		u = u*10 + uint64(digit(k))
	}
	for ; e > 0; e-- {
		if u > math.MaxInt64/10 {
			return 0, numTooBig, nil
		}
		u *= 10
	}
	if u > math.MaxInt64 {
		return 0, numTooBig, nil
	}
	return int64(u), numOK, nil
}

// intElem scans a number meant to be a non-negative int64, reporting
// anything else as "tensor NAME: FIELD ...".
func (p *parser) intElem(namePos int, field string, idx int) (int64, bool, error) {
	at := p.pos
	if c := p.peek(); c != '-' && !isDigit(c) {
		p.add(at, "tensor %s: %s[%d] must be a non-negative integer, found %s", p.name(namePos), field, idx, p.kind())
		return 0, false, p.value(4)
	}
	n, cls, err := p.number()
	if err != nil {
		return 0, false, err
	}
	if cls != numOK {
		lit := p.b[at:p.pos]
		if len(lit) > 32 {
			lit = append(lit[:32:32], "…"...)
		}
		p.add(at, "tensor %s: %s[%d] %s (%s)", p.name(namePos), field, idx, cls, lit)
		return 0, false, nil
	}
	return n, true, nil
}

// top walks the header object.
func (p *parser) top() error {
	it, err := p.openObject(1, dupCtx{kind: ctxTop})
	defer p.closeObject(&it)
	for err == nil {
		key, keyPos, ok, err2 := p.next(&it)
		switch {
		case err2 != nil:
			return err2
		case !ok:
			return nil
		case string(key) == "__metadata__":
			err = p.metadata()
			continue
		}
		p.info.Tensors++
		if p.info.Tensors > tensorLimit {
			p.add(keyPos, "header has more than %d tensors", tensorLimit)
			return errStop
		}
		if len(key) == 0 {
			p.add(keyPos, "tensor name is empty")
		}
		err = p.tensor(keyPos)
	}
	return err
}

func (p *parser) metadata() error {
	first := !p.hasMeta
	p.hasMeta = true
	if p.peek() != '{' {
		p.add(p.pos, "__metadata__ must be an object, found %s", p.kind())
		return p.value(2)
	}
	if first {
		p.info.Metadata = map[string]string{}
	}
	it, err := p.openObject(2, dupCtx{kind: ctxMeta})
	defer p.closeObject(&it)
	for err == nil {
		k, _, ok, err2 := p.next(&it)
		if err2 != nil || !ok {
			return err2
		}
		if p.peek() != '"' {
			p.add(p.pos, "__metadata__ value for key %s must be a string, found %s", quote(k), p.kind())
			err = p.value(3)
			continue
		}
		var s []byte
		s, err = p.str(true)
		if m := p.info.Metadata; err == nil && first && len(m) < MaxMetadataKeys {
			if _, ok := m[string(k)]; !ok {
				m[string(k)] = string(s)
			}
		}
	}
	return err
}

const (
	seenDtype = 1 << iota
	seenShape
	seenOffsets
)

// tensorEntry is what a tensor entry says, as far as it is valid.
type tensorEntry struct {
	namePos    int   // position of the tensor's name
	seen       int   // seen* bits
	dt         int   // index in dtypes, or -1
	count      int64 // element count
	countOK    bool  // shape valid and count computed
	shapePos   int   // position of the shape array
	begin, end int64 // data_offsets
	offsOK     bool  // data_offsets valid
	offsPos    int   // position of the data_offsets array
}

// tensor checks the entry of the tensor named at namePos. For a duplicate
// key inside the entry, the first value counts.
func (p *parser) tensor(namePos int) error {
	if p.peek() != '{' {
		p.add(p.pos, "tensor %s: entry must be an object, found %s", p.name(namePos), p.kind())
		return p.value(2)
	}
	e := tensorEntry{namePos: namePos, dt: -1}
	it, err := p.openObject(2, dupCtx{kind: ctxTensor, namePos: namePos})
	defer p.closeObject(&it)
	for err == nil {
		k, kp, ok, err2 := p.next(&it)
		if err2 != nil {
			return err2
		}
		if !ok {
			break
		}
		switch string(k) {
		case "dtype":
			err = p.dtype(&e)
		case "shape":
			err = p.shape(&e)
		case "data_offsets":
			err = p.offsets(&e)
		default:
			p.add(kp, "tensor %s: unknown key %s", p.name(namePos), quote(k))
			err = p.value(3)
		}
	}
	if err != nil {
		return err
	}
	for _, m := range [...]struct {
		bit  int
		name string
	}{{seenDtype, "dtype"}, {seenShape, "shape"}, {seenOffsets, "data_offsets"}} {
		if e.seen&m.bit == 0 {
			p.add(namePos, "tensor %s: missing %s", p.name(namePos), m.name)
		}
	}
	if !e.offsOK {
		return nil
	}
	p.ranges = append(p.ranges, span{begin: e.begin, end: e.end, namePos: uint32(namePos), offsPos: uint32(e.offsPos)})
	if e.dt < 0 || !e.countOK {
		return nil
	}
	d := dtypes[e.dt]
	var size int64
	switch {
	case d.bits%8 == 0 && e.count > math.MaxInt64/(d.bits/8):
		p.add(e.shapePos, "tensor %s: size of %d elements of %s overflows int64", p.name(namePos), e.count, d.name)
		return nil
	case d.bits%8 == 0:
		size = e.count * (d.bits / 8)
	case e.count > math.MaxInt64/d.bits:
		p.add(e.shapePos, "tensor %s: size in bits of %d elements of %s overflows int64", p.name(namePos), e.count, d.name)
		return nil
	case e.count*d.bits%8 != 0:
		p.add(e.shapePos, "tensor %s: %d elements of %s do not fill a whole number of bytes", p.name(namePos), e.count, d.name)
		return nil
	default:
		size = e.count * d.bits / 8
	}
	if e.end-e.begin != size {
		p.add(e.offsPos, "tensor %s: data_offsets [%d, %d] span %d bytes but %d elements of %s need %d",
			p.name(namePos), e.begin, e.end, e.end-e.begin, e.count, d.name, size)
	}
	return nil
}

func (p *parser) dtype(e *tensorEntry) error {
	if e.seen&seenDtype != 0 {
		return p.value(3)
	}
	e.seen |= seenDtype
	at := p.pos
	if p.peek() != '"' {
		p.add(at, "tensor %s: dtype must be a string, found %s", p.name(e.namePos), p.kind())
		return p.value(3)
	}
	s, err := p.str(true)
	if err != nil {
		return err
	}
	if e.dt = lookupDtype(s); e.dt < 0 {
		p.add(at, "tensor %s: unknown dtype %s", p.name(e.namePos), quote(s))
	}
	return nil
}

// shape computes the element count left to right with overflow checks,
// like the reference implementation: [2^32, 2^32, 0] overflows.
func (p *parser) shape(e *tensorEntry) error {
	if e.seen&seenShape != 0 {
		return p.value(3)
	}
	e.seen |= seenShape
	e.shapePos = p.pos
	if p.peek() != '[' {
		p.add(e.shapePos, "tensor %s: shape must be an array, found %s", p.name(e.namePos), p.kind())
		return p.value(3)
	}
	e.count, e.countOK = 1, true
	overflow := false
	it, err := p.openArray(3)
	for err == nil {
		var ok bool
		if ok, err = p.nextElem(&it); !ok || err != nil {
			break
		}
		i := it.n - 1
		if i == MaxRank {
			p.add(p.pos, "tensor %s: shape has more than %d dimensions", p.name(e.namePos), MaxRank)
			e.countOK = false
		}
		if i >= MaxRank {
			err = p.value(4)
			continue
		}
		var d int64
		d, ok, err = p.intElem(e.namePos, "shape", i)
		switch {
		case !ok:
			e.countOK = false
		case overflow:
		case e.count != 0 && d > math.MaxInt64/e.count:
			overflow = true
		default:
			e.count *= d
		}
	}
	if err != nil {
		return err
	}
	if overflow && e.countOK {
		p.add(e.shapePos, "tensor %s: shape's element count overflows int64", p.name(e.namePos))
		e.countOK = false
	}
	return nil
}

func (p *parser) offsets(e *tensorEntry) error {
	if e.seen&seenOffsets != 0 {
		return p.value(3)
	}
	e.seen |= seenOffsets
	e.offsPos = p.pos
	if p.peek() != '[' {
		p.add(e.offsPos, "tensor %s: data_offsets must be an array, found %s", p.name(e.namePos), p.kind())
		return p.value(3)
	}
	var valid [2]bool
	it, err := p.openArray(3)
	for err == nil {
		var ok bool
		if ok, err = p.nextElem(&it); !ok || err != nil {
			break
		}
		switch i := it.n - 1; i {
		case 0:
			e.begin, valid[0], err = p.intElem(e.namePos, "data_offsets", 0)
		case 1:
			e.end, valid[1], err = p.intElem(e.namePos, "data_offsets", 1)
		default:
			err = p.value(4)
		}
	}
	if err != nil {
		return err
	}
	switch {
	case it.n != 2:
		p.add(e.offsPos, "tensor %s: data_offsets must have exactly 2 elements, found %d", p.name(e.namePos), it.n)
	case !valid[0] || !valid[1]:
	case e.begin > e.end:
		p.add(e.offsPos, "tensor %s: data_offsets begin %d is after end %d", p.name(e.namePos), e.begin, e.end)
	default:
		e.offsOK = true
	}
	return nil
}

// checkRanges checks that the tensors' ranges, sorted by begin, tile the
// data section: the first begins at 0, each begins where the previous
// ended, and the last ends at the end of the file.
func (p *parser) checkRanges() {
	rs := p.ranges
	slices.SortFunc(rs, func(a, b span) int {
		if c := cmp.Compare(a.begin, b.begin); c != 0 {
			return c
		}
		if c := cmp.Compare(a.end, b.end); c != 0 {
			return c
		}
		return cmp.Compare(a.namePos, b.namePos)
	})
	base := p.off(len(p.b)) // file offset of the data section
	data := p.dataBytes
	var at int64 // where the next tensor must begin
	prev := -1   // namePos of the tensor that ends at at
	for _, r := range rs {
		if p.v.full {
			return
		}
		if r.end > data {
			p.add(int(r.offsPos), "tensor %s: data_offsets end %d is beyond the end of the file (the data section is %d bytes)",
				p.name(int(r.namePos)), r.end, data)
		}
		switch {
		case r.begin > at:
			p.v.add(addSat(base, at), "%d-byte gap in the data section before tensor %s (data offsets %d to %d belong to no tensor)",
				r.begin-at, p.name(int(r.namePos)), at, r.begin)
		case r.begin < at:
			p.v.add(addSat(base, r.begin), "tensor %s overlaps tensor %s (it begins at data offset %d, before %d)",
				p.name(int(r.namePos)), p.name(prev), r.begin, at)
		}
		if r.end > at || prev < 0 {
			at, prev = r.end, int(r.namePos)
		}
	}
	if at < data {
		p.v.add(addSat(base, at), "%d bytes of trailing data after the last tensor (tensors end at data offset %d; the data section is %d bytes)",
			data-at, at, data)
	}
}
