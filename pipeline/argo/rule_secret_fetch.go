package argo

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// SecretEnvExternalFetch reports templates that hold secrets in env and
// fetch input artifacts from outside.
var SecretEnvExternalFetch = pipeline.Register(finding.Rule{
	ID:       "pipeline/argo-secret-env-external-fetch",
	Title:    "Secrets in env of a step that fetches external artifacts",
	Severity: finding.High,
	Doc: "A template gets secrets as environment variables (`valueFrom.secretKeyRef`, `envFrom.secretRef`) and " +
		"also takes input artifacts from outside the workflow — an `http` URL, a `git` repository, or a bucket " +
		"named explicitly (`s3`, `gcs`, `oss`, `azure`, `hdfs`, `artifactory`). The step processes content that " +
		"someone else controls (a repository's build scripts, a model file that executes code on load, an archive " +
		"with crafted paths) in the same process environment as the secrets, so that content can read and " +
		"exfiltrate them. Artifacts from the workflow's own artifact repository (key only) are not counted.",
	Remediation: "Split the step: fetch and check (scan, verify checksum or signature) the external artifact in a " +
		"step without secrets, and pass only the verified result to the step that needs the credentials; mount " +
		"secrets as files readable only where needed.",
}, func(p *pipeline.Pass) {
	d, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		pod := d.Pod(s)
		if len(pod.SecretEnv) == 0 || len(pod.Fetches) == 0 {
			continue
		}
		var names, urls []string
		for _, n := range pod.SecretEnv {
			names = append(names, n.Name)
		}
		for _, f := range pod.Fetches {
			urls = append(urls, f.Kind+" "+f.URL)
		}
		pos := pod.Fetches[0].Pos
		if !seen.First(pos, strings.Join(names, ",")) {
			continue
		}
		p.Report(s, pos, "Stage '"+s.Name+"' fetches external input ("+strings.Join(urls, ", ")+") while secrets ("+
			strings.Join(names, ", ")+") are in its environment.", "secrets="+strings.Join(names, ","))
	}
})
