package pickle

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind is the kind of artifact a pickle belongs to; it selects the
// allow-list.
type Kind int

// Artifact kinds.
const (
	// KindPlain is a pickle of plain data: only what the protocol needs to
	// encode builtin types, plus NumPy arrays.
	KindPlain Kind = iota
	// KindTorch is a PyTorch checkpoint: plain data plus tensor and
	// storage rebuilding, dtypes, torch.Size and OrderedDict.
	KindTorch
)

func (k Kind) String() string {
	if k == KindTorch {
		return "torch"
	}
	return "plain"
}

// Python 2 module names the unpickler maps to Python 3 ones when it loads
// protocol 0-2 pickles (fix_imports, as in CPython's _compat_pickle).
var py2Modules = map[string]string{
	"__builtin__": "builtins", "copy_reg": "copyreg", "cPickle": "pickle", "commands": "subprocess",
	"exceptions": "builtins", "Queue": "queue", "SocketServer": "socketserver", "ConfigParser": "configparser",
	"repr": "reprlib", "UserDict": "collections", "UserList": "collections", "UserString": "collections",
	"whichdb": "dbm", "anydbm": "dbm", "StringIO": "io", "cStringIO": "io", "urllib2": "urllib.request",
	"urlparse": "urllib.parse", "httplib": "http.client", "thread": "_thread", "dummy_thread": "_dummy_thread",
	"BaseHTTPServer": "http.server", "CGIHTTPServer": "http.server", "SimpleHTTPServer": "http.server",
	"Cookie": "http.cookies", "cookielib": "http.cookiejar", "xmlrpclib": "xmlrpc.client",
	"SimpleXMLRPCServer": "xmlrpc.server", "_winreg": "winreg", "_abcoll": "collections.abc",
	"dbhash": "dbm.bsd", "dumbdbm": "dbm.dumb", "gdbm": "dbm.gnu", "HTMLParser": "html.parser",
}

// py2Names maps (module, name) pairs the same way.
var py2Names = map[string]string{
	"__builtin__.xrange": "builtins.range", "__builtin__.unicode": "builtins.str",
	"__builtin__.basestring": "builtins.str", "__builtin__.long": "builtins.int",
	"__builtin__.unichr": "builtins.chr", "__builtin__.raw_input": "builtins.input",
	"__builtin__.reduce": "functools.reduce", "__builtin__.intern": "sys.intern",
	"__builtin__.execfile": "builtins.exec", "itertools.izip": "builtins.zip",
	"itertools.imap": "builtins.map", "itertools.ifilter": "builtins.filter",
	"UserDict.UserDict": "collections.UserDict", "UserDict.IterableUserDict": "collections.UserDict",
	"socket._socketobject": "socket.SocketType", "exceptions.StandardError": "builtins.Exception",
}

// canonical maps a module name to the one the unpickler really imports.
func canonical(module string) string {
	if m, ok := py2Modules[module]; ok {
		return m
	}
	return module
}

// resolve maps module.name to what the unpickler really looks up.
func resolve(module, name string) (string, string) {
	if q, ok := py2Names[module+"."+name]; ok {
		i := strings.LastIndexByte(q, '.')
		return q[:i], q[i+1:]
	}
	return canonical(module), name
}

// plainAllowed is what the pickle protocol itself needs for builtin types.
var plainAllowed = set(
	"builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.complex", "builtins.slice",
	"builtins.range", "builtins.bytes", "builtins.list", "builtins.dict", "builtins.tuple",
	"builtins.int", "builtins.float", "builtins.str", "builtins.bool", "builtins.object",
	"_codecs.encode", "copyreg._reconstructor", "collections.OrderedDict", "collections.defaultdict",
	"datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
	"decimal.Decimal", "uuid.UUID", "fractions.Fraction",
	// NumPy arrays and scalars.
	"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
	"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
	"numpy.ndarray", "numpy.dtype",
	"numpy.dtypes.Float64DType", "numpy.dtypes.Float32DType", "numpy.dtypes.Int64DType", "numpy.dtypes.Int32DType",
	"numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
	"numpy.random._pickle.__generator_ctor",
	// joblib's wrapper for arrays written raw into the stream (not the
	// legacy NDArrayWrapper, which loads side files by name).
	"joblib.numpy_pickle.NumpyArrayWrapper",
)

// torchAllowed adds what torch.save writes for tensors and state dicts.
var torchAllowed = set(
	"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
	"torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
	"torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_sparse_csr_tensor",
	"torch._utils._rebuild_nested_tensor", "torch._utils._rebuild_qtensor",
	"torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
	"torch._utils._rebuild_device_tensor_from_numpy",
	"torch._tensor._rebuild_from_type", "torch._tensor._rebuild_from_type_v2",
	"torch.Size", "torch.device", "torch.dtype", "torch.layout", "torch.memory_format",
	"torch.nn.parameter.Parameter", "torch.Tensor", "torch.serialization._get_layout",
	"torch.storage.UntypedStorage", "torch.storage.TypedStorage", "torch.UntypedStorage",
	"torch.strided", "torch.sparse_coo", "torch.sparse_csr", "torch.contiguous_format",
	"torch.channels_last", "torch.preserve_format", "torch.per_tensor_affine", "torch.per_channel_affine",
)

var torchStorages = []string{
	"Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool",
	"ComplexFloat", "ComplexDouble", "QUInt8", "QInt8", "QInt32", "QUInt4x2", "QUInt2x4",
	"Float8_e4m3fn", "Float8_e5m2", "Untyped",
}

var torchDtypes = []string{
	"float32", "float", "float64", "double", "float16", "half", "bfloat16", "complex64", "cfloat", "complex128",
	"cdouble", "complex32", "uint8", "int8", "int16", "short", "int32", "int", "int64", "long", "bool",
	"qint8", "quint8", "qint32", "quint4x2", "quint2x4", "float8_e4m3fn", "float8_e5m2", "uint16", "uint32", "uint64",
}

func init() {
	for _, s := range torchStorages {
		torchAllowed["torch."+s+"Storage"] = true
	}
	for _, d := range torchDtypes {
		torchAllowed["torch."+d] = true
	}
}

// higherOrder are allowed functions that call one of their arguments: the
// argument at Index must itself be an allowed global, or the allowed
// function launders an arbitrary call.
var higherOrder = map[string]int{
	"copyreg._reconstructor":                 0, // cls.__new__ / base.__init__
	"torch._tensor._rebuild_from_type":       0, // func(*args)
	"torch._tensor._rebuild_from_type_v2":    0,
	"torch._utils._rebuild_wrapper_subclass": 0,
	"numpy.core.multiarray._reconstruct":     0, // cls
	"numpy._core.multiarray._reconstruct":    0,
	"collections.defaultdict":                0, // default_factory runs on a missing key
}

// dangerousModules are modules any attribute of which is critical.
var dangerousModules = set(
	"os", "posix", "nt", "subprocess", "pty", "shutil", "sys", "runpy", "importlib", "imp", "zipimport",
	"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal", "socket", "ssl",
	"http", "urllib", "urllib2", "urllib3", "requests", "httplib", "ftplib", "smtplib", "telnetlib",
	"webbrowser", "ctypes", "cffi", "pip", "setuptools", "distutils", "code", "codeop", "pdb", "bdb",
	"trace", "timeit", "cProfile", "profile", "multiprocessing", "concurrent", "asyncio", "threading",
	"socketserver", "xmlrpc", "dbm", "winreg", "_winapi", "msvcrt", "_posixsubprocess", "select",
	"_thread", "signal", "tempfile", "glob", "fcntl", "resource", "gc", "inspect", "types", "builtins.__loader__",
	"torch.hub", "torch.jit", "torch.ops", "torch.classes", "torch.utils.cpp_extension", "torch._C",
	"numpy.testing", "numpy.distutils", "numpy.f2py", "keras.utils", "tensorflow",
)

// dangerousNames are individual attributes that are critical.
var dangerousNames = set(
	"builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__", "builtins.getattr",
	"builtins.setattr", "builtins.delattr", "builtins.open", "builtins.input", "builtins.breakpoint",
	"builtins.globals", "builtins.locals", "builtins.vars", "builtins.type", "builtins.memoryview",
	"builtins.help", "builtins.exit", "builtins.quit", "builtins.print",
	"pydoc.locate", "pydoc.pipepager", "pydoc.tempfilepager",
	"operator.attrgetter", "operator.methodcaller", "operator.getitem", "operator.setitem",
	"functools.partial", "functools.reduce", "itertools.starmap",
	"torch.load", "torch.serialization.load", "torch.storage._load_from_bytes", "torch.save",
	"numpy.load", "numpy.save", "numpy.fromfile", "numpy.memmap", "numpy.lib.npyio.load",
	"platform.popen", "platform.system", "pathlib.Path", "pathlib.PosixPath", "io.open", "io.FileIO",
	"codecs.open", "logging.config.listen", "logging.config.fileConfig",
)

// Verdict grades one global.
type Verdict int

// Verdicts, from safe to worst.
const (
	Allowed Verdict = iota
	Unknown
	Dangerous
)

// Policy decides which globals a pickle may reference.
type Policy struct {
	Kind Kind
	// Allow extends the allow-list with "module.name" entries or "module.*"
	// prefixes (from .mlgate.yaml). It never overrides the danger list.
	Allow []string
	// Strict reports any pickle at all (the seed's hardened workflow fails
	// on .pkl/.pickle/.joblib files).
	Strict bool
}

// Classify grades module.name under the policy, with a reason for anything
// not allowed.
func (p *Policy) Classify(module, name string) (Verdict, string) {
	mod, name := resolve(module, name)
	q := mod + "." + name
	if dangerousNames[q] {
		return Dangerous, "known to execute code, load nested pickles, touch files or reach the network"
	}
	if plainAllowed[q] || (p.Kind == KindTorch && torchAllowed[q]) {
		return Allowed, "" // curated entries may sit in otherwise dangerous modules (joblib)
	}
	for m := mod; m != ""; m = parentModule(m) {
		if dangerousModules[m] {
			return Dangerous, "module " + m + " executes commands, imports code, deserialises or does I/O"
		}
	}
	if strings.Contains(name, ".") {
		return Dangerous, "the dotted name walks attributes through " + mod + ": a different module can be reached (e.g. pathlib + os.system)"
	}
	for _, a := range p.Allow {
		if a == q || strings.HasSuffix(a, ".*") && strings.HasPrefix(q, strings.TrimSuffix(a, "*")) {
			return Allowed, ""
		}
	}
	return Unknown, "not on the " + p.Kind.String() + " allow-list"
}

// qualName is the resolved module.name the unpickler would look up.
func qualName(g *Global) string {
	if g.q == "" {
		m, n := resolve(g.Module, g.Name)
		g.q = m + "." + n
	}
	return g.q
}

func parentModule(m string) string {
	if i := strings.LastIndexByte(m, '.'); i > 0 {
		return m[:i]
	}
	return ""
}

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Issue kinds, each reported under its own rule.
const (
	IssueDangerousGlobal = "dangerous-global"
	IssueUnknownGlobal   = "unknown-global"
	IssueDynamicGlobal   = "dynamic-global"
	IssueExtension       = "extension-code"
	IssueIndirectCall    = "indirect-call"
	IssueMutation        = "unsafe-mutation"
	IssuePersistentID    = "persistent-id"
	IssueMalformed       = "malformed"
)

// Issue is one thing the policy objects to.
type Issue struct {
	Kind    string
	Offset  int64
	Message string
	// Key identifies the issue stably (a qualname, an opcode): it becomes
	// the finding's evidence and so its fingerprint.
	Key string
	// Count is how many times the same issue occurred (first Offset kept).
	Count int
}

// Result is what the analysis of one pickle stream found.
type Result struct {
	Stats  Stats
	Issues []Issue
	// Globals lists every module.name the stream references, sorted, with
	// its verdict: the inventory the JSON report shows.
	Globals []GlobalUse
}

// GlobalUse is one referenced global.
type GlobalUse struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Count   int    `json:"count"`
	Offset  int64  `json:"first_offset"`
}

// checker is the Observer that applies a Policy.
type checker struct {
	p       *Policy
	globals map[string]*globalState
	order   []string
	issues  map[string]*Issue // by kind+key
	keys    []string
}

type globalState struct {
	g       *Global
	verdict Verdict
	reason  string
	count   int
	calls   []string
	ncalls  int
}

const maxCallsShown = 3

func newChecker(p *Policy) *checker {
	return &checker{p: p, globals: map[string]*globalState{}, issues: map[string]*Issue{}}
}

func (c *checker) issue(kind, key string, off int64, msg string) {
	k := kind + "\x00" + key
	if is, ok := c.issues[k]; ok {
		is.Count++
		return
	}
	c.issues[k] = &Issue{Kind: kind, Key: key, Offset: off, Message: msg, Count: 1}
	c.keys = append(c.keys, k)
}

func (c *checker) Global(g *Global) {
	switch {
	case g.Ext != 0:
		c.issue(IssueExtension, fmt.Sprintf("EXT %d", g.Ext), g.Offset,
			fmt.Sprintf("copyreg extension code %d at offset %d: the callable is whatever the loading process registered under that code, hidden from scanners that only read names", g.Ext, g.Offset))
		return
	case g.Dynamic:
		c.issue(IssueDynamicGlobal, "STACK_GLOBAL "+g.Module+" "+g.Name, g.Offset,
			fmt.Sprintf("STACK_GLOBAL at offset %d takes its module and name from computed values (%s, %s): the target cannot be known without running the pickle", g.Offset, g.Module, g.Name))
		return
	}
	q := qualName(g)
	st, ok := c.globals[q]
	if !ok {
		v, reason := c.p.Classify(g.Module, g.Name)
		st = &globalState{g: g, verdict: v, reason: reason}
		c.globals[q] = st
		c.order = append(c.order, q)
	}
	st.count++
}

func (c *checker) Call(call *Call) {
	g, ok := call.Func.(*Global)
	if !ok {
		if call.Func == nil {
			return // underflow, already a problem
		}
		if _, isCall := call.Func.(*Call); isCall || call.Op == "REDUCE" {
			c.issue(IssueIndirectCall, "call of "+kindOf(call.Func), call.Offset,
				fmt.Sprintf("%s at offset %d calls a value computed while unpickling: %s", call.Op, call.Offset, Render(call)))
		}
		return
	}
	if g.Ext != 0 || g.Dynamic {
		c.issue(IssueIndirectCall, "call of "+Render(g), call.Offset,
			fmt.Sprintf("%s at offset %d calls a hidden callable: %s", call.Op, call.Offset, Render(call)))
		return
	}
	q := qualName(g)
	if st, ok := c.globals[q]; ok {
		st.ncalls++
		if len(st.calls) < maxCallsShown {
			st.calls = append(st.calls, fmt.Sprintf("%s at offset %d", Render(call), call.Offset))
		}
		if st.verdict == Allowed {
			c.checkHigherOrder(q, call)
			// The arguments of an allowed call have been checked; only the
			// callable matters from here on (BUILD and SETITEM targets), so
			// free them: a checkpoint holds one such call per tensor.
			if !keepArgs[q] {
				call.Args, call.Kwargs = nil, nil
			}
		}
	}
}

// checkHigherOrder reports an allowed function used to call something that
// is not allowed.
func (c *checker) checkHigherOrder(q string, call *Call) {
	idx, ok := higherOrder[q]
	if !ok {
		return
	}
	args, ok := call.Args.(*Seq)
	if !ok || idx >= len(args.Items) {
		return
	}
	switch f := args.Items[idx].(type) {
	case *Global:
		if f.Ext == 0 && !f.Dynamic {
			if v, _ := c.p.Classify(f.Module, f.Name); v == Allowed {
				return
			}
		}
	case None:
		if q == "collections.defaultdict" {
			return
		}
	}
	c.issue(IssueIndirectCall, q+" calls "+Render(args.Items[idx]), call.Offset,
		fmt.Sprintf("allowed function %s at offset %d is made to call %s, which is not allowed: %s", q, call.Offset, Render(args.Items[idx]), Render(call)))
}

func kindOf(v Value) string {
	switch v.(type) {
	case *Call:
		return "call result"
	case *Persistent:
		return "persistent object"
	case *Seq, *Dict:
		return "container"
	}
	return "value"
}

// keepArgs are allowed calls whose arguments later checks read.
var keepArgs = set("numpy.dtype")

// containerCalls are allowed callables whose results accept
// SETITEM(S)/APPEND(S)/ADDITEMS and BUILD with ordinary state.
var containerCalls = set(
	"collections.OrderedDict", "collections.defaultdict", "builtins.set", "builtins.list", "builtins.dict",
	"builtins.bytearray", "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
	"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype", "copyreg._reconstructor",
	"torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state", "builtins.object",
	"numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
	"numpy.random._pickle.__generator_ctor", "torch.nn.parameter.Parameter",
	"joblib.numpy_pickle.NumpyArrayWrapper",
)

func (c *checker) Mutation(mu *Mutation) {
	switch t := mu.Target.(type) {
	case *Global:
		c.issue(IssueMutation, mu.Op+" on "+Render(t), mu.Offset,
			fmt.Sprintf("%s at offset %d modifies %s itself (a module-level object), so code that later uses it runs attacker-chosen state: %s", mu.Op, mu.Offset, Render(t), Render(mu.Arg)))
	case *Call:
		g, ok := t.Func.(*Global)
		if !ok || g.Ext != 0 || g.Dynamic {
			return // the call itself is already reported
		}
		q := qualName(g)
		if st := c.globals[q]; st == nil || st.verdict != Allowed {
			return // reported with the global
		}
		if !containerCalls[q] {
			c.issue(IssueMutation, mu.Op+" on "+q, mu.Offset,
				fmt.Sprintf("%s at offset %d is applied to the result of %s, which does not take it from a legitimate pickle: the unpickler calls a method of that object with %s", mu.Op, mu.Offset, q, Render(mu.Arg)))
			return
		}
		if mu.Op == "BUILD" {
			if key := dunderKey(mu.Arg); key != "" {
				c.issue(IssueMutation, "BUILD "+key+" on "+q, mu.Offset,
					fmt.Sprintf("BUILD at offset %d sets %s on a %s object: special attributes change what the object does when used", mu.Offset, key, q))
			}
		}
	case *Persistent:
		c.issue(IssueMutation, mu.Op+" on persistent object", mu.Offset,
			fmt.Sprintf("%s at offset %d modifies an object resolved by persistent_load: %s", mu.Op, mu.Offset, Render(mu.Arg)))
	}
}

// dunderKey returns the first "__x__"-style key set by a BUILD state (a
// dict, or a (state, slotstate) tuple).
func dunderKey(state Value) string {
	var dicts []*Dict
	switch s := state.(type) {
	case *Dict:
		dicts = append(dicts, s)
	case *Seq:
		for _, it := range s.Items {
			if d, ok := it.(*Dict); ok {
				dicts = append(dicts, d)
			}
		}
	}
	for _, d := range dicts {
		for _, k := range d.Keys {
			if s, ok := k.(Str); ok && strings.HasPrefix(s.S, "__") {
				return s.S
			}
		}
	}
	return ""
}

func (c *checker) Persistent(p *Persistent) {
	if c.p.Kind != KindTorch {
		c.issue(IssuePersistentID, "persistent id", p.Offset,
			fmt.Sprintf("persistent id at offset %d in a format that defines none: the loader's persistent_load decides what %s becomes", p.Offset, Render(p.ID)))
		return
	}
	if why := c.badTorchPersistentID(p.ID); why != "" {
		c.issue(IssuePersistentID, "torch persistent id: "+why, p.Offset,
			fmt.Sprintf("persistent id at offset %d is not a torch storage reference (%s): %s", p.Offset, why, Render(p.ID)))
	}
}

// badTorchPersistentID checks ('storage', <storage type>, key, location,
// numel), the only persistent id torch.save writes.
func (c *checker) badTorchPersistentID(id Value) string {
	t, ok := id.(*Seq)
	// torch.save writes 5-tuples; the legacy (pre-1.6) format adds view
	// metadata: None or (view key, offset, size).
	if !ok || t.Kind != Tuple || (t.Len != 5 && t.Len != 6) || len(t.Items) != t.Len {
		return "not a 5-tuple"
	}
	if t.Len == 6 {
		switch v := t.Items[5].(type) {
		case None:
		case *Seq:
			if v.Kind != Tuple || v.Len != 3 {
				return "view metadata is not (key, offset, size)"
			}
		default:
			return "view metadata is not None or a tuple"
		}
	}
	if s, ok := t.Items[0].(Str); !ok || s.S != "storage" {
		return "first item is not 'storage'"
	}
	g, ok := t.Items[1].(*Global)
	if !ok || g.Ext != 0 || g.Dynamic {
		return "storage type is not a global"
	}
	// The storage type was classified when its GLOBAL was decoded.
	if st := c.globals[qualName(g)]; st == nil || st.verdict != Allowed || !strings.HasSuffix(g.Name, "Storage") || !strings.HasPrefix(g.Module, "torch") {
		return "storage type " + g.QualName() + " is not a torch storage"
	}
	if _, ok := t.Items[2].(Str); !ok {
		return "storage key is not a string"
	}
	if _, ok := t.Items[3].(Str); !ok {
		return "location is not a string"
	}
	if _, ok := t.Items[4].(Int); !ok {
		return "element count is not an integer"
	}
	return ""
}

func (c *checker) Problem(p Problem) {
	c.issue(IssueMalformed, p.Msg, p.Offset, fmt.Sprintf("offset %d: %s", p.Offset, p.Msg))
}

// finish turns the accumulated state into issues and the inventory.
func (c *checker) finish(stats Stats) *Result {
	res := &Result{Stats: stats}
	for _, q := range c.order {
		st := c.globals[q]
		res.Globals = append(res.Globals, GlobalUse{Name: q, Verdict: verdictName(st.verdict), Count: st.count, Offset: st.g.Offset})
		if st.verdict == Allowed {
			continue
		}
		kind := IssueUnknownGlobal
		if st.verdict == Dangerous {
			kind = IssueDangerousGlobal
		}
		var msg string
		if st.ncalls > 0 {
			msg = fmt.Sprintf("would run %s", strings.Join(st.calls, "; "))
			if st.ncalls > len(st.calls) {
				msg += fmt.Sprintf(" (and %d more calls)", st.ncalls-len(st.calls))
			}
			msg += fmt.Sprintf(" — %s: %s", q, st.reason)
		} else {
			msg = fmt.Sprintf("imports %s at offset %d (importing runs the module's code; the object may be called later) — %s: %s", q, st.g.Offset, q, st.reason)
		}
		c.issues[kind+"\x00"+q] = &Issue{Kind: kind, Key: q, Offset: st.g.Offset, Message: msg, Count: st.count}
		c.keys = append(c.keys, kind+"\x00"+q)
	}
	sort.Slice(res.Globals, func(i, j int) bool { return res.Globals[i].Name < res.Globals[j].Name })
	for _, k := range c.keys {
		res.Issues = append(res.Issues, *c.issues[k])
	}
	sort.SliceStable(res.Issues, func(i, j int) bool { return res.Issues[i].Offset < res.Issues[j].Offset })
	if c.p.Strict {
		res.Issues = append(res.Issues, Issue{Kind: "strict", Key: "pickle", Offset: 0, Count: 1,
			Message: "the file is a pickle; the strict policy forbids pickle-based formats whatever they contain"})
	}
	return res
}

func verdictName(v Verdict) string {
	switch v {
	case Allowed:
		return "allowed"
	case Dangerous:
		return "dangerous"
	}
	return "unknown"
}

// AfterBuild recognises joblib's NumpyArrayWrapper: joblib writes the
// array's bytes (after an optional alignment padding) or, for object
// arrays, a nested pickle right after the wrapper's BUILD.
func (c *checker) AfterBuild(target, state Value) (Payload, bool) {
	call, ok := target.(*Call)
	if !ok {
		return Payload{}, false
	}
	g, ok := call.Func.(*Global)
	if !ok || g.Ext != 0 || g.Dynamic || qualName(g) != "joblib.numpy_pickle.NumpyArrayWrapper" {
		return Payload{}, false
	}
	d, ok := state.(*Dict)
	if !ok {
		return Payload{Problem: "joblib array wrapper without a state dict: the array's size is unknown"}, true
	}
	field := func(name string) Value {
		for i, k := range d.Keys {
			if s, ok := k.(Str); ok && s.S == name {
				return d.Vals[i]
			}
		}
		return nil
	}
	itemsize, object, why := dtypeSize(field("dtype"))
	if why != "" {
		return Payload{Problem: "joblib array wrapper: " + why}, true
	}
	if object {
		// Object arrays are written as a nested protocol-2 pickle, with no
		// alignment padding whatever the state says.
		return Payload{Nested: true}, true
	}
	p := Payload{}
	if _, ok := field("numpy_array_alignment_bytes").(Int); ok {
		p.AlignByte = true
	}
	shape, ok := field("shape").(*Seq)
	if !ok || shape.Len != len(shape.Items) {
		return Payload{Problem: "joblib array wrapper without a readable shape: the array's size is unknown"}, true
	}
	n := itemsize
	for _, it := range shape.Items {
		dim, ok := it.(Int)
		if !ok || dim.Text != "" || dim.V < 0 {
			return Payload{Problem: "joblib array wrapper with an invalid dimension"}, true
		}
		if dim.V != 0 && n > math.MaxInt64/dim.V {
			return Payload{Problem: "joblib array size overflows"}, true
		}
		n *= dim.V
	}
	p.Skip = n
	return p, true
}

// dtypeSize reads the item size of a numpy.dtype(...) call value.
func dtypeSize(v Value) (size int64, object bool, problem string) {
	c, ok := v.(*Call)
	if !ok {
		return 0, false, "dtype is not a numpy.dtype value"
	}
	args, ok := c.Args.(*Seq)
	if !ok || len(args.Items) == 0 {
		return 0, false, "dtype without arguments"
	}
	spec, ok := args.Items[0].(Str)
	if !ok || spec.S == "" {
		return 0, false, "dtype without a type string"
	}
	kind, digits := spec.S[0], spec.S[1:]
	switch kind {
	case 'O':
		return 0, true, ""
	case 'b', 'i', 'u', 'f', 'c', 'M', 'm', '?':
		if kind == '?' {
			return 1, false, ""
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n <= 0 || n > 64 {
			return 0, false, "dtype " + spec.S + " has no usable item size"
		}
		return int64(n), false, ""
	case 'U', 'S', 'V':
		// The item size is the 6th item of the dtype's BUILD state.
		if st, ok := c.State.(*Seq); ok && len(st.Items) > 5 {
			if n, ok := st.Items[5].(Int); ok && n.Text == "" && n.V > 0 {
				return n.V, false, ""
			}
		}
		return 0, false, "dtype " + spec.S + " without an item size"
	}
	return 0, false, "dtype " + spec.S + " is not supported"
}
