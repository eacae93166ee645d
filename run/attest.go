package run

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/mlgate/mlgate/sign/dsse"
	"github.com/mlgate/mlgate/sign/keys"
	"github.com/mlgate/mlgate/sign/provenance"
)

// A signed run report is an in-toto Statement v1 in a DSSE envelope
// (payloadType application/vnd.in-toto+json). Its predicate
// (ReportPredicateType) holds the whole JSON report of the run; its
// subjects are the files the stage added or changed under its --rw
// outputs, with their SHA-256 after the run, so that a later job can check
// that the model it is about to sign or deploy is the one this run
// produced, and read how the run went.
const (
	// ReportPredicateType is the predicate type of a signed run report.
	ReportPredicateType = "https://mlgate.dev/run-report/v1"
	// inTotoStatementType is the in-toto Statement v1 _type.
	inTotoStatementType = provenance.StatementType
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = provenance.PayloadType
	// ReportSubjectName names the single subject of a statement whose
	// stage wrote no output file: the report itself.
	ReportSubjectName = "mlgate-run-report.json"
)

// Values of ReportPredicate.Subjects.
const (
	SubjectsOutputs = "outputs"
	SubjectsReport  = "report"
)

// Limits on what VerifyReport accepts and NewReportStatement lists.
const (
	maxAttestSubjects = 1 << 20
	maxAttestName     = 4096
	maxUnhashedListed = 1000
)

// AttestSubject is one in-toto subject: a file and its digest (the same
// descriptor the provenance statements use).
type AttestSubject = provenance.Subject

// ReportStatement is the in-toto statement of a signed run report.
type ReportStatement struct {
	Type          string          `json:"_type"`
	Subject       []AttestSubject `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     ReportPredicate `json:"predicate"`
}

// ReportPredicate is the predicate of a signed run report.
type ReportPredicate struct {
	// Subjects is SubjectsOutputs (the subjects are the regular files the
	// stage added or modified under its --rw paths, named relative to its
	// working directory, or absolute when outside it) or SubjectsReport
	// (the stage wrote no file: the one subject, ReportSubjectName, has
	// the SHA-256 of Report's bytes as they appear in the payload).
	Subjects string `json:"subjects"`
	// WorkDir is the stage's working directory on the runner.
	WorkDir string `json:"work_dir"`
	// Outputs are the --rw paths, named like the subjects.
	Outputs []string `json:"outputs"`
	// Unhashed are output files the stage wrote that could not be read
	// to hash them ("NAME: reason"; the stage may have made them
	// unreadable): they are not subjects.
	Unhashed []string `json:"unhashed,omitempty"`
	// Report is mlgate's JSON report of the run (docs/json-report.md).
	Report json.RawMessage `json:"report"`
}

// subjectName names an output file for a statement: relative to dir with
// forward slashes when it is inside dir, else the absolute path.
func subjectName(p, dir string) string {
	if dir != "" && under(p, dir) && p != dir {
		if rel, err := filepath.Rel(dir, p); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	if p == dir {
		return "."
	}
	return filepath.ToSlash(p)
}

// NewReportStatement builds the statement of a run: report is the run's
// JSON report (as report.Write produced it), res the run's result. Output
// files whose digest the integrity check did not record (larger than its
// hashing limit) are hashed here in full.
func NewReportStatement(report []byte, res *Result) (*ReportStatement, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, report); err != nil {
		return nil, fmt.Errorf("run report is not JSON: %w", err)
	}
	st := &ReportStatement{
		Type: inTotoStatementType, PredicateType: ReportPredicateType,
		Predicate: ReportPredicate{Subjects: SubjectsOutputs, WorkDir: res.Dir, Outputs: []string{}, Report: compact.Bytes()},
	}
	for _, o := range res.Outputs {
		st.Predicate.Outputs = append(st.Predicate.Outputs, subjectName(o, res.Dir))
	}
	seen := map[string]bool{}
	for _, c := range res.FileChanges {
		if c.Change == ChangeUnreadable && underAny(c.Path, res.Outputs) && len(st.Predicate.Unhashed) < maxUnhashedListed {
			st.Predicate.Unhashed = append(st.Predicate.Unhashed, subjectName(c.Path, res.Dir)+"/: directory unreadable after the run; files under it were not compared")
			continue
		}
		if c.Change == ChangeRemoved || c.Type != FileTypeRegular || !underAny(c.Path, res.Outputs) {
			continue
		}
		name := subjectName(c.Path, res.Dir)
		if seen[name] {
			continue
		}
		seen[name] = true
		sum := c.SHA256
		if sum == "" {
			var err error
			if sum, err = hashRegular(c.Path); err != nil {
				if len(st.Predicate.Unhashed) < maxUnhashedListed {
					st.Predicate.Unhashed = append(st.Predicate.Unhashed, name+": "+err.Error())
				}
				continue
			}
		}
		st.Subject = append(st.Subject, AttestSubject{Name: name, Digest: map[string]string{"sha256": sum}})
	}
	sort.Slice(st.Subject, func(i, j int) bool { return st.Subject[i].Name < st.Subject[j].Name })
	if len(st.Subject) == 0 {
		// in-toto requires a subject: with no output file, the statement
		// is about the report itself.
		st.Predicate.Subjects = SubjectsReport
		d := sha256.Sum256(st.Predicate.Report)
		st.Subject = []AttestSubject{{Name: ReportSubjectName, Digest: map[string]string{"sha256": hex.EncodeToString(d[:])}}}
	}
	return st, nil
}

// Marshal encodes the statement as the signed payload: compact JSON,
// without HTML escaping, so that the report's bytes in the payload are the
// compacted report (the SubjectsReport digest is over them).
func (st *ReportStatement) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(st); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SignReport signs st as a DSSE envelope and returns its JSON form (with a
// final newline). The signature's keyid is the key's hint: the SHA-256 of
// its public key PEM, as model signatures record it.
func SignReport(s crypto.Signer, st *ReportStatement) ([]byte, error) {
	payload, err := st.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode run report statement: %w", err)
	}
	hint, _ := keys.Hint(s.Public())
	env, err := dsse.Sign(s, hint, InTotoPayloadType, payload)
	if err != nil {
		return nil, fmt.Errorf("sign run report: %w", err)
	}
	out, err := env.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// AttestKind classifies a run report verification failure.
type AttestKind string

// Failure kinds of VerifyReport.
const (
	AttestMalformed      AttestKind = "malformed"
	AttestPayloadType    AttestKind = "payload-type"
	AttestBadSignature   AttestKind = "bad-signature"
	AttestNotRunReport   AttestKind = "not-run-report"
	AttestDigestMismatch AttestKind = "digest-mismatch"
	AttestMissingFile    AttestKind = "missing-file"
	AttestNotRegular     AttestKind = "not-regular-file"
)

// AttestFailure is one reason a signed run report did not verify.
type AttestFailure struct {
	Kind    AttestKind `json:"kind"`
	Subject string     `json:"subject,omitempty"`
	Msg     string     `json:"message"`
}

func (f *AttestFailure) Error() string { return f.Msg }

// ReportVerification is what VerifyReport found.
type ReportVerification struct {
	// Statement is set once the signature verified and the payload parsed.
	Statement *ReportStatement
	// KeyID is the envelope's (unauthenticated) key hint.
	KeyID    string
	Failures []*AttestFailure
	// Checked counts subject files hashed and compared.
	Checked int
	// From the signed report: the run's command, verdict, exit code and
	// findings per severity.
	Command    []string
	Verdict    string
	HaltReason string
	ExitCode   int
	Findings   map[string]int
}

// OK reports whether verification passed.
func (v *ReportVerification) OK() bool { return len(v.Failures) == 0 }

// Err is nil or the first failure.
func (v *ReportVerification) Err() error {
	if len(v.Failures) == 0 {
		return nil
	}
	return v.Failures[0]
}

func (v *ReportVerification) fail(k AttestKind, subject, format string, args ...any) {
	v.Failures = append(v.Failures, &AttestFailure{Kind: k, Subject: subject, Msg: fmt.Sprintf(format, args...)})
}

// VerifyReport checks a signed run report: the DSSE signature with pub,
// the statement's type and predicate, and then, unless base is "", that
// every subject file exists under base (relative names; absolute names as
// they are) as a regular file with the recorded SHA-256. Nothing is
// checked past a bad signature. The error is for verification that could
// not be carried out (no or unsupported key).
func VerifyReport(data []byte, pub crypto.PublicKey, base string) (*ReportVerification, error) {
	if pub == nil {
		return nil, errors.New("verify run report: no public key")
	}
	v := &ReportVerification{}
	env, err := dsse.Parse(data)
	if err != nil {
		v.fail(AttestMalformed, "", "not a DSSE envelope: %v", err)
		return v, nil
	}
	if len(env.Signatures) > 0 {
		v.KeyID = env.Signatures[0].KeyID
	}
	if env.PayloadType != InTotoPayloadType {
		v.fail(AttestPayloadType, "", "envelope payloadType is %q, want %q", env.PayloadType, InTotoPayloadType)
		return v, nil
	}
	err = dsse.Verify(env, pub)
	switch {
	case errors.Is(err, dsse.ErrVerify), errors.Is(err, dsse.ErrNoSignature):
		msg := "the signature does not verify with the given key: the report was changed, or it was signed with another key"
		if hint, herr := keys.Hint(pub); herr == nil && v.KeyID != "" && v.KeyID != hint {
			msg = fmt.Sprintf("wrong key: the report was signed with key %.16s, the given public key is %.16s", v.KeyID, hint)
		}
		v.fail(AttestBadSignature, "", "%s", msg)
		return v, nil
	case err != nil:
		return nil, err
	}
	st, err := parseReportStatement(env.Payload)
	if err != nil {
		kind := AttestMalformed
		if errors.Is(err, errNotRunReport) {
			kind = AttestNotRunReport
		}
		v.fail(kind, "", "%v", err)
		return v, nil
	}
	v.Statement = st
	v.summarize(st.Predicate.Report)
	if st.Predicate.Subjects == SubjectsReport {
		d := sha256.Sum256(st.Predicate.Report)
		if got := hex.EncodeToString(d[:]); st.Subject[0].Digest["sha256"] != got {
			v.fail(AttestDigestMismatch, ReportSubjectName, "the report subject's digest %s is not the digest of the report (%s)", st.Subject[0].Digest["sha256"], got)
		}
		return v, nil
	}
	if base == "" {
		return v, nil
	}
	for _, s := range st.Subject {
		p := filepath.FromSlash(s.Name)
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		want := s.Digest["sha256"]
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			v.fail(AttestMissingFile, s.Name, "%s: produced by the run but missing", s.Name)
			continue
		case err != nil:
			v.fail(AttestMissingFile, s.Name, "%s: %v", s.Name, err)
			continue
		case !fi.Mode().IsRegular():
			v.fail(AttestNotRegular, s.Name, "%s: not a regular file now (%s)", s.Name, fi.Mode().Type())
			continue
		}
		got, err := hashRegular(p)
		if err != nil {
			v.fail(AttestMissingFile, s.Name, "%s: %v", s.Name, err)
			continue
		}
		v.Checked++
		if got != want {
			v.fail(AttestDigestMismatch, s.Name, "%s: sha256 %s, the run produced %s", s.Name, got, want)
		}
	}
	return v, nil
}

var errNotRunReport = errors.New("not an mlgate run report")

// parseReportStatement decodes and checks a statement payload.
func parseReportStatement(payload []byte) (*ReportStatement, error) {
	var st ReportStatement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	if st.Type != inTotoStatementType {
		return nil, fmt.Errorf("%w: statement _type is %q, want %q", errNotRunReport, st.Type, inTotoStatementType)
	}
	if st.PredicateType != ReportPredicateType {
		return nil, fmt.Errorf("%w: predicate type is %q, want %q", errNotRunReport, st.PredicateType, ReportPredicateType)
	}
	if len(st.Subject) == 0 || len(st.Subject) > maxAttestSubjects {
		return nil, fmt.Errorf("statement has %d subjects (want 1 to %d)", len(st.Subject), maxAttestSubjects)
	}
	if len(st.Predicate.Report) == 0 || st.Predicate.Report[0] != '{' {
		return nil, errors.New("predicate has no report object")
	}
	switch st.Predicate.Subjects {
	case SubjectsOutputs:
	case SubjectsReport:
		if len(st.Subject) != 1 || st.Subject[0].Name != ReportSubjectName {
			return nil, fmt.Errorf("a report statement has one subject, %s", ReportSubjectName)
		}
	default:
		return nil, fmt.Errorf("predicate subjects is %q, want %q or %q", st.Predicate.Subjects, SubjectsOutputs, SubjectsReport)
	}
	names := make(map[string]bool, len(st.Subject))
	for _, s := range st.Subject {
		if err := checkSubjectName(s.Name); err != nil {
			return nil, err
		}
		if names[s.Name] {
			return nil, fmt.Errorf("subject %q listed twice", s.Name)
		}
		names[s.Name] = true
		d := s.Digest["sha256"]
		if len(d) != 64 || strings.Trim(d, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("subject %q has no valid sha256 digest", s.Name)
		}
	}
	return &st, nil
}

// checkSubjectName accepts the names NewReportStatement writes: a clean
// relative slash path without "..", or a clean absolute path.
func checkSubjectName(n string) error {
	if n == "" || len(n) > maxAttestName || !utf8.ValidString(n) || strings.ContainsRune(n, 0) {
		return fmt.Errorf("subject name %q is empty, overlong or not UTF-8", n)
	}
	if n == "." || n == "/" {
		return fmt.Errorf("subject name %q is not a file", n)
	}
	clean := filepath.ToSlash(filepath.Clean(filepath.FromSlash(n)))
	if clean != n || (!strings.HasPrefix(n, "/") && (n == ".." || strings.HasPrefix(n, "../"))) || strings.Contains(n, "\\") {
		return fmt.Errorf("subject name %q is not a clean path inside the working directory or an absolute path", n)
	}
	return nil
}

// summarize reads the run's outcome from the report (best effort: the
// report is signed, but it is only informative here).
func (v *ReportVerification) summarize(report []byte) {
	var r struct {
		Inputs []struct {
			Format  string `json:"format"`
			Details struct {
				Command    []string `json:"command"`
				Verdict    string   `json:"verdict"`
				HaltReason string   `json:"halt_reason"`
				ExitCode   int      `json:"exit_code"`
			} `json:"details"`
		} `json:"inputs"`
		Findings []struct {
			Severity string `json:"severity"`
		} `json:"findings"`
	}
	if json.Unmarshal(report, &r) != nil {
		return
	}
	for _, in := range r.Inputs {
		if in.Format == "run" {
			v.Command, v.Verdict, v.HaltReason, v.ExitCode = in.Details.Command, in.Details.Verdict, in.Details.HaltReason, in.Details.ExitCode
			break
		}
	}
	v.Findings = map[string]int{}
	for _, f := range r.Findings {
		v.Findings[f.Severity]++
	}
}

// hashRegular returns the SHA-256 of a regular file: not through a
// symbolic link, and not blocking on a FIFO swapped in after the check.
func hashRegular(p string) (string, error) {
	li, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if !li.Mode().IsRegular() {
		return "", fmt.Errorf("not a regular file (%s)", li.Mode().Type())
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || !os.SameFile(li, fi) {
		return "", errors.New("replaced while it was opened")
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
