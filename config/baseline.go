package config

import (
	"encoding/json"
	"fmt"

	"github.com/mlgate/mlgate/finding"
)

// MaxBaselineSize is the largest baseline file LoadBaseline accepts, in
// bytes (256 MiB).
const MaxBaselineSize = 256 << 20

// BaselineSchemaVersion is the report schema version LoadBaseline accepts.
const BaselineSchemaVersion = "1"

// LoadBaseline reads a previous mlgate JSON report,
//
//	{"schema_version": "1", "findings": [{"fingerprint": "...", ...}, ...], ...}
//
// and returns the set of its findings' fingerprints. Other fields are
// ignored; a missing or null "findings" is an empty list. Every error starts
// with "path: ": the file cannot be read, is not a regular file (symbolic
// links are followed; a directory, named pipe or device is rejected before it
// is opened), is larger than MaxBaselineSize, is not a single JSON object, has a schema_version other than the string "1"
// (or none), or holds a finding without a non-empty string fingerprint.
func LoadBaseline(path string) (map[string]bool, error) {
	data, err := readRegular(path, "baseline", MaxBaselineSize+1, MaxBaselineSize)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBaselineSize {
		return nil, fmt.Errorf("%s: baseline is larger than %d bytes", path, MaxBaselineSize)
	}
	return parseBaseline(path, data)
}

// parseBaseline decodes the content of a baseline file.
func parseBaseline(path string, data []byte) (map[string]bool, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s: not a JSON report object: %v", path, err)
	}
	if top == nil {
		return nil, fmt.Errorf("%s: not a JSON report object: found null", path)
	}
	rawVersion, ok := top["schema_version"]
	if !ok {
		return nil, fmt.Errorf("%s: missing schema_version; is this an mlgate JSON report?", path)
	}
	var version string
	if err := json.Unmarshal(rawVersion, &version); err != nil {
		return nil, fmt.Errorf("%s: schema_version must be a string, found %s", path, abbrev(rawVersion))
	}
	if version != BaselineSchemaVersion {
		return nil, fmt.Errorf("%s: unsupported schema_version %q (want %q)", path, version, BaselineSchemaVersion)
	}
	var findings []struct {
		Fingerprint *string `json:"fingerprint"`
	}
	if raw, ok := top["findings"]; ok {
		if err := json.Unmarshal(raw, &findings); err != nil {
			return nil, fmt.Errorf("%s: findings must be a list of objects: %v", path, err)
		}
	}
	set := make(map[string]bool, len(findings))
	for i, f := range findings {
		if f.Fingerprint == nil || *f.Fingerprint == "" {
			return nil, fmt.Errorf("%s: finding %d has no fingerprint", path, i+1)
		}
		set[*f.Fingerprint] = true
	}
	return set, nil
}

// abbrev shortens a raw JSON value for an error message.
func abbrev(raw json.RawMessage) string {
	const n = 40
	if len(raw) > n {
		return string(raw[:n]) + "..."
	}
	return string(raw)
}

// ApplyBaseline drops the findings whose fingerprint is in base and returns
// the rest and the number dropped. A finding with an empty Fingerprint is
// matched by its computed fingerprint. The input slice is not modified.
func ApplyBaseline(fs []finding.Finding, base map[string]bool) (kept []finding.Finding, baselined int) {
	kept = make([]finding.Finding, 0, len(fs))
	for _, f := range fs {
		fp := f.Fingerprint
		if fp == "" {
			fp = f.ComputeFingerprint()
		}
		if base[fp] {
			baselined++
			continue
		}
		kept = append(kept, f)
	}
	return kept, baselined
}
