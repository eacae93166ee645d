package k8s

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// ImageLatestTag reports images with the latest tag or no tag at all.
var ImageLatestTag = pipeline.Register(finding.Rule{
	ID:       "pipeline/k8s-image-latest-tag",
	Title:    "Container image uses the latest tag or no tag",
	Severity: finding.Medium,
	Doc: "A Kubeflow Pipelines executor or an Argo Workflows template runs an image tagged `latest` or with " +
		"no tag (which means `latest`). The image changes whenever anyone pushes to the repository, so two runs " +
		"of the same pipeline can execute different code, a compromised push lands in the next run unnoticed, " +
		"and nothing records which image trained or signed a model. Images filled in at run time are not reported.",
	Remediation: "Use a versioned tag and pin it by digest (`repo/image:1.4.2@sha256:<digest>`).",
}, func(p *pipeline.Pass) {
	if !IsK8sFormat(p.Graph.Format) {
		return
	}
	seen := Seen{}
	for _, s := range p.Graph.Stages {
		for _, im := range s.Images {
			if ImagePinned(im.Ref) || ImageTemplated(im.Ref) || PlaceholderImage(im.Ref) || im.Ref == "" {
				continue
			}
			tag := ImageTag(im.Ref)
			if tag != "" && tag != "latest" {
				continue
			}
			if !seen.First(im.Pos, im.Ref) {
				continue
			}
			what := "has no tag (so it runs whatever `latest` is)"
			if tag == "latest" {
				what = "uses the `latest` tag"
			}
			p.ReportAt(im.Pos, "image "+im.Ref, "Stage '"+s.Name+"' runs image '"+im.Ref+"', which "+what+
				"; each run may execute a different image.", "image="+im.Ref)
		}
	}
})
