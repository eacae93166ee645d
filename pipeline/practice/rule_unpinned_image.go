package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// UnpinnedImage reports container images referenced by tag instead of
// digest, in every pipeline format.
var UnpinnedImage = pipeline.Register(finding.Rule{
	ID:       "pipeline/unpinned-image",
	Title:    "Container image not pinned to a digest",
	Severity: finding.Medium,
	Doc: "A stage runs a container image (job or step container, service, Kubeflow or Argo container, " +
		"Dockerfile FROM) by tag or with no tag at all instead of by digest (`image@sha256:...`). A tag — " +
		"`latest` even more so — is a pointer that the image's publisher, or anyone who takes over the " +
		"repository or its registry account, can move: the next run then executes other code, and nothing in " +
		"the pipeline changed. Images whose name is an expression the file does not resolve (`${{ matrix.image " +
		"}}`, `$IMAGE`) are not reported, and neither are images the pipeline builds itself (a Dockerfile path) " +
		"or `scratch`. This is the one rule for image pinning across formats; format-specific rules do not " +
		"report the same image again.",
	Remediation: "Reference the image by digest, e.g. `python:3.11-slim@sha256:<digest>` (the tag may stay " +
		"for readability), and let a bot such as Renovate or Dependabot propose digest updates.",
}, func(p *pipeline.Pass) {
	type key struct {
		ref  string
		line int
		col  int
	}
	seen := map[key]bool{}
	for _, s := range p.Graph.Stages {
		for _, img := range s.Images {
			if img.Kind == "build" {
				continue
			}
			why, ok := unpinnedRef(img.Ref)
			if !ok {
				continue
			}
			k := key{img.Ref, img.Pos.Line, img.Pos.Column}
			if seen[k] {
				continue
			}
			seen[k] = true
			p.Report(s, img.Pos, "Image '"+truncate(img.Ref, 200)+"' is "+why+", not pinned to a digest: "+
				"the code it runs can change without any change to the pipeline.", "image="+truncate(img.Ref, 512))
		}
	}
})

// unpinnedRef says how an image reference is unpinned, or false when it is
// pinned by digest, unresolvable or not an external image.
func unpinnedRef(ref string) (string, bool) {
	r := strings.TrimSpace(ref)
	r = strings.TrimPrefix(r, "docker://")
	if r == "" || strings.Contains(r, "@sha256:") || strings.Contains(r, "@sha512:") ||
		strings.ContainsAny(r, "$") || strings.Contains(r, "{{") || strings.EqualFold(r, "scratch") {
		return "", false
	}
	name := r
	tag := ""
	slash := strings.LastIndexByte(r, '/')
	if colon := strings.LastIndexByte(r, ':'); colon > slash {
		name, tag = r[:colon], r[colon+1:]
	}
	_ = name
	switch {
	case tag == "":
		return "untagged (implicitly 'latest')", true
	case tag == "latest":
		return "tagged 'latest'", true
	}
	return "referenced by tag '" + truncate(tag, 80) + "'", true
}
