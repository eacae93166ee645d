package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/mlgate/mlgate/finding"
)

// SARIF 2.1.0 output, shaped for GitHub code scanning: every registered rule
// with help text, default level and security-severity; results with regions,
// logical locations and partialFingerprints.

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	// FingerprintKey names mlgate's fingerprint in partialFingerprints.
	FingerprintKey = "mlgate/v1"
	toolURI        = "https://github.com/mlgate/mlgate"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           sarifRuleProps  `json:"properties"`
}

type sarifRuleConfig struct {
	Level   string `json:"level"`
	Enabled bool   `json:"enabled"`
}

type sarifRuleProps struct {
	SecuritySeverity string   `json:"security-severity"`
	Severity         string   `json:"mlgate-severity"`
	Tags             []string `json:"tags"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]string `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
	Message          *sarifText     `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
}

// Level maps a severity to a SARIF level.
func Level(s finding.Severity) string {
	switch s {
	case finding.Critical, finding.High:
		return "error"
	case finding.Medium:
		return "warning"
	}
	return "note"
}

// SecuritySeverity maps a severity to the CVSS-like score GitHub code
// scanning reads from the security-severity property (>= 9.0 critical,
// 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low).
func SecuritySeverity(s finding.Severity) string {
	switch s {
	case finding.Critical:
		return "9.5"
	case finding.High:
		return "8.0"
	case finding.Medium:
		return "5.5"
	case finding.Low:
		return "3.0"
	}
	return "0.0"
}

// WriteSARIF renders r as a SARIF 2.1.0 log with one run.
func WriteSARIF(w io.Writer, r *Report) error {
	rules := finding.Rules()
	index := map[string]int{}
	driver := sarifDriver{Name: r.Tool.Name, Version: r.Tool.Version, InformationURI: toolURI, Rules: []sarifRule{}}
	for i, rule := range rules {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, sarifRuleOf(rule))
	}
	fs := append([]finding.Finding{}, r.Findings...)
	finding.Sort(fs)
	results := []sarifResult{}
	for _, f := range fs {
		i, ok := index[f.RuleID]
		if !ok {
			// A finding of an unregistered rule: describe it from the finding.
			i = len(driver.Rules)
			index[f.RuleID] = i
			driver.Rules = append(driver.Rules, sarifRuleOf(&finding.Rule{
				ID: f.RuleID, Title: f.Title, Severity: f.Severity, Doc: f.Title, Remediation: f.Remediation,
			}))
		}
		res := sarifResult{
			RuleID:              f.RuleID,
			RuleIndex:           i,
			Level:               Level(f.Severity),
			Message:             sarifText{Text: resultMessage(f)},
			PartialFingerprints: map[string]string{FingerprintKey: f.Fingerprint},
			Properties:          map[string]string{"severity": f.Severity.String()},
		}
		if f.Evidence != "" {
			res.Properties["evidence"] = f.Evidence
		}
		if loc := sarifLocationOf(f.Location); loc != nil {
			res.Locations = []sarifLocation{*loc}
		}
		results = append(results, res)
	}
	inv := sarifInvocation{ExecutionSuccessful: !r.Failed()}
	for _, in := range r.Inputs {
		if in.Status != StatusError {
			continue
		}
		n := sarifNotification{Level: "error", Message: sarifText{Text: in.Error}}
		if loc := sarifLocationOf(finding.Location{File: in.Path}); loc != nil {
			n.Locations = []sarifLocation{*loc}
		}
		inv.Notifications = append(inv.Notifications, n)
	}
	log := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: driver},
			Invocations: []sarifInvocation{inv},
			Results:     results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func resultMessage(f finding.Finding) string {
	msg := f.Message
	if f.Remediation != "" {
		msg += "\nFix: " + f.Remediation
	}
	return msg
}

func sarifRuleOf(r *finding.Rule) sarifRule {
	help := r.Doc + "\n\nRemediation: " + r.Remediation
	md := r.Doc + "\n\n**Remediation:** " + r.Remediation + "\n\nSee `mlgate rules " + r.ID + "`."
	return sarifRule{
		ID:               r.ID,
		Name:             pascal(r.ID),
		ShortDescription: sarifText{Text: r.Title},
		FullDescription:  sarifText{Text: r.Doc},
		Help:             sarifText{Text: help, Markdown: md},
		DefaultConfiguration: sarifRuleConfig{
			Level:   Level(r.Severity),
			Enabled: !r.DefaultDisabled,
		},
		Properties: sarifRuleProps{
			SecuritySeverity: SecuritySeverity(r.Severity),
			Severity:         r.Severity.String(),
			Tags:             []string{"security", strings.SplitN(r.ID, "/", 2)[0]},
		},
	}
}

// pascal turns "pipeline/untrusted-code-no-isolation" into
// "PipelineUntrustedCodeNoIsolation", SARIF's conventional rule name shape.
func pascal(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if r == '/' || r == '-' || r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func sarifLocationOf(l finding.Location) *sarifLocation {
	var loc sarifLocation
	if l.File != "" {
		phys := &sarifPhysical{ArtifactLocation: artifactOf(l.File)}
		if l.Line > 0 {
			phys.Region = &sarifRegion{StartLine: l.Line, StartColumn: l.Column}
		}
		loc.PhysicalLocation = phys
	}
	if l.Logical != "" {
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: l.Logical}}
	}
	if loc.PhysicalLocation == nil && loc.LogicalLocations == nil {
		return nil
	}
	return &loc
}

// artifactOf makes a SARIF artifact location: relative paths become
// %SRCROOT%-relative URIs with forward slashes; absolute paths become file URIs.
func artifactOf(path string) sarifArtifact {
	p := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		u := url.URL{Scheme: "file", Path: p}
		return sarifArtifact{URI: u.String()}
	}
	p = strings.TrimPrefix(p, "./")
	u := url.URL{Path: p}
	return sarifArtifact{URI: u.String(), URIBaseID: "%SRCROOT%"}
}
