package k8s

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// ImageWithoutDigest reports container images of Kubeflow and Argo stages
// that name a tag but no digest.
var ImageWithoutDigest = pipeline.Register(finding.Rule{
	ID:       "pipeline/k8s-image-without-digest",
	Title:    "Container image pinned by tag, not digest",
	Severity: finding.Low,
	Doc: "A Kubeflow Pipelines executor or an Argo Workflows template runs a container image by tag " +
		"(`python:3.11`, `repo/trainer:v2`) rather than by digest. Tags are mutable: whoever controls the " +
		"registry repository, or steals a push credential for it, can move the tag to a different image, and " +
		"every later run of the pipeline executes it with the task's secrets, volumes and GPU. A digest " +
		"(`image@sha256:...`) names exactly one image. Images filled in at run time (`{{inputs.parameters.image}}`) " +
		"cannot be judged and are not reported, nor are the placeholders the Kubeflow backend replaces " +
		"(`argostub/...`, `.../should-be-overridden-during-runtime`); `latest` and untagged images are reported by " +
		"pipeline/k8s-image-latest-tag instead.",
	Remediation: "Pin the image by digest (`repo/image:tag@sha256:<digest>`), and update the digest deliberately " +
		"(e.g. with Renovate or Dependabot).",
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
			if tag := ImageTag(im.Ref); tag == "" || tag == "latest" {
				continue
			}
			if !seen.First(im.Pos, im.Ref) {
				continue
			}
			p.ReportAt(im.Pos, "image "+im.Ref, "Stage '"+s.Name+"' runs image '"+im.Ref+"' by tag; the tag can be "+
				"moved to another image without any change to the pipeline.", "image="+im.Ref)
		}
	}
})
