package finding_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
)

func TestSeverity(t *testing.T) {
	for _, s := range finding.Severities {
		got, err := finding.ParseSeverity(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("round trip %s: %v %v", s, got, err)
		}
	}
	if _, err := finding.ParseSeverity("severe"); err == nil {
		t.Error("accepted an unknown severity")
	}
	if !(finding.Critical > finding.High && finding.High > finding.Medium && finding.Medium > finding.Low && finding.Low > finding.Info) {
		t.Error("severities are not ordered")
	}
	b, _ := json.Marshal(struct{ S finding.Severity }{finding.High})
	if string(b) != `{"S":"high"}` {
		t.Errorf("json %s", b)
	}
	var v struct{ S finding.Severity }
	if err := json.Unmarshal([]byte(`{"S":"bogus"}`), &v); err == nil {
		t.Error("unmarshalled a bogus severity")
	}
	if _, err := json.Marshal(struct{ S finding.Severity }{finding.Severity(9)}); err == nil {
		t.Error("marshalled an invalid severity")
	}
}

var fpRule = finding.Register(&finding.Rule{ID: "test/fingerprint", Title: "t", Severity: finding.Low, Doc: "d", Remediation: "r"})

func TestFingerprintIgnoresLines(t *testing.T) {
	a := fpRule.New(finding.Location{File: "a.yaml", Line: 3, Column: 5, Logical: "stage x"}, "m1", "e")
	b := fpRule.New(finding.Location{File: "a.yaml", Line: 90, Column: 1, Logical: "stage x"}, "other message", "e")
	if a.Fingerprint != b.Fingerprint || len(a.Fingerprint) != 32 {
		t.Errorf("fingerprint depends on line or message: %s %s", a.Fingerprint, b.Fingerprint)
	}
	for _, loc := range []finding.Location{
		{File: "b.yaml", Logical: "stage x"},
		{File: "a.yaml", Logical: "stage y"},
	} {
		if c := fpRule.New(loc, "m1", "e"); c.Fingerprint == a.Fingerprint {
			t.Errorf("fingerprint ignores %+v", loc)
		}
	}
	if c := fpRule.New(a.Location, "m1", "e2"); c.Fingerprint == a.Fingerprint {
		t.Error("fingerprint ignores evidence")
	}
	// Field boundaries matter: ("ab","c") and ("a","bc") differ.
	x := fpRule.New(finding.Location{File: "ab", Logical: "c"}, "", "")
	y := fpRule.New(finding.Location{File: "a", Logical: "bc"}, "", "")
	if x.Fingerprint == y.Fingerprint {
		t.Error("fingerprint parts are not delimited")
	}
}

func TestRegistry(t *testing.T) {
	if r, ok := finding.Lookup("test/fingerprint"); !ok || r != fpRule {
		t.Fatal("lookup failed")
	}
	for _, bad := range []finding.Rule{
		{ID: "NoDomain", Title: "t", Doc: "d", Remediation: "r"},
		{ID: "pipeline/Upper-Case", Title: "t", Doc: "d", Remediation: "r"},
		{ID: "pipeline/trailing-", Title: "t", Doc: "d", Remediation: "r"},
		{ID: "test/no-doc", Title: "t", Remediation: "r"},
		{ID: "test/fingerprint", Title: "t", Doc: "d", Remediation: "r"}, // duplicate
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registered invalid rule %+v", bad)
				}
			}()
			r := bad
			finding.Register(&r)
		}()
	}
	rules := finding.Rules()
	for i := 1; i < len(rules); i++ {
		if rules[i-1].ID >= rules[i].ID {
			t.Error("rules not sorted")
		}
	}
}

func TestSortAndCounts(t *testing.T) {
	fs := []finding.Finding{
		{RuleID: "b", Severity: finding.Low, Location: finding.Location{File: "z", Line: 1}},
		{RuleID: "a", Severity: finding.High, Location: finding.Location{File: "a", Line: 2}},
		{RuleID: "c", Severity: finding.Critical, Location: finding.Location{File: "a", Line: 2}},
		{RuleID: "d", Severity: finding.Info, Location: finding.Location{File: "a", Line: 1}},
	}
	finding.Sort(fs)
	var order []string
	for _, f := range fs {
		order = append(order, f.RuleID)
	}
	if strings.Join(order, "") != "dcab" {
		t.Errorf("order %v", order)
	}
	c := finding.Counts(fs)
	if c[finding.Critical] != 1 || c[finding.Medium] != 0 || len(c) != 5 {
		t.Errorf("counts %v", c)
	}
	if s := (finding.Location{File: "f", Line: 2, Column: 3, Logical: "stage x"}).String(); s != "f:2:3 (stage x)" {
		t.Errorf("location string %q", s)
	}
}

func TestAssignFingerprints(t *testing.T) {
	mk := func(file string, line int, evidence string) finding.Finding {
		return fpRule.New(finding.Location{File: file, Line: line, Logical: "suppression"}, "m", evidence)
	}
	rel := func(f string) string { return strings.TrimPrefix(f, "/abs/repo/") }
	a := []finding.Finding{mk("/abs/repo/x.yaml", 7, "# c"), mk("/abs/repo/x.yaml", 12, "# c"), mk("/abs/repo/y.yaml", 1, "# c")}
	finding.AssignFingerprints(a, rel)
	if a[0].Fingerprint == a[1].Fingerprint || a[0].Fingerprint == a[2].Fingerprint {
		t.Fatal("identical findings share a fingerprint")
	}
	// The same findings reached through another spelling of the path, and
	// with every line moved, get the same fingerprints.
	b := []finding.Finding{mk("x.yaml", 20, "# c"), mk("x.yaml", 30, "# c"), mk("y.yaml", 5, "# c")}
	finding.AssignFingerprints(b, func(f string) string { return f })
	for i := range a {
		if a[i].Fingerprint != b[i].Fingerprint {
			t.Errorf("finding %d: fingerprint depends on path spelling or lines", i)
		}
	}
	if a[0].Location.File != "/abs/repo/x.yaml" {
		t.Error("AssignFingerprints must not change the displayed location")
	}
}
