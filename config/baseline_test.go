package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
)

func TestLoadBaseline(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    map[string]bool
		wantErr string
	}{
		{"ok", `{"schema_version": "1", "tool": "mlgate", "findings": [{"fingerprint": "aa", "rule_id": "x/y"}, {"fingerprint": "bb"}, {"fingerprint": "aa"}]}`,
			map[string]bool{"aa": true, "bb": true}, ""},
		{"no findings key", `{"schema_version": "1"}`, map[string]bool{}, ""},
		{"null findings", `{"schema_version": "1", "findings": null}`, map[string]bool{}, ""},
		{"empty findings", `{"schema_version": "1", "findings": []}`, map[string]bool{}, ""},
		{"not json", `schema_version: 1`, nil, "not a JSON report object"},
		{"truncated", `{"schema_version": "1", "findings": [`, nil, "not a JSON report object"},
		{"trailing garbage", `{"schema_version": "1"} {}`, nil, "not a JSON report object"},
		{"array", `[{"fingerprint": "aa"}]`, nil, "not a JSON report object"},
		{"null", `null`, nil, "found null"},
		{"missing version", `{"findings": []}`, nil, "missing schema_version"},
		{"numeric version", `{"schema_version": 1, "findings": []}`, nil, "schema_version must be a string"},
		{"wrong version", `{"schema_version": "2", "findings": []}`, nil, `unsupported schema_version "2"`},
		{"findings not list", `{"schema_version": "1", "findings": {}}`, nil, "findings must be a list"},
		{"finding not object", `{"schema_version": "1", "findings": [1]}`, nil, "findings must be a list"},
		{"missing fingerprint", `{"schema_version": "1", "findings": [{"fingerprint": "aa"}, {"rule_id": "x/y"}]}`, nil, "finding 2 has no fingerprint"},
		{"empty fingerprint", `{"schema_version": "1", "findings": [{"fingerprint": ""}]}`, nil, "finding 1 has no fingerprint"},
		{"null fingerprint", `{"schema_version": "1", "findings": [{"fingerprint": null}]}`, nil, "finding 1 has no fingerprint"},
		{"numeric fingerprint", `{"schema_version": "1", "findings": [{"fingerprint": 5}]}`, nil, "findings must be a list"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "b"+string(rune('a'+i))+".json")
			writeFile(t, path, tt.content)
			got, err := LoadBaseline(path)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q prefixed by the path", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	missing := filepath.Join(dir, "missing.json")
	if _, err := LoadBaseline(missing); err == nil || !strings.HasPrefix(err.Error(), missing+": ") {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := LoadBaseline(dir); err == nil {
		t.Error("directory accepted")
	}
}

func TestLoadBaselineTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file: large without writing 256 MiB.
	if err := f.Truncate(MaxBaselineSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := LoadBaseline(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v", err)
	}
}

func TestApplyBaseline(t *testing.T) {
	a := testAlpha.New(finding.Location{File: "a.yaml", Line: 3}, "m", "one")
	b := testAlpha.New(finding.Location{File: "a.yaml", Line: 9}, "m", "two")
	noFP := testGamma.New(finding.Location{File: "b.yaml"}, "m", "three")
	fp := noFP.Fingerprint
	noFP.Fingerprint = ""

	// Round trip through a report-shaped file.
	report := map[string]any{"schema_version": "1", "findings": []finding.Finding{a, {RuleID: "x/y", Fingerprint: fp}}}
	data, err := json.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "base.json")
	writeFile(t, path, string(data))
	base, err := LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}

	// The same finding on a different line keeps its fingerprint.
	moved := a
	moved.Location.Line = 40
	in := []finding.Finding{a, b, noFP, moved}
	kept, n := ApplyBaseline(in, base)
	if n != 3 || len(kept) != 1 || kept[0].Evidence != "two" {
		t.Errorf("ApplyBaseline: n=%d kept=%+v", n, kept)
	}
	if kept, n := ApplyBaseline(in, nil); n != 0 || len(kept) != len(in) {
		t.Errorf("nil baseline: n=%d kept=%d", n, len(kept))
	}
}
