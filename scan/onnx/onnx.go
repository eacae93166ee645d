// Package onnx checks ONNX models without loading them: it walks the
// protobuf encoding of the ModelProto directly, skipping tensor bytes, and
// reports external-data references that escape the model's directory,
// operators from custom domains (which need native operator libraries),
// and malformed encodings.
package onnx

import (
	"fmt"
	"github.com/mlgate/mlgate/scan/internal/pbwire"
	"io"
	"path"
	"sort"
	"strings"
)

// Problem kinds.
const (
	KindMalformed    = "malformed"
	KindExternalData = "external-data"
	KindCustomDomain = "custom-domain"
)

// Problem is one thing wrong or risky in a model.
type Problem struct {
	Offset int64
	Kind   string
	Msg    string
}

// Info summarises a model.
type Info struct {
	IRVersion     int64
	Producer      string
	Opsets        map[string]int64
	Nodes         int
	Initializers  int
	ExternalFiles []string
}

// Limits.
const (
	maxDepth    = 32 // message nesting (graphs inside attributes inside nodes ...)
	maxProblems = 100
	maxString   = 4096 // longest string field read (names, domains, paths)
)

// StandardDomains are operator domains every ONNX runtime implements.
var StandardDomains = map[string]bool{
	"": true, "ai.onnx": true, "ai.onnx.ml": true, "ai.onnx.preview.training": true, "ai.onnx.training": true,
	// ONNX Runtime's built-in contrib operators.
	"com.microsoft": true, "com.microsoft.nchwc": true, "com.microsoft.mlfeaturizers": true,
}

type checker struct {
	w        pbwire.Reader
	size     int64
	info     *Info
	problems []Problem
	domains  map[string]int64 // custom domain -> first offset
}

// Check walks the model in r (size bytes).
func Check(r io.ReaderAt, size int64) (*Info, []Problem) {
	c := &checker{w: pbwire.Reader{R: r}, size: size, info: &Info{Opsets: map[string]int64{}}, domains: map[string]int64{}}
	c.message(0, size, msgModel, 0)
	names := make([]string, 0, len(c.domains))
	for d := range c.domains {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		c.problem(c.domains[d], KindCustomDomain, fmt.Sprintf("operators from custom domain %q: running the model needs a native operator library for it, which the model does not contain", d))
	}
	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Offset < c.problems[j].Offset })
	return c.info, c.problems
}

func (c *checker) problem(off int64, kind, msg string) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, Problem{Offset: off, Kind: kind, Msg: msg})
	}
}

// Message types the walker understands.
type msgType int

const (
	msgModel msgType = iota
	msgGraph
	msgNode
	msgAttribute
	msgTensor
	msgSparseTensor
	msgFunction
	msgOpset
	msgEntry
)

// children maps (message type, field number) to the sub-message type.
var children = map[msgType]map[uint64]msgType{
	msgModel:        {7: msgGraph, 8: msgOpset, 25: msgFunction},
	msgGraph:        {1: msgNode, 5: msgTensor, 15: msgSparseTensor},
	msgNode:         {5: msgAttribute},
	msgAttribute:    {5: msgTensor, 6: msgGraph, 10: msgTensor, 11: msgGraph, 22: msgSparseTensor, 23: msgSparseTensor},
	msgSparseTensor: {1: msgTensor, 2: msgTensor},
	msgFunction:     {7: msgNode, 9: msgOpset},
	msgTensor:       {13: msgEntry},
}

// fields collected while walking one message.
type fields struct {
	strs  map[uint64]string
	ints  map[uint64]int64
	entry [][2]string // external_data key/value pairs (tensors)
}

// message walks the protobuf message in [start, end).
func (c *checker) message(start, end int64, t msgType, depth int) fields {
	f := fields{strs: map[uint64]string{}, ints: map[uint64]int64{}}
	if depth > maxDepth {
		c.problem(start, KindMalformed, fmt.Sprintf("messages nested deeper than %d", maxDepth))
		return f
	}
	off := start
	for off < end && len(c.problems) < maxProblems {
		tagOff := off
		tag, n, ok := c.w.Varint(off, end)
		if !ok {
			c.problem(tagOff, KindMalformed, "truncated or invalid field tag")
			return f
		}
		off += n
		num, wire := tag>>3, tag&7
		if num == 0 {
			c.problem(tagOff, KindMalformed, "field number 0")
			return f
		}
		switch wire {
		case 0:
			v, n, ok := c.w.Varint(off, end)
			if !ok {
				c.problem(off, KindMalformed, "truncated varint")
				return f
			}
			off += n
			f.ints[num] = int64(v)
		case 1:
			off += 8
		case 5:
			off += 4
		case 2:
			l, n, ok := c.w.Varint(off, end)
			if !ok || l > uint64(end-off-n) {
				c.problem(off, KindMalformed, fmt.Sprintf("field %d declares %d bytes beyond the end of its message", num, l))
				return f
			}
			off += n
			body, bodyEnd := off, off+int64(l)
			if sub, ok := children[t][num]; ok {
				sf := c.message(body, bodyEnd, sub, depth+1)
				if sub == msgEntry {
					f.entry = append(f.entry, [2]string{sf.strs[1], sf.strs[2]})
				} else {
					c.child(t, sub, sf, body)
				}
			} else if isString(t, num) && l <= maxString {
				f.strs[num] = c.w.String(body, int(l))
			}
			off = bodyEnd
		default:
			c.problem(tagOff, KindMalformed, fmt.Sprintf("field %d uses wire type %d, which ONNX never writes", num, wire))
			return f
		}
	}
	if off > end {
		c.problem(end, KindMalformed, "a fixed-size field runs past the end of its message")
	}
	if t == msgModel {
		c.info.IRVersion = f.ints[1]
		c.info.Producer = f.strs[2]
	}
	return f
}

// isString says which length-delimited fields the checks read as text.
func isString(t msgType, num uint64) bool {
	switch t {
	case msgModel:
		return num == 2
	case msgNode:
		return num == 3 || num == 4 || num == 7
	case msgOpset:
		return num == 1
	case msgEntry:
		return num == 1 || num == 2
	case msgFunction:
		return num == 10
	case msgTensor:
		return num == 8
	}
	return false
}

// child applies the checks of a finished sub-message.
func (c *checker) child(parent, t msgType, f fields, off int64) {
	switch t {
	case msgOpset:
		d := f.strs[1]
		c.info.Opsets[d] = f.ints[2]
		if !StandardDomains[d] {
			c.customDomain(d, off)
		}
	case msgNode:
		c.info.Nodes++
		if d := f.strs[7]; !StandardDomains[d] {
			c.customDomain(d, off)
		}
	case msgTensor:
		if parent == msgGraph {
			c.info.Initializers++
		}
		// data_location 1 = EXTERNAL; the file is named by the "location" entry.
		for _, kv := range f.entry {
			if kv[0] == "location" {
				c.externalData(f.strs[8], kv[1], off)
			}
		}
	}
}

func (c *checker) customDomain(d string, off int64) {
	if _, seen := c.domains[d]; !seen {
		c.domains[d] = off
	}
}

// externalData checks an external-data location: it must be a relative
// path inside the model's directory.
func (c *checker) externalData(tensor, loc string, off int64) {
	c.info.ExternalFiles = append(c.info.ExternalFiles, loc)
	clean := path.Clean(strings.ReplaceAll(loc, "\\", "/"))
	switch {
	case loc == "":
		c.problem(off, KindExternalData, fmt.Sprintf("tensor %q has external data with an empty location", tensor))
	case strings.HasPrefix(clean, "/") || len(clean) > 1 && clean[1] == ':' || strings.Contains(loc, "://"):
		c.problem(off, KindExternalData, fmt.Sprintf("tensor %q reads its data from the absolute path %q: loading the model reads that file into the tensor", tensor, loc))
	case clean == ".." || strings.HasPrefix(clean, "../"):
		c.problem(off, KindExternalData, fmt.Sprintf("tensor %q reads its data from %q, outside the model's directory: loading the model reads that file into the tensor", tensor, loc))
	}
}

// varint reads a base-128 varint at off, not past end.
