// Package keras checks Keras model configurations without loading them:
// the config.json of a .keras archive, or the model_config attribute of a
// legacy HDF5 (.h5) model. Lambda layers carry serialized Python bytecode
// that runs when the model is loaded (CVE-2024-3660 bypassed safe_mode),
// and any object whose module is not part of Keras makes the loader import
// that module.
package keras

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Problem kinds.
const (
	KindLambda    = "lambda"
	KindCustom    = "custom-object"
	KindMalformed = "malformed"
)

// Problem is one risky or malformed thing in a configuration.
type Problem struct {
	Kind string
	Path string // where in the JSON, e.g. config.layers[1]
	Msg  string
}

// Limits.
const (
	// MaxConfig bounds the configuration JSON.
	MaxConfig = 16 << 20
	maxDepth  = 64
	// SearchLimit bounds how much of an HDF5 file is searched for the config.
	SearchLimit = 64 << 20
)

// kerasModules are module prefixes whose objects Keras itself provides.
var kerasModules = []string{"keras", "tensorflow.keras", "tensorflow.python.keras", "tf_keras", "keras_nlp", "keras_hub", "keras_cv"}

func kerasModule(m string) bool {
	for _, p := range kerasModules {
		if m == p || strings.HasPrefix(m, p+".") {
			return true
		}
	}
	return false
}

// CheckConfig checks a model configuration (JSON).
func CheckConfig(b []byte) []Problem {
	if len(b) > MaxConfig {
		return []Problem{{Kind: KindMalformed, Msg: fmt.Sprintf("configuration larger than %d bytes", MaxConfig)}}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []Problem{{Kind: KindMalformed, Msg: "configuration is not valid JSON: " + err.Error()}}
	}
	var out []Problem
	walk(v, "", 0, false, &out)
	return out
}

// walk visits every object; inLambda suppresses lambda reports inside a
// Lambda layer already reported (its serialized function is the same code).
func walk(v any, where string, depth int, inLambda bool, out *[]Problem) {
	if depth > maxDepth {
		*out = append(*out, Problem{Kind: KindMalformed, Path: where, Msg: fmt.Sprintf("configuration nested deeper than %d", maxDepth)})
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if check(x, where, inLambda, out) {
			inLambda = true
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(x[k], join(where, k), depth+1, inLambda, out)
		}
	case []any:
		for i, it := range x {
			walk(it, fmt.Sprintf("%s[%d]", where, i), depth+1, inLambda, out)
		}
	}
}

func join(where, k string) string {
	if where == "" {
		return k
	}
	return where + "." + k
}

// check looks at one serialized object and reports whether it reported a
// lambda.
func check(obj map[string]any, where string, inLambda bool, out *[]Problem) (lambda bool) {
	class, _ := obj["class_name"].(string)
	name := ""
	if cfg, ok := obj["config"].(map[string]any); ok {
		name, _ = cfg["name"].(string)
	}
	label := class
	if name != "" {
		label += " " + quote(name)
	}
	switch class {
	case "Lambda", "__lambda__":
		if inLambda {
			break
		}
		lambda = true
		*out = append(*out, Problem{Kind: KindLambda, Path: where,
			Msg: fmt.Sprintf("%s layer at %s carries serialized Python code that runs when the model is loaded (safe_mode is the only guard, and CVE-2024-3660 bypassed it)", label, where)})
	case "TFOpLambda", "SlicingOpLambda":
		if cfg, ok := obj["config"].(map[string]any); ok {
			if fn, _ := cfg["function"].(string); dangerousTFOp(fn) {
				*out = append(*out, Problem{Kind: KindLambda, Path: where,
					Msg: fmt.Sprintf("%s layer at %s calls TensorFlow function %s, which reaches files or Python", label, where, quote(fn))})
			}
		}
	}
	if t, _ := obj["function_type"].(string); t == "lambda" && !lambda && !inLambda {
		lambda = true
		*out = append(*out, Problem{Kind: KindLambda, Path: where,
			Msg: fmt.Sprintf("object at %s has a serialized lambda (function_type: lambda) that runs when the model is loaded", where)})
	}
	if m, ok := obj["module"].(string); ok && m != "" && !kerasModule(m) {
		*out = append(*out, Problem{Kind: KindCustom, Path: where,
			Msg: fmt.Sprintf("%s at %s comes from module %s: loading the model imports that module and runs its code", label, where, quote(m))})
	}
	return lambda
}

func dangerousTFOp(fn string) bool {
	for _, p := range []string{"io.", "gfile", "py_function", "numpy_function", "py_func", "debugging.", "summary.", "saved_model", "compat.v1.py_func"} {
		if strings.Contains(fn, p) {
			return true
		}
	}
	return false
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// FindH5Config looks for the model_config JSON attribute in a legacy Keras
// HDF5 file by content: the first '{"class_name"' object in the first
// SearchLimit bytes, extracted with string-aware brace matching. It does
// not parse the HDF5 structure; found reports whether a configuration was
// located, and off where it starts.
func FindH5Config(r io.ReaderAt, size int64) (cfg []byte, off int64, found bool) {
	limit := min(size, SearchLimit)
	const chunk = 1 << 20
	marker := []byte(`{"class_name"`)
	buf := make([]byte, chunk+len(marker))
	for start := int64(0); start < limit; start += chunk {
		n, _ := r.ReadAt(buf[:min(int64(len(buf)), limit-start)], start)
		if i := bytes.Index(buf[:n], marker); i >= 0 {
			off = start + int64(i)
			obj, ok := extractObject(r, off, min(size, off+MaxConfig))
			return obj, off, ok
		}
	}
	return nil, 0, false
}

// extractObject reads the JSON object starting at off, honouring strings
// and escapes, up to end.
func extractObject(r io.ReaderAt, off, end int64) ([]byte, bool) {
	var out []byte
	depth, inStr, esc := 0, false, false
	buf := make([]byte, 64<<10)
	for pos := off; pos < end; {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), end-pos)], pos)
		for i := 0; i < n; i++ {
			c := buf[i]
			out = append(out, c)
			switch {
			case esc:
				esc = false
			case inStr && c == '\\':
				esc = true
			case c == '"':
				inStr = !inStr
			case !inStr && c == '{':
				depth++
			case !inStr && c == '}':
				depth--
				if depth == 0 {
					return out, true
				}
			}
		}
		pos += int64(n)
		if n == 0 || err != nil && err != io.EOF {
			break
		}
	}
	return nil, false
}
