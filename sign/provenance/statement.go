// Package provenance builds, signs, parses and verifies SLSA v1 build
// provenance for models: an in-toto Statement v1 whose subjects are the
// model's files (name and SHA-256 digest) and whose predicate
// (https://slsa.dev/provenance/v1) records how and where the model was
// produced. The build context is read from the CI environment (GitHub
// Actions, GitLab CI, or a plain local machine); see FromEnv.
//
// Statements are signed as DSSE envelopes (payloadType
// application/vnd.in-toto+json) with sign/dsse. Verify checks the
// signature, then that the subjects match the model's files exactly, then a
// Policy (expected repository, builder and ref). Every failure is a
// *Failure with its own Kind, so callers can tell a wrong key from a
// changed file from a policy mismatch.
//
// The package does not hash files itself: callers pass the digests (the
// CLI computes them with package sign's hashing engine), which keeps it
// usable with any walker and trivially testable.
package provenance

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Fixed identifiers of the formats this package writes and reads.
const (
	// StatementType is the in-toto Statement v1 _type.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateType is the SLSA provenance v1 predicate type.
	PredicateType = "https://slsa.dev/provenance/v1"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
)

// Limits on what ParseStatement accepts.
const (
	// MaxStatementSize bounds a statement or envelope (64 MiB: a million
	// subjects of a sharded model fit).
	MaxStatementSize = 64 << 20
	// MaxSubjects bounds the number of subjects.
	MaxSubjects = 1 << 20
	// MaxDepth bounds JSON nesting in parameters.
	MaxDepth = 64
)

// Subject is an in-toto ResourceDescriptor naming one artifact: for models
// a file path relative to the model root (slash-separated) or, for a single
// file model, the file name.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// ResourceDescriptor is the in-toto ResourceDescriptor used for resolved
// dependencies and byproducts.
type ResourceDescriptor struct {
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Name        string            `json:"name,omitempty"`
	Annotations map[string]any    `json:"annotations,omitempty"`
}

// Statement is an in-toto Statement v1 with a SLSA v1 provenance predicate.
type Statement struct {
	Type          string     `json:"_type"`
	Subject       []Subject  `json:"subject"`
	PredicateType string     `json:"predicateType"`
	Predicate     Provenance `json:"predicate"`
}

// Provenance is the SLSA v1 provenance predicate.
type Provenance struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

// BuildDefinition describes the inputs of the build.
type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   map[string]any       `json:"externalParameters"`
	InternalParameters   map[string]any       `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
}

// RunDetails describes the run that produced the subjects.
type RunDetails struct {
	Builder    Builder              `json:"builder"`
	Metadata   Metadata             `json:"metadata"`
	Byproducts []ResourceDescriptor `json:"byproducts,omitempty"`
}

// Builder identifies the platform that ran the build.
type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Metadata holds the invocation id and timestamps of the run.
type Metadata struct {
	InvocationID string     `json:"invocationId,omitempty"`
	StartedOn    *time.Time `json:"startedOn,omitempty"`
	FinishedOn   *time.Time `json:"finishedOn,omitempty"`
}

// Errors returned by ParseStatement. Callers match them with errors.Is.
var (
	// ErrMalformed: the input is not a well-formed statement.
	ErrMalformed = errors.New("provenance: malformed statement")
	// ErrNotProvenance: a well-formed in-toto statement of another type.
	ErrNotProvenance = errors.New("provenance: not an in-toto SLSA v1 provenance statement")
)

// Marshal returns the statement's JSON form (compact, keys in struct
// order, no HTML escaping), the exact bytes that get signed.
func (s *Statement) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// ParseStatement parses and validates an in-toto SLSA v1 provenance
// statement. Unknown fields are allowed (the SLSA spec requires consumers
// to ignore them); the _type, predicateType, subjects and builder id are
// required, subject names must be unique and digests well-formed hex.
func ParseStatement(data []byte) (*Statement, error) {
	if len(data) > MaxStatementSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrMalformed, len(data), MaxStatementSize)
	}
	if err := checkDepth(data, MaxDepth); err != nil {
		return nil, err
	}
	var s Statement
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the statement", ErrMalformed)
	}
	if s.Type != StatementType && s.Type != "https://in-toto.io/Statement/v0.1" {
		return nil, fmt.Errorf("%w: _type is %q", ErrNotProvenance, s.Type)
	}
	if s.PredicateType != PredicateType {
		return nil, fmt.Errorf("%w: predicateType is %q (want %s)", ErrNotProvenance, s.PredicateType, PredicateType)
	}
	if len(s.Subject) == 0 {
		return nil, fmt.Errorf("%w: no subjects", ErrMalformed)
	}
	if len(s.Subject) > MaxSubjects {
		return nil, fmt.Errorf("%w: %d subjects exceeds the limit of %d", ErrMalformed, len(s.Subject), MaxSubjects)
	}
	seen := make(map[string]struct{}, len(s.Subject))
	for i, sub := range s.Subject {
		if sub.Name == "" || !utf8.ValidString(sub.Name) {
			return nil, fmt.Errorf("%w: subject %d has no valid name", ErrMalformed, i)
		}
		if _, dup := seen[sub.Name]; dup {
			return nil, fmt.Errorf("%w: subject %q listed twice", ErrMalformed, sub.Name)
		}
		seen[sub.Name] = struct{}{}
		if len(sub.Digest) == 0 {
			return nil, fmt.Errorf("%w: subject %q has no digest", ErrMalformed, sub.Name)
		}
		for alg, d := range sub.Digest {
			if _, err := hex.DecodeString(d); err != nil || d == "" || strings.ToLower(d) != d {
				return nil, fmt.Errorf("%w: subject %q: %s digest %q is not lowercase hex", ErrMalformed, sub.Name, alg, d)
			}
		}
		if d, ok := sub.Digest["sha256"]; ok && len(d) != 64 {
			return nil, fmt.Errorf("%w: subject %q: sha256 digest has %d hex digits", ErrMalformed, sub.Name, len(d))
		}
	}
	if s.Predicate.BuildDefinition.BuildType == "" {
		return nil, fmt.Errorf("%w: buildDefinition.buildType is missing", ErrMalformed)
	}
	if s.Predicate.RunDetails.Builder.ID == "" {
		return nil, fmt.Errorf("%w: runDetails.builder.id is missing", ErrMalformed)
	}
	return &s, nil
}

// checkDepth rejects JSON nested deeper than max without decoding it, so
// hostile input cannot make the decoder recurse deeply.
func checkDepth(data []byte, max int) error {
	depth := 0
	inStr, esc := false, false
	for _, c := range data {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("%w: nested deeper than %d levels", ErrMalformed, max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// FileDigest is one file of a model and its SHA-256 digest (lowercase hex),
// as the caller's hashing engine computed it.
type FileDigest struct {
	// Name is the path relative to the model root, slash-separated; for a
	// single-file model, the file name.
	Name string
	// SHA256 is the lowercase hex digest.
	SHA256 string
}

// Subjects turns file digests into statement subjects, sorted by name.
func Subjects(files []FileDigest) []Subject {
	out := make([]Subject, 0, len(files))
	for _, f := range files {
		out = append(out, Subject{Name: f.Name, Digest: map[string]string{"sha256": f.SHA256}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
