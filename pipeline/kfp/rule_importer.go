package kfp

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// ImporterUnpinnedURI reports importer tasks whose artifact URI names no
// fixed version of the object.
var ImporterUnpinnedURI = pipeline.Register(finding.Rule{
	ID:       "pipeline/kfp-importer-unpinned-uri",
	Title:    "KFP importer brings in an external artifact without a pinned version",
	Severity: finding.Medium,
	Doc: "An importer task (`dsl.importer`) brings a dataset or model into the pipeline from a URI that " +
		"does not name one immutable version: a `gs://` object without a `#generation`, an `s3://` object " +
		"without `versionId`, an `hf://` repository without a commit revision, an `http(s)://` URL without a " +
		"content digest, or a URI chosen at run time. Whoever can write to that location — or later replaces " +
		"the object — changes what the pipeline trains on or deploys, and nothing records which bytes were " +
		"used. Importer outputs are treated as untrusted inputs by the graph rules either way; this rule asks " +
		"for the version pin that makes the import reproducible and reviewable.",
	Remediation: "Import an immutable version: `gs://bucket/obj#<generation>`, `s3://bucket/key?versionId=...`, " +
		"`hf://org/model@<commit-sha>`, or a URL whose content is checked against a known digest before use; " +
		"verify the artifact (checksum, signature, `mlgate scan`) in a task right after the importer.",
}, func(p *pipeline.Pass) {
	_, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		t := x.Tasks[s]
		if t == nil || t.Importer == nil {
			continue
		}
		im := t.Importer
		if !seen.First(im.Pos, im.URI) {
			continue
		}
		if im.Runtime {
			what := "is chosen at run time"
			if im.URI != "" {
				what += " (default '" + im.URI + "')"
			}
			p.Report(s, im.Pos, "Importer '"+s.Name+"' imports an artifact whose URI "+what+"; no version can be "+
				"pinned or reviewed.", "runtime-uri="+im.URI)
			continue
		}
		if VersionPinned(im.URI) {
			continue
		}
		p.Report(s, im.Pos, "Importer '"+s.Name+"' imports '"+im.URI+"' without naming an immutable version of it.",
			"uri="+im.URI)
	}
})

var (
	hexRev   = regexp.MustCompile(`[0-9a-f]{40}`)
	digestIn = regexp.MustCompile(`(?i)(sha256[:=]|[0-9a-f]{64})`)
)

// VersionPinned reports whether an artifact URI names one immutable
// version of an object.
func VersionPinned(uri string) bool {
	switch k8s.ExternalScheme(uri) {
	case "gs":
		i := strings.LastIndexByte(uri, '#')
		if i < 0 || i == len(uri)-1 {
			return false
		}
		for _, c := range uri[i+1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	case "s3":
		return strings.Contains(uri, "versionId=")
	case "hf":
		i := strings.LastIndexByte(uri, '@')
		return i >= 0 && hexRev.MatchString(uri[i+1:])
	case "http", "https":
		return digestIn.MatchString(uri) || (strings.Contains(uri, "huggingface.co/") && strings.Contains(uri, "/resolve/") && hexRev.MatchString(uri))
	case "oci":
		return strings.Contains(uri, "@sha256:")
	}
	return false
}
