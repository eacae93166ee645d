package run

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/sign/dsse"
)

func TestReportStatementRejects(t *testing.T) {
	good := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"out/m.bin","digest":{"sha256":"` + strings.Repeat("a", 64) + `"}}],"predicateType":"https://mlgate.dev/run-report/v1","predicate":{"subjects":"outputs","work_dir":"/w","outputs":["out"],"report":{}}}`
	if _, err := parseReportStatement([]byte(good)); err != nil {
		t.Fatalf("good statement: %v", err)
	}
	for name, bad := range map[string]string{
		"slsa predicate":  strings.Replace(good, "https://mlgate.dev/run-report/v1", "https://slsa.dev/provenance/v1", 1),
		"old statement":   strings.Replace(good, "Statement/v1", "Statement/v0.1", 1),
		"no subject":      strings.Replace(good, `[{"name":"out/m.bin","digest":{"sha256":"`+strings.Repeat("a", 64)+`"}}]`, `[]`, 1),
		"short digest":    strings.Replace(good, strings.Repeat("a", 64), "abc", 1),
		"upper digest":    strings.Replace(good, strings.Repeat("a", 64), strings.Repeat("A", 64), 1),
		"escaping name":   strings.Replace(good, "out/m.bin", "../etc/passwd", 1),
		"unclean name":    strings.Replace(good, "out/m.bin", "out/../../x", 1),
		"dot name":        strings.Replace(good, "out/m.bin", ".", 1),
		"backslash name":  strings.Replace(good, "out/m.bin", `out\\m.bin`, 1),
		"unknown kind":    strings.Replace(good, `"subjects":"outputs"`, `"subjects":"everything"`, 1),
		"report subjects": strings.Replace(good, `"subjects":"outputs"`, `"subjects":"report"`, 1),
		"no report":       strings.Replace(good, `"report":{}`, `"report":null`, 1),
		"not json":        good[:40],
	} {
		if _, err := parseReportStatement([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := parseReportStatement([]byte(strings.Replace(good, "out/m.bin", "/abs/out/m.bin", 1))); err != nil {
		t.Errorf("absolute subject (an output outside the working directory): %v", err)
	}
}

func TestSubjectName(t *testing.T) {
	for _, c := range [][3]string{
		{"/w/out/m.bin", "/w", "out/m.bin"},
		{"/w2/out/m.bin", "/w", "/w2/out/m.bin"},
		{"/w", "/w", "."},
		{"/out/m.bin", "/", "out/m.bin"},
	} {
		if got := subjectName(c[0], c[1]); got != c[2] {
			t.Errorf("subjectName(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

// FuzzVerifyReport feeds arbitrary statements, signed with a test key so
// that they reach the statement parser, to VerifyReport (no file access:
// base ""). It must not panic, and what it accepts must be a run report.
func FuzzVerifyReport(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"out/m.bin","digest":{"sha256":"` + strings.Repeat("0", 64) + `"}}],"predicateType":"https://mlgate.dev/run-report/v1","predicate":{"subjects":"outputs","outputs":["out"],"report":{"inputs":[{"format":"run","details":{"verdict":"clean","exit_code":0,"command":["true"]}}],"findings":[{"severity":"high"}]}}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"mlgate-run-report.json","digest":{"sha256":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}}],"predicateType":"https://mlgate.dev/run-report/v1","predicate":{"subjects":"report","report":{}}}`))
	f.Add([]byte(`{"_type":1}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		st := &ReportStatement{}
		// Sign the raw payload: SignReport would re-encode it.
		env, err := signRaw(key, payload)
		if err != nil {
			t.Fatal(err)
		}
		v, err := VerifyReport(env, &key.PublicKey, "")
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if v.Statement != nil {
			st = v.Statement
			if st.PredicateType != ReportPredicateType || len(st.Subject) == 0 {
				t.Fatalf("accepted %+v", st)
			}
			for _, s := range st.Subject {
				if checkSubjectName(s.Name) != nil {
					t.Fatalf("accepted subject %q", s.Name)
				}
			}
		}
		// The envelope bytes themselves are also hostile input.
		if _, err := VerifyReport(payload, &key.PublicKey, ""); err != nil {
			t.Fatalf("verify raw: %v", err)
		}
		_ = json.Valid(payload)
	})
}

// signRaw signs payload as is (tests and fuzzing).
func signRaw(s crypto.Signer, payload []byte) ([]byte, error) {
	env, err := dsse.Sign(s, "", InTotoPayloadType, payload)
	if err != nil {
		return nil, err
	}
	return env.MarshalJSON()
}

// The report-only subject's digest is over the report's bytes as they are
// in the payload: characters JSON encoders like to escape must survive.
func TestReportSubjectDigestRoundTrip(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	st, err := NewReportStatement([]byte("{\n  \"cmd\": \"a < b && c > d\",\n  \"u\": \"\\u00e9\\u2028\"\n}\n"), &Result{Dir: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	env, err := SignReport(key, st)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyReport(env, &key.PublicKey, "/nonexistent")
	if err != nil || !v.OK() || v.Statement.Predicate.Subjects != SubjectsReport {
		t.Fatalf("%v %+v", err, v.Failures)
	}
	if _, err := NewReportStatement([]byte("{not json"), &Result{}); err == nil {
		t.Error("a report that is not JSON was accepted")
	}
}
