package provenance

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/sign/cosign"
	"github.com/mlgate/mlgate/sign/dsse"
)

// Sign signs st as a DSSE envelope (payloadType application/vnd.in-toto+json)
// with s, using sign/dsse's algorithms for the key type.
func Sign(s crypto.Signer, st *Statement) (*dsse.Envelope, error) {
	payload, err := st.Marshal()
	if err != nil {
		return nil, fmt.Errorf("provenance: encode statement: %w", err)
	}
	return dsse.Sign(s, "", PayloadType, payload)
}

// Kind classifies a verification failure.
type Kind string

// Failure kinds. Every one is "verification failed" (exit 1 in the CLI).
const (
	// KindMalformed: the provenance file is not a DSSE envelope or statement.
	KindMalformed Kind = "malformed"
	// KindUnsigned: a bare statement with no detached signature to check.
	KindUnsigned Kind = "unsigned"
	// KindPayloadType: the envelope carries something other than in-toto.
	KindPayloadType Kind = "payload-type"
	// KindBadSignature: the signature does not verify with the key.
	KindBadSignature Kind = "bad-signature"
	// KindNotProvenance: an in-toto statement, but not SLSA v1 provenance.
	KindNotProvenance Kind = "not-provenance"
	// KindDigestMismatch: a file's digest differs from its subject's.
	KindDigestMismatch Kind = "digest-mismatch"
	// KindMissingFile: a subject names a file the model does not have.
	KindMissingFile Kind = "missing-file"
	// KindUnexpectedFile: the model has a file no subject names.
	KindUnexpectedFile Kind = "unexpected-file"
	// KindRepoMismatch: the source repository is not the expected one.
	KindRepoMismatch Kind = "repo-mismatch"
	// KindBuilderMismatch: the builder id is not the expected one.
	KindBuilderMismatch Kind = "builder-mismatch"
	// KindRefMismatch: the built ref is not the expected one.
	KindRefMismatch Kind = "ref-mismatch"
)

// Failure is one verification failure.
type Failure struct {
	Kind Kind
	// Subject names the file concerned, if any.
	Subject string
	Msg     string
}

func (f *Failure) Error() string { return f.Msg }

// Policy is what the provenance must say beyond being validly signed.
// Empty fields are not checked.
type Policy struct {
	// Repository is the expected source repository: a full URL
	// (https://github.com/o/r) compared after normalisation, or a path
	// (o/r, group/sub/project) compared with the URL's path. Case is
	// ignored.
	Repository string
	// BuilderID must equal runDetails.builder.id exactly.
	BuilderID string
	// Ref is the expected ref: refs/heads/main, refs/tags/v1, or a bare
	// name (main, v1) that matches refs/heads/NAME or refs/tags/NAME.
	Ref string
}

// VerifyOptions are the inputs of Verify.
type VerifyOptions struct {
	// PublicKey verifies the DSSE signature, or the detached signature.
	PublicKey crypto.PublicKey
	// DetachedSignature, when set, is a cosign blob signature (the content
	// of a provenance.sig file) over the provenance file's bytes; the file
	// is then a bare statement, as in the seed's ARTIFACT.signatures/
	// layout.
	DetachedSignature []byte
	// Files are the model's files and digests, from the caller's hashing
	// engine (same names as the subjects: model-relative paths, or the
	// file name of a single-file model).
	Files []FileDigest
	// SkipFiles disables the subject check (policy-only verification).
	SkipFiles bool
	// Policy is checked after the signature and the subjects.
	Policy Policy
}

// Result is the outcome of Verify. Failures is empty when everything
// verified.
type Result struct {
	// Statement is the parsed statement; nil when the signature did not
	// verify or the payload did not parse.
	Statement *Statement
	// Failures lists every problem found, signature problems first.
	Failures []*Failure
}

// OK reports whether verification passed.
func (r *Result) OK() bool { return len(r.Failures) == 0 }

// Err returns nil, or the first failure (use Failures for all of them).
func (r *Result) Err() error {
	if len(r.Failures) == 0 {
		return nil
	}
	return r.Failures[0]
}

func (r *Result) fail(k Kind, subject, format string, args ...any) {
	r.Failures = append(r.Failures, &Failure{Kind: k, Subject: subject, Msg: fmt.Sprintf(format, args...)})
}

// ErrNoKey: Verify was called without a public key.
var ErrNoKey = errors.New("provenance: no public key to verify with")

// Verify checks a provenance file (data): its signature with o.PublicKey
// (a DSSE envelope, or a bare statement plus o.DetachedSignature), then
// that its subjects are exactly o.Files, then o.Policy. It returns an error
// only when verification could not be carried out (no key, unsupported key
// type); anything wrong with the provenance or the model is a Failure in
// the result. Once the signature fails nothing else is checked: unsigned
// content is not worth reading.
func Verify(data []byte, o VerifyOptions) (*Result, error) {
	if o.PublicKey == nil {
		return nil, ErrNoKey
	}
	r := &Result{}
	payload, err := checkSignature(data, o, r)
	if err != nil || payload == nil {
		return r, err
	}
	checkStatement(payload, o, r)
	return r, nil
}

// VerifyStatement checks a statement whose signature the caller has
// already verified by other means (a keyless Sigstore bundle accepted by
// sign/keyless, for instance): that it is SLSA v1 provenance, that its
// subjects are exactly o.Files, and o.Policy. o.PublicKey and
// o.DetachedSignature are not used.
func VerifyStatement(payload []byte, o VerifyOptions) *Result {
	r := &Result{}
	checkStatement(payload, o, r)
	return r
}

func checkStatement(payload []byte, o VerifyOptions, r *Result) {
	st, err := ParseStatement(payload)
	if err != nil {
		if errors.Is(err, ErrNotProvenance) {
			r.fail(KindNotProvenance, "", "%v", err)
		} else {
			r.fail(KindMalformed, "", "%v", err)
		}
		return
	}
	r.Statement = st
	if !o.SkipFiles {
		checkSubjects(st, o.Files, r)
	}
	checkPolicy(st, o.Policy, r)
}

// checkSignature returns the verified statement bytes, or nil with the
// failure recorded in r.
func checkSignature(data []byte, o VerifyOptions, r *Result) ([]byte, error) {
	if len(data) > MaxStatementSize {
		r.fail(KindMalformed, "", "provenance: %d bytes exceeds the %d-byte limit", len(data), MaxStatementSize)
		return nil, nil
	}
	if o.DetachedSignature != nil {
		sig, err := cosign.DecodeSignature(o.DetachedSignature)
		if err != nil {
			r.fail(KindMalformed, "", "provenance signature: %v", err)
			return nil, nil
		}
		err = cosign.VerifyBlob(o.PublicKey, bytes.NewReader(data), sig)
		switch {
		case errors.Is(err, cosign.ErrBadSignature):
			r.fail(KindBadSignature, "", "provenance signature does not verify with the given key (wrong key, or the provenance file was changed)")
			return nil, nil
		case err != nil:
			return nil, err
		}
		return data, nil
	}
	if !looksLikeEnvelope(data) {
		r.fail(KindUnsigned, "", "provenance file is a bare statement, not a DSSE envelope; pass its detached signature (--provenance-signature) or sign it with `mlgate provenance --key`")
		return nil, nil
	}
	env, err := dsse.Parse(data)
	if err != nil {
		r.fail(KindMalformed, "", "provenance envelope: %v", err)
		return nil, nil
	}
	if env.PayloadType != PayloadType {
		r.fail(KindPayloadType, "", "provenance envelope payloadType is %q, want %q", env.PayloadType, PayloadType)
		return nil, nil
	}
	err = dsse.Verify(env, o.PublicKey)
	switch {
	case errors.Is(err, dsse.ErrVerify), errors.Is(err, dsse.ErrNoSignature):
		r.fail(KindBadSignature, "", "provenance signature does not verify with the given key (wrong key, or the provenance was changed)")
		return nil, nil
	case err != nil:
		return nil, err
	}
	return env.Payload, nil
}

// looksLikeEnvelope reports whether data is a JSON object with a
// "payloadType" member at the top level (a DSSE envelope) rather than a
// statement.
func looksLikeEnvelope(data []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return true // let the envelope parser report the syntax error
	}
	_, env := probe["payloadType"]
	_, st := probe["_type"]
	return env || !st
}

func checkSubjects(st *Statement, files []FileDigest, r *Result) {
	have := make(map[string]string, len(files))
	for _, f := range files {
		have[f.Name] = f.SHA256
	}
	named := make(map[string]struct{}, len(st.Subject))
	for _, s := range st.Subject {
		named[s.Name] = struct{}{}
		got, ok := have[s.Name]
		if !ok {
			r.fail(KindMissingFile, s.Name, "%s: listed in the provenance but missing from the model", s.Name)
			continue
		}
		want, ok := s.Digest["sha256"]
		if !ok {
			r.fail(KindDigestMismatch, s.Name, "%s: the provenance has no sha256 digest for it", s.Name)
			continue
		}
		if got != want {
			r.fail(KindDigestMismatch, s.Name, "%s: sha256 %s does not match the provenance (%s)", s.Name, got, want)
		}
	}
	var extra []string
	for _, f := range files {
		if _, ok := named[f.Name]; !ok {
			extra = append(extra, f.Name)
		}
	}
	sort.Strings(extra)
	for _, n := range extra {
		r.fail(KindUnexpectedFile, n, "%s: present in the model but not covered by the provenance", n)
	}
}

// Repository returns the source repository a statement names:
// externalParameters.workflow.repository, else the first resolved
// dependency's git+ URI (without the @ref).
func (s *Statement) Repository() string {
	if v := s.workflowField("repository"); v != "" {
		return v
	}
	for _, d := range s.Predicate.BuildDefinition.ResolvedDependencies {
		if u, ok := strings.CutPrefix(d.URI, "git+"); ok {
			if i := strings.LastIndex(u, "@"); i > strings.Index(u, "://")+2 {
				u = u[:i]
			}
			return u
		}
	}
	return ""
}

// Ref returns the built ref: externalParameters.workflow.ref, else the @ref
// of the first git+ resolved dependency.
func (s *Statement) Ref() string {
	if v := s.workflowField("ref"); v != "" {
		return v
	}
	for _, d := range s.Predicate.BuildDefinition.ResolvedDependencies {
		if u, ok := strings.CutPrefix(d.URI, "git+"); ok {
			if i := strings.LastIndex(u, "@"); i > strings.Index(u, "://")+2 {
				return u[i+1:]
			}
		}
	}
	return ""
}

// Commit returns the gitCommit digest of the first resolved dependency
// that has one.
func (s *Statement) Commit() string {
	for _, d := range s.Predicate.BuildDefinition.ResolvedDependencies {
		if c := d.Digest["gitCommit"]; c != "" {
			return c
		}
	}
	return ""
}

func (s *Statement) workflowField(k string) string {
	wf, _ := s.Predicate.BuildDefinition.ExternalParameters["workflow"].(map[string]any)
	v, _ := wf[k].(string)
	return v
}

func checkPolicy(st *Statement, p Policy, r *Result) {
	if p.Repository != "" {
		got := st.Repository()
		if !repoMatches(got, p.Repository) {
			r.fail(KindRepoMismatch, "", "repository is %s, policy expects %s", orAbsent(got), p.Repository)
		}
	}
	if p.BuilderID != "" {
		if got := st.Predicate.RunDetails.Builder.ID; got != p.BuilderID {
			r.fail(KindBuilderMismatch, "", "builder is %s, policy expects %s", orAbsent(got), p.BuilderID)
		}
	}
	if p.Ref != "" {
		got := st.Ref()
		if !refMatches(got, p.Ref) {
			r.fail(KindRefMismatch, "", "ref is %s, policy expects %s", orAbsent(got), p.Ref)
		}
	}
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return fmt.Sprintf("%q", s)
}

func repoMatches(got, want string) bool {
	if got == "" {
		return false
	}
	g := NormalizeRepoURL(got)
	if g == "" {
		g = got
	}
	if strings.Contains(want, "://") || strings.HasPrefix(want, "git@") {
		w := NormalizeRepoURL(want)
		return w != "" && strings.EqualFold(g, w)
	}
	w := strings.Trim(strings.TrimSuffix(want, ".git"), "/")
	_, path, ok := strings.Cut(strings.TrimPrefix(g, "https://"), "/")
	return ok && w != "" && strings.EqualFold(path, w)
}

func refMatches(got, want string) bool {
	if got == "" {
		return false
	}
	if strings.HasPrefix(want, "refs/") {
		return got == want
	}
	return got == "refs/heads/"+want || got == "refs/tags/"+want
}
