package kfp

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// ExtraIndexURL reports KFP bootstraps that add a second package index.
var ExtraIndexURL = pipeline.Register(finding.Rule{
	ID:       "pipeline/kfp-extra-index-url",
	Title:    "KFP component bootstrap uses --extra-index-url (dependency confusion)",
	Severity: finding.High,
	Doc: "The KFP bootstrap installs packages with `--extra-index-url` (the SDK writes every `pip_index_urls` " +
		"entry after the first that way). pip treats all indexes as equal and installs the highest version it finds " +
		"on any of them, so a package name that exists on the private index can be claimed on the public one " +
		"(PyPI) with a higher version and will be installed instead — the dependency-confusion attack. Exact " +
		"`==` pins narrow but do not close the gap: the same version can be published on both indexes.",
	Remediation: "Use a single index that proxies the public one and serves private names only from the private " +
		"source (e.g. a repository manager with name-priority rules), or bake the packages into the image; with " +
		"pip, install private packages with `--index-url` alone and `--require-hashes`.",
}, func(p *pipeline.Pass) {
	eachPipArg(p, func(s *pipeline.Stage, pi *PipInstall, at func(string, int) (pipeline.Pos, bool)) {
		for _, u := range pi.ExtraIndexURLs {
			pos, first := at("extra", u.Off)
			if !first {
				continue
			}
			var names []string
			for _, pk := range pi.Packages {
				names = append(names, pk.Value)
			}
			p.Report(s, pos, "Task '"+s.Name+"' installs "+listOr(names, "packages")+" with `--extra-index-url "+u.Value+
				"`; a package of the same name on any of the indexes can win.", "extra-index-url="+u.Value)
		}
	})
})

func listOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	if len(xs) > 5 {
		return strings.Join(xs[:5], ", ") + " and more"
	}
	return strings.Join(xs, ", ")
}
