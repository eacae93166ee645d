package sign

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// In-toto and OMS identifiers.
const (
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// StatementType is the in-toto Statement v1 type.
	StatementType = "https://in-toto.io/Statement/v1"
	// StatementTypeV01 is the legacy in-toto Statement type.
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
	// PredicateType is the OMS v1.0 model signature predicate.
	PredicateType = "https://model_signing/signature/v1.0"
	// PredicateTypeCompat is the pre-1.0 predicate model_signing still
	// verifies: one subject per file, no serialization section.
	PredicateTypeCompat = "https://model_signing/Digests/v0.1"
)

// Serialization is the predicate's "serialization" section: how to turn
// the model back into the same resources.
type Serialization struct {
	Method        string
	HashType      string
	ShardSize     int64 // MethodShards only
	AllowSymlinks bool
	IgnorePaths   []string
}

// Manifest is the content of an OMS statement: the model name (informative),
// how it was serialized, and its resources in manifest order.
type Manifest struct {
	ModelName     string
	Serialization Serialization
	Resources     []Resource
	// RootDigest is SHA-256 over the concatenated raw resource digests.
	RootDigest []byte
	// Compat marks a legacy https://model_signing/Digests/v0.1 statement.
	Compat bool
}

// RootDigest computes the subject digest: SHA-256 over the raw resource
// digests, in manifest order.
func RootDigest(res []Resource) []byte {
	h := sha256.New()
	for _, r := range res {
		h.Write(r.Digest)
	}
	return h.Sum(nil)
}

// StatementJSON renders a manifest as the in-toto statement model_signing
// signs, byte for byte as Python's protobuf json_format.MessageToJson writes
// it: 2-space indentation, ", "-free item separators, ": " after keys,
// non-ASCII escaped as \uXXXX, shard_size as a float ("1024.0"), no trailing
// newline.
func StatementJSON(m *Manifest) ([]byte, error) {
	var b bytes.Buffer
	w := func(indent int, s string) {
		b.WriteString(strings.Repeat("  ", indent))
		b.WriteString(s)
	}
	root := m.RootDigest
	if root == nil {
		root = RootDigest(m.Resources)
	}
	b.WriteString("{\n")
	w(1, `"_type": "`+StatementType+"\",\n")
	w(1, "\"subject\": [\n")
	w(2, "{\n")
	w(3, `"name": `+pyString(m.ModelName)+",\n")
	w(3, "\"digest\": {\n")
	w(4, `"sha256": "`+hex.EncodeToString(root)+"\"\n")
	w(3, "}\n")
	w(2, "}\n")
	w(1, "],\n")
	w(1, `"predicateType": "`+PredicateType+"\",\n")
	w(1, "\"predicate\": {\n")
	w(2, "\"serialization\": {\n")
	s := m.Serialization
	w(3, `"method": `+pyString(s.Method)+",\n")
	w(3, `"hash_type": `+pyString(s.HashType)+",\n")
	if s.Method == MethodShards {
		if s.ShardSize <= 0 || s.ShardSize > MaxShardSize {
			return nil, fmt.Errorf("shard size %d out of range", s.ShardSize)
		}
		w(3, `"shard_size": `+strconv.FormatInt(s.ShardSize, 10)+".0,\n")
	}
	if len(s.IgnorePaths) == 0 {
		w(3, `"allow_symlinks": `+strconv.FormatBool(s.AllowSymlinks)+"\n")
	} else {
		w(3, `"allow_symlinks": `+strconv.FormatBool(s.AllowSymlinks)+",\n")
		w(3, "\"ignore_paths\": [\n")
		for i, p := range s.IgnorePaths {
			sep := ",\n"
			if i == len(s.IgnorePaths)-1 {
				sep = "\n"
			}
			w(4, pyString(p)+sep)
		}
		w(3, "]\n")
	}
	w(2, "},\n")
	if len(m.Resources) == 0 {
		w(2, "\"resources\": []\n")
	} else {
		w(2, "\"resources\": [\n")
		for i, r := range m.Resources {
			w(3, "{\n")
			w(4, `"name": `+pyString(r.Name)+",\n")
			w(4, `"algorithm": `+pyString(r.Algorithm)+",\n")
			w(4, `"digest": "`+hex.EncodeToString(r.Digest)+"\"\n")
			if i == len(m.Resources)-1 {
				w(3, "}\n")
			} else {
				w(3, "},\n")
			}
		}
		w(2, "]\n")
	}
	w(1, "}\n")
	b.WriteString("}")
	return b.Bytes(), nil
}

// pyString quotes s as Python's json.dumps(ensure_ascii=True) does.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Limits on statements ParseStatement accepts.
const (
	maxNameLen    = 4096
	maxIgnorePath = 4096
)

// ParseStatement parses an OMS statement (the DSSE payload) into a
// manifest and checks that the resources hash to the subject digest.
// Errors are *Failure values of kind KindCorruptBundle,
// KindUnknownPredicate or KindInconsistent.
func ParseStatement(data []byte) (*Manifest, error) {
	if len(data) > maxPayload {
		return nil, failf(KindCorruptBundle, "", "signed statement is %d bytes, over the %d-byte limit", len(data), maxPayload)
	}
	if !utf8.Valid(data) {
		return nil, failf(KindCorruptBundle, "", "signed statement is not UTF-8 text")
	}
	var st struct {
		Type    string `json:"_type"`
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string          `json:"predicateType"`
		Predicate     json.RawMessage `json:"predicate"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&st); err != nil {
		return nil, failf(KindCorruptBundle, "", "signed statement is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, failf(KindCorruptBundle, "", "signed statement has trailing data")
	}
	if st.Type != StatementType && st.Type != StatementTypeV01 {
		return nil, failf(KindUnknownPredicate, "", "signed payload is not an in-toto statement (_type %q)", trunc(st.Type))
	}
	switch st.PredicateType {
	case PredicateType:
	case PredicateTypeCompat:
		return parseCompat(st.Subject)
	default:
		return nil, failf(KindUnknownPredicate, "", "unknown predicate type %q: not an OpenSSF model signature (want %s)", trunc(st.PredicateType), PredicateType)
	}
	if len(st.Subject) != 1 {
		return nil, failf(KindCorruptBundle, "", "statement has %d subjects, a model signature has exactly one", len(st.Subject))
	}
	subj := st.Subject[0]
	rootHex, ok := subj.Digest["sha256"]
	if !ok {
		return nil, failf(KindCorruptBundle, "", "subject has no sha256 digest")
	}
	root, err := hex.DecodeString(rootHex)
	if err != nil || len(root) != sha256.Size {
		return nil, failf(KindCorruptBundle, "", "subject digest %q is not a SHA-256 hex digest", trunc(rootHex))
	}
	var pred struct {
		Serialization map[string]json.RawMessage `json:"serialization"`
		Resources     []struct {
			Name      *string `json:"name"`
			Algorithm *string `json:"algorithm"`
			Digest    *string `json:"digest"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(st.Predicate, &pred); err != nil {
		return nil, failf(KindCorruptBundle, "", "predicate: %v", err)
	}
	ser, err := parseSerialization(pred.Serialization)
	if err != nil {
		return nil, err
	}
	if len(pred.Resources) > MaxResources {
		return nil, failf(KindCorruptBundle, "", "statement lists %d resources, over the limit of %d", len(pred.Resources), MaxResources)
	}
	m := &Manifest{ModelName: subj.Name, Serialization: *ser, RootDigest: root}
	seen := make(map[string]bool, len(pred.Resources))
	h := sha256.New()
	for i, r := range pred.Resources {
		if r.Name == nil || r.Algorithm == nil || r.Digest == nil {
			return nil, failf(KindCorruptBundle, "", "resource %d lacks name, algorithm or digest", i)
		}
		d, err := hex.DecodeString(*r.Digest)
		if err != nil || len(d) == 0 || len(d) > 64 {
			return nil, failf(KindCorruptBundle, "", "resource %q: digest is not a hex digest", trunc(*r.Name))
		}
		if seen[*r.Name] {
			return nil, failf(KindCorruptBundle, "", "resource %q is listed twice", trunc(*r.Name))
		}
		seen[*r.Name] = true
		res := Resource{Name: *r.Name, Algorithm: *r.Algorithm, Digest: d}
		if err := locate(&res, ser); err != nil {
			return nil, err
		}
		h.Write(d)
		m.Resources = append(m.Resources, res)
	}
	if got := h.Sum(nil); !bytes.Equal(got, root) {
		return nil, failf(KindInconsistent, "", "manifest is inconsistent: the subject digest is %s but the resources hash to %x", rootHex, got)
	}
	return m, nil
}

// locate fills File/Start/End of a parsed resource.
func locate(r *Resource, ser *Serialization) error {
	if ser.Method == MethodFiles {
		if err := checkResourcePath(r.Name); err != nil {
			return err
		}
		r.File = r.Name
		return nil
	}
	i := strings.LastIndexByte(r.Name, ':')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(r.Name[:i], ':')
	}
	if j <= 0 {
		return failf(KindCorruptBundle, "", "shard resource %q is not path:start:end", trunc(r.Name))
	}
	start, err1 := strconv.ParseInt(r.Name[j+1:i], 10, 64)
	end, err2 := strconv.ParseInt(r.Name[i+1:], 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end <= start {
		return failf(KindCorruptBundle, "", "shard resource %q has a bad range", trunc(r.Name))
	}
	r.File, r.Start, r.End = r.Name[:j], start, end
	return checkResourcePath(r.File)
}

// checkResourcePath rejects names that would leave the model root.
func checkResourcePath(p string) error {
	if p == "." {
		return nil
	}
	if p == "" || len(p) > maxNameLen || strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return failf(KindCorruptBundle, "", "resource name %q is not a relative path", trunc(p))
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." || c == "" || c == "." {
			return failf(KindCorruptBundle, "", "resource name %q is not a clean relative path", trunc(p))
		}
	}
	return nil
}

func parseSerialization(raw map[string]json.RawMessage) (*Serialization, error) {
	if raw == nil {
		return nil, failf(KindCorruptBundle, "", "predicate has no serialization section")
	}
	s := &Serialization{}
	str := func(k string) (string, error) {
		var v string
		r, ok := raw[k]
		if !ok {
			return "", failf(KindCorruptBundle, "", "serialization lacks %q", k)
		}
		if err := json.Unmarshal(r, &v); err != nil {
			return "", failf(KindCorruptBundle, "", "serialization %q is not a string", k)
		}
		return v, nil
	}
	var err error
	if s.Method, err = str("method"); err != nil {
		return nil, err
	}
	if s.HashType, err = str("hash_type"); err != nil {
		return nil, err
	}
	if r, ok := raw["allow_symlinks"]; ok {
		if err := json.Unmarshal(r, &s.AllowSymlinks); err != nil {
			var v string
			if json.Unmarshal(r, &v) != nil || (v != "true" && v != "false") {
				return nil, failf(KindCorruptBundle, "", "serialization allow_symlinks is not a boolean")
			}
			s.AllowSymlinks = v == "true"
		}
	}
	if r, ok := raw["ignore_paths"]; ok {
		if err := json.Unmarshal(r, &s.IgnorePaths); err != nil {
			return nil, failf(KindCorruptBundle, "", "serialization ignore_paths is not a list of strings")
		}
		if len(s.IgnorePaths) > maxIgnorePath {
			return nil, failf(KindCorruptBundle, "", "too many ignore_paths")
		}
	}
	switch s.Method {
	case MethodFiles:
	case MethodShards:
		r, ok := raw["shard_size"]
		if !ok {
			return nil, failf(KindCorruptBundle, "", "shards serialization lacks shard_size")
		}
		// model_signing writes 1024.0 (a protobuf double); accept any
		// JSON number with an integral value.
		f, err := strconv.ParseFloat(strings.TrimSpace(string(r)), 64)
		if err != nil || f != math.Trunc(f) || f < 1 || f > MaxShardSize {
			return nil, failf(KindCorruptBundle, "", "shard_size %s is not a positive integer", trunc(string(r)))
		}
		s.ShardSize = int64(f)
	default:
		return nil, failf(KindCorruptBundle, "", "unknown serialization method %q", trunc(s.Method))
	}
	if s.HashType != "sha256" {
		return nil, &unsupportedError{fmt.Sprintf("hash_type %q is not supported (mlgate verifies sha256 signatures)", trunc(s.HashType))}
	}
	return s, nil
}

// unsupportedError: the signature is well formed but uses something mlgate
// cannot check (verification cannot run: exit 2).
type unsupportedError struct{ msg string }

func (e *unsupportedError) Error() string { return e.msg }

func parseCompat(subjects []struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}) (*Manifest, error) {
	if len(subjects) > MaxResources {
		return nil, failf(KindCorruptBundle, "", "too many subjects")
	}
	m := &Manifest{ModelName: "", Compat: true, Serialization: Serialization{Method: MethodFiles, HashType: "sha256"}}
	seen := map[string]bool{}
	for _, s := range subjects {
		d, err := hex.DecodeString(s.Digest["sha256"])
		if err != nil || len(d) != sha256.Size {
			return nil, failf(KindCorruptBundle, "", "subject %q has no SHA-256 digest", trunc(s.Name))
		}
		if seen[s.Name] {
			return nil, failf(KindCorruptBundle, "", "subject %q is listed twice", trunc(s.Name))
		}
		seen[s.Name] = true
		r := Resource{Name: s.Name, Algorithm: "sha256", Digest: d, File: s.Name}
		if err := checkResourcePath(s.Name); err != nil {
			return nil, err
		}
		m.Resources = append(m.Resources, r)
	}
	m.RootDigest = RootDigest(m.Resources)
	return m, nil
}

func trunc(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
