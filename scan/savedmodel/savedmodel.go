// Package savedmodel checks TensorFlow SavedModel graphs (saved_model.pb)
// without loading them: it walks the protobuf encoding of the SavedModel
// and reports graph operations that read or write files or run Python
// when the model is served or called.
package savedmodel

import (
	"fmt"
	"github.com/mlgate/mlgate/scan/internal/pbwire"
	"io"
	"sort"
)

// Op risk levels.
const (
	Critical = "critical"
	High     = "high"
)

// riskyOps are operations a model graph should not need: file I/O and
// Python callbacks (the tf.io.write_file / tf.py_function attacks), and
// operations that open files or debug endpoints named by attributes.
var riskyOps = map[string]string{
	"ReadFile": Critical, "WriteFile": Critical, "MatchingFiles": Critical,
	"PyFunc": Critical, "PyFuncStateless": Critical, "EagerPyFunc": Critical,
	"ImmutableConst": High, "LoadAndRemapMatrix": High, "PrintV2": High,
	"TFRecordDataset": High, "TFRecordDatasetV2": High, "FixedLengthRecordDataset": High,
	"FixedLengthRecordDatasetV2": High, "TextLineDataset": High, "CSVDataset": High, "CSVDatasetV2": High,
	"ExperimentalCSVDataset": High, "LMDBDataset": High, "ExperimentalLMDBDataset": High,
	"SqlDataset": High, "ExperimentalSqlDataset": High,
	"CreateSummaryFileWriter": High, "CreateSummaryDbWriter": High, "WriteSummary": High,
	"DebugIdentity": High, "DebugIdentityV2": High, "DebugIdentityV3": High, "DebugNanCount": High,
	"DecodeProtoV2": High, "EncodeProto": High,
}

// Problem is a risky operation (Kind "op") or a malformed encoding
// (Kind "malformed").
type Problem struct {
	Offset int64
	Kind   string
	Op     string
	Level  string
	Msg    string
}

// Info summarises a SavedModel.
type Info struct {
	MetaGraphs int
	Nodes      int
	Functions  int
	Ops        map[string]int
}

const (
	maxDepth    = 32
	maxProblems = 100
	maxString   = 1024
)

type msg int

const (
	mSavedModel msg = iota
	mMetaGraph
	mGraph
	mNode
	mLibrary
	mFunction
)

var children = map[msg]map[uint64]msg{
	mSavedModel: {2: mMetaGraph},
	mMetaGraph:  {2: mGraph},
	mGraph:      {1: mNode, 2: mLibrary},
	mLibrary:    {1: mFunction},
	mFunction:   {3: mNode},
}

type checker struct {
	w        pbwire.Reader
	info     *Info
	problems []Problem
	seen     map[string]bool
}

// Check walks saved_model.pb in r (size bytes).
func Check(r io.ReaderAt, size int64) (*Info, []Problem) {
	c := &checker{w: pbwire.Reader{R: r}, info: &Info{Ops: map[string]int{}}, seen: map[string]bool{}}
	c.walk(0, size, mSavedModel, 0)
	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Offset < c.problems[j].Offset })
	return c.info, c.problems
}

func (c *checker) problem(p Problem) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, p)
	}
}

// walk parses the message in [start, end) and returns its node name and op
// (for NodeDef).
func (c *checker) walk(start, end int64, t msg, depth int) (name, op string) {
	if depth > maxDepth {
		c.problem(Problem{Offset: start, Kind: "malformed", Msg: fmt.Sprintf("messages nested deeper than %d", maxDepth)})
		return
	}
	for off := start; off < end && len(c.problems) < maxProblems; {
		tagOff := off
		tag, n, ok := c.w.Varint(off, end)
		if !ok || tag>>3 == 0 {
			c.problem(Problem{Offset: tagOff, Kind: "malformed", Msg: "invalid field tag"})
			return
		}
		off += n
		num, wire := tag>>3, tag&7
		switch wire {
		case 0:
			_, n, ok := c.w.Varint(off, end)
			if !ok {
				c.problem(Problem{Offset: off, Kind: "malformed", Msg: "truncated varint"})
				return
			}
			off += n
		case 1:
			off += 8
		case 5:
			off += 4
		case 2:
			l, n, ok := c.w.Varint(off, end)
			if !ok || l > uint64(end-off-n) {
				c.problem(Problem{Offset: off, Kind: "malformed", Msg: fmt.Sprintf("field %d declares %d bytes beyond the end of its message", num, l)})
				return
			}
			off += n
			body := off
			off += int64(l)
			if sub, ok := children[t][num]; ok {
				nn, nop := c.walk(body, off, sub, depth+1)
				switch sub {
				case mMetaGraph:
					c.info.MetaGraphs++
				case mFunction:
					c.info.Functions++
				case mNode:
					c.node(nn, nop, body)
				}
			} else if t == mNode && (num == 1 || num == 2) && l <= maxString {
				if num == 1 {
					name = c.w.String(body, int(l))
				} else {
					op = c.w.String(body, int(l))
				}
			}
		default:
			c.problem(Problem{Offset: tagOff, Kind: "malformed", Msg: fmt.Sprintf("field %d uses wire type %d", num, wire)})
			return
		}
		if off > end {
			c.problem(Problem{Offset: end, Kind: "malformed", Msg: "a fixed-size field runs past the end of its message"})
			return
		}
	}
	return
}

func (c *checker) node(name, op string, off int64) {
	c.info.Nodes++
	c.info.Ops[op]++
	level, risky := riskyOps[op]
	if !risky || c.seen[op] {
		return
	}
	c.seen[op] = true
	what := "reads or writes files, or opens endpoints named in its attributes"
	if op == "PyFunc" || op == "PyFuncStateless" || op == "EagerPyFunc" {
		what = "calls back into Python in the serving process"
	}
	c.problem(Problem{Offset: off, Kind: "op", Op: op, Level: level,
		Msg: fmt.Sprintf("graph operation %s (node %q) %s when the model runs", op, truncate(name), what)})
}

func truncate(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
