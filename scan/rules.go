package scan

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/scan/pickle"
)

// The model/* rules. Pickle rules are raised from scan/pickle issues.
var (
	PickleDangerousGlobal = finding.Register(&finding.Rule{
		ID: "model/pickle-dangerous-global", Title: "Pickle imports or calls a dangerous callable", Severity: finding.Critical,
		Doc: "Loading this file would import, and usually call, a callable that executes commands, evaluates code, loads a " +
			"nested pickle, opens files or reaches the network: os/posix/nt, subprocess, builtins eval/exec/compile/" +
			"__import__/getattr/open, runpy, importlib, pickle and torch/numpy loaders, socket, webbrowser, ctypes, pip, " +
			"pydoc.locate, operator.attrgetter/methodcaller, functools.partial and similar. A dotted name (pathlib + " +
			"'os.system') that walks attributes to reach another module is treated the same way. The finding says " +
			"exactly what would run, with its arguments and byte offset. mlgate decodes the pickle symbolically and " +
			"never runs it.",
		Remediation: "Do not load the file. Obtain the model in a format that cannot carry code (safetensors), or " +
			"from a source you trust, and convert it with `mlgate convert` rather than by loading it.",
	})
	PickleUnknownGlobal = finding.Register(&finding.Rule{
		ID: "model/pickle-unknown-global", Title: "Pickle uses a callable outside the allow-list", Severity: finding.High,
		Doc: "The pickle imports a module attribute that is neither on the allow-list for the artifact's kind (PyTorch " +
			"tensors and storages, NumPy arrays, the builtins the pickle protocol needs) nor known to be dangerous. " +
			"Loading it runs that module's import-time code and whatever the callable does. Allow-lists, not " +
			"deny-lists: a callable mlgate does not know is not assumed safe.",
		Remediation: "Check what the callable does. If it is a class your own code defines and trusts, add it to the " +
			"rule's `allow` option in .mlgate.yaml (exact `module.name`, or `module.*`); otherwise do not load the file.",
		Options: map[string]string{"allow": "extra allowed globals: \"module.name\" or \"module.*\" (never overrides the dangerous list)"},
	})
	PickleDynamicGlobal = finding.Register(&finding.Rule{
		ID: "model/pickle-dynamic-global", Title: "Pickle computes the name of what it imports", Severity: finding.Critical,
		Doc: "STACK_GLOBAL takes its module and attribute names from the stack; here they are not string constants but " +
			"values computed while unpickling, so the imported callable cannot be known without running the pickle. " +
			"Legitimate pickles always push constant names.",
		Remediation: "Do not load the file.",
	})
	PickleExtensionCode = finding.Register(&finding.Rule{
		ID: "model/pickle-extension-code", Title: "Pickle uses a copyreg extension code", Severity: finding.Critical,
		Doc: "EXT1/EXT2/EXT4 name a callable by a number registered with copyreg in the loading process, not by its " +
			"name. The standard library registers none; checkpoints never use them; scanners that only read names miss " +
			"what they resolve to.",
		Remediation: "Do not load the file.",
	})
	PickleIndirectCall = finding.Register(&finding.Rule{
		ID: "model/pickle-indirect-call", Title: "Pickle calls something that is not a plain import", Severity: finding.Critical,
		Doc: "A REDUCE calls a value computed while unpickling (the result of another call, e.g. getattr(...)), a hidden " +
			"callable, or an allowed function (copyreg._reconstructor, torch's _rebuild_from_type_v2, NumPy's " +
			"_reconstruct, defaultdict) is made to call a callable that is not allowed. These are the standard ways to " +
			"launder a dangerous call past name-based scanners.",
		Remediation: "Do not load the file.",
	})
	PickleUnsafeMutation = finding.Register(&finding.Rule{
		ID: "model/pickle-unsafe-mutation", Title: "Pickle modifies an object it should not", Severity: finding.Critical,
		Doc: "BUILD, SETITEM(S), APPEND(S) or ADDITEMS is applied to a module-level object (monkey-patching a module " +
			"or class for everything loaded later), to an object whose type does not take such state in a legitimate " +
			"pickle (the unpickler then calls its __setstate__/append/__setitem__ with attacker data), or sets special " +
			"(__dunder__) attributes.",
		Remediation: "Do not load the file.",
	})
	PicklePersistentID = finding.Register(&finding.Rule{
		ID: "model/pickle-persistent-id", Title: "Pickle persistent id the format does not allow", Severity: finding.High,
		Doc: "Persistent ids are resolved by the loader's persistent_load. PyTorch checkpoints only use " +
			"('storage', <torch storage type>, key, location, numel); other formats use none. Anything else either " +
			"breaks the loader or asks it to resolve an object the format never stores.",
		Remediation: "Do not load the file; re-export it with the framework's own save function.",
	})
	PickleMalformed = finding.Register(&finding.Rule{
		ID: "model/pickle-malformed", Title: "Malformed pickle stream", Severity: finding.High,
		Doc: "The pickle stream is not what a pickler writes: it is truncated, uses an unknown opcode, underflows the " +
			"stack, misuses the memo, has a FRAME whose length does not match the opcodes, leaves data on the stack, " +
			"or has data (often a second pickle) after STOP. Unpicklers and scanners disagree on such streams, which " +
			"is how payloads get past scanners; mlgate decodes as far as the bytes allow and reports every anomaly.",
		Remediation: "Do not load the file; obtain a clean copy from its source.",
	})
	PickleForbidden = finding.Register(&finding.Rule{
		ID: "model/pickle-forbidden", Title: "Pickle-based file under the strict policy", Severity: finding.High,
		Doc: "With `--policy strict`, any pickle-based file is a finding, whatever it contains: the seed's hardened " +
			"workflow fails on .pkl, .pickle and .joblib files in the model output.",
		Remediation: "Ship the model as safetensors (or another format that cannot carry code).",
	})
	UnscannableContainer = finding.Register(&finding.Rule{
		ID: "model/unscannable-container", Title: "Container that could not be scanned", Severity: finding.High,
		Doc: "The file (or an entry in it) is a container mlgate cannot open — 7z, an encrypted zip entry, an xz " +
			"or zstd stream that is corrupt, uses an unsupported filter or asks for a dictionary or window larger " +
			"than 64 MiB, or containers nested deeper than the limit — so what it holds was not scanned. Wrapping a " +
			"pickle this way is a known way past scanners.",
		Remediation: "Unpack the container and scan its contents, or obtain the model unwrapped.",
	})
	ZipAnomaly = finding.Register(&finding.Rule{
		ID: "model/archive-anomaly", Title: "Archive structure that loaders and scanners read differently", Severity: finding.High,
		Doc: "Duplicate entry names, entries whose content does not match the archive's CRC, entries that cannot be " +
			"opened, and decompression bombs. Loaders and scanners resolve such archives differently, so what was " +
			"scanned may not be what gets loaded.",
		Remediation: "Do not load the file; obtain a clean copy from its source.",
	})
	UnsupportedFormat = finding.Register(&finding.Rule{
		ID: "model/unsupported-format", Title: "Model format recognised but not analyzed yet", Severity: finding.Info,
		Doc: "mlgate recognised the file's format (safetensors, GGUF, HDF5/Keras) but does not analyze it yet, so it " +
			"makes no claim about it. Reported so that nothing is silently passed.",
		Remediation: "None needed now; later versions analyze these formats.",
	})
)

var issueRules = map[string]*finding.Rule{
	pickle.IssueDangerousGlobal: PickleDangerousGlobal,
	pickle.IssueUnknownGlobal:   PickleUnknownGlobal,
	pickle.IssueDynamicGlobal:   PickleDynamicGlobal,
	pickle.IssueExtension:       PickleExtensionCode,
	pickle.IssueIndirectCall:    PickleIndirectCall,
	pickle.IssueMutation:        PickleUnsafeMutation,
	pickle.IssuePersistentID:    PicklePersistentID,
	pickle.IssueMalformed:       PickleMalformed,
	"strict":                    PickleForbidden,
}

// UnreadableFinding reports a file that could not be read at all.
func UnreadableFinding(path string, err error) finding.Finding {
	return UnscannableContainer.New(finding.Location{File: path, Logical: "file"},
		"the file could not be scanned: "+err.Error(), "unreadable")
}

// UnknownFormatFinding reports a file named for scanning whose format is
// not a model format mlgate recognises.
func UnknownFormatFinding(path string) finding.Finding {
	return UnsupportedFormat.New(finding.Location{File: path, Logical: "file"},
		path+" is not in a model format mlgate recognises (pickle, PyTorch, NumPy, zip, compressed); it was not analyzed", "unknown format")
}

// GGUF rules.
var (
	GGUFMalformed = finding.Register(&finding.Rule{
		ID: "model/gguf-malformed", Title: "Malformed or inconsistent GGUF file", Severity: finding.High,
		Doc: "The GGUF header, metadata or tensor table violates the format: bad magic or version, counts or " +
			"lengths larger than the file, unknown value or tensor types, duplicate keys or tensor names, a bad " +
			"alignment, tensors outside the file or overlapping. Loaders disagree on such files (which duplicate " +
			"key wins, how far a length reaches), and several llama.cpp memory-safety bugs were reached exactly " +
			"this way. mlgate parses the header without reading tensor data.",
		Remediation: "Do not load the file; obtain it again from its source, or re-export it with the reference " +
			"converter.",
	})
	GGUFTemplateInjection = finding.Register(&finding.Rule{
		ID: "model/gguf-template-injection", Title: "GGUF chat template reaches Python internals", Severity: finding.Critical,
		Doc: "The chat template stored in the GGUF metadata (tokenizer.chat_template) uses constructs that escape " +
			"Jinja2 into Python — dunder attributes such as __class__, __globals__, __subclasses__, the attr filter, " +
			"or the globals cycler/joiner/lipsum — which run code when a server renders the template without a " +
			"sandbox (llama-cpp-python before 0.2.72, CVE-2024-34359). Ordinary chat templates never need them.",
		Remediation: "Do not serve the model with this template: replace tokenizer.chat_template with a known-good " +
			"template and render templates in a sandboxed environment.",
	})
)

// SafetensorsInvalid reports safetensors files that break the format.
var SafetensorsInvalid = finding.Register(&finding.Rule{
	ID: "model/safetensors-invalid", Title: "Invalid safetensors file", Severity: finding.High,
	Doc: "safetensors cannot carry code, but only if the file is what the format says: a bounded JSON header with " +
		"no duplicate keys, known dtypes, shapes whose byte size matches the offsets, tensors laid out contiguously " +
		"from offset 0 with no gap, overlap or trailing data. Duplicate tensor names make different loaders read " +
		"different weights; overlapping or out-of-range offsets and oversized headers have crashed loaders. A valid " +
		"file yields no finding; mlgate reads only the header.",
	Remediation: "Do not load the file; re-export it with the safetensors library, or obtain it again from its source.",
})

// LegacyTarCheckpoint reports PyTorch's oldest, tar-based format.
var LegacyTarCheckpoint = finding.Register(&finding.Rule{
	ID: "model/legacy-tar-checkpoint", Title: "PyTorch tar checkpoint (pre-0.4 format)", Severity: finding.High,
	Doc: "The file is a tar archive in PyTorch's oldest checkpoint layout (sys_info, pickle, storages, tensors). " +
		"Current torch versions no longer write it, tools disagree on how they read it, and a tar can carry members " +
		"no loader expects. mlgate checks its pickles with the PyTorch allow-list but does not call the file safe.",
	Remediation: "Re-export the weights with a current torch.save, or better as safetensors, from a trusted environment.",
})

// ONNX rules.
var (
	ONNXExternalData = finding.Register(&finding.Rule{
		ID: "model/onnx-external-data-escape", Title: "ONNX external data outside the model directory", Severity: finding.High,
		Doc: "A tensor's external_data location is an absolute path, a URL, or climbs out of the model's directory " +
			"with '..'. Loading the model then reads that file (an SSH key, /etc/passwd, a cloud credential) into a " +
			"tensor that inference can leak; this is the ONNX path-traversal class of CVE-2024-27318/27319.",
		Remediation: "Keep external data files next to the model and reference them by relative names; do not load " +
			"models whose external data points elsewhere.",
	})
	ONNXCustomDomain = finding.Register(&finding.Rule{
		ID: "model/onnx-custom-domain", Title: "ONNX model needs custom operators", Severity: finding.Medium,
		Doc: "The model uses operators from a domain no standard runtime implements, so serving it requires " +
			"registering a native custom-operator library. That library is code from wherever the model came from, " +
			"not part of the model, and is easy to overlook in review.",
		Remediation: "Check where the custom operator library comes from and pin it; prefer models that use only " +
			"standard ONNX operators.",
	})
	ONNXMalformed = finding.Register(&finding.Rule{
		ID: "model/onnx-malformed", Title: "Malformed ONNX protobuf", Severity: finding.High,
		Doc: "The ONNX file's protobuf encoding is invalid: truncated fields, lengths beyond their message, wire " +
			"types ONNX never writes, or nesting beyond the limit. Parsers differ on such input.",
		Remediation: "Do not load the file; obtain it again from its source.",
	})
)

// Keras rules.
var (
	KerasLambda = finding.Register(&finding.Rule{
		ID: "model/keras-lambda", Title: "Keras model carries executable Python code", Severity: finding.Critical,
		Doc: "A Lambda layer (or another serialized lambda) stores Python bytecode in the model configuration; Keras " +
			"runs it when the model is loaded or called. safe_mode is the only guard, older Keras has none, and " +
			"CVE-2024-3660 bypassed it. TFOpLambda layers that call file or Python functions are reported too.",
		Remediation: "Do not load the model; rebuild the layer in code you control and load only the weights.",
	})
	KerasCustomObject = finding.Register(&finding.Rule{
		ID: "model/keras-custom-object", Title: "Keras model imports a module outside Keras", Severity: finding.High,
		Doc: "An object in the model configuration names a module that is not part of Keras; deserializing the " +
			"model imports that module and instantiates the object, running whatever code they contain.",
		Remediation: "Check the module; if it is your own and trusted, load the model with it registered explicitly. " +
			"Otherwise do not load the model.",
	})
	KerasMalformed = finding.Register(&finding.Rule{
		ID: "model/keras-config-malformed", Title: "Keras configuration that cannot be read", Severity: finding.High,
		Doc: "The model's configuration JSON is invalid, too large or too deeply nested, or a legacy HDF5 model's " +
			"model_config could not be located, so it could not be checked.",
		Remediation: "Do not load the model until it can be inspected.",
	})
)

// SavedModel rules.
var (
	SavedModelRiskyOp = finding.Register(&finding.Rule{
		ID: "model/savedmodel-risky-op", Title: "TensorFlow graph reads or writes files or runs Python", Severity: finding.Critical,
		Doc: "The SavedModel's graph (or a function in its library) contains operations a model has no business " +
			"running: ReadFile, WriteFile, MatchingFiles, PyFunc/EagerPyFunc (critical), and dataset readers, summary " +
			"writers, debug identities, ImmutableConst, PrintV2 and proto codecs that open files or endpoints named in " +
			"their attributes (high). Serving or calling the model executes them: a graph can read credentials into " +
			"its outputs or overwrite files such as ~/.bashrc. SaveV2/RestoreV2, which every SavedModel uses for its " +
			"variables, are not reported.",
		Remediation: "Do not serve the model; rebuild it from trusted code, or strip the operations and re-export it.",
	})
	SavedModelMalformed = finding.Register(&finding.Rule{
		ID: "model/savedmodel-malformed", Title: "Malformed SavedModel protobuf", Severity: finding.High,
		Doc:         "saved_model.pb is not a valid protobuf encoding (truncated fields, lengths beyond their message, invalid tags, nesting beyond the limit), so it could not be fully checked.",
		Remediation: "Do not load the model; obtain it again from its source.",
	})
)
