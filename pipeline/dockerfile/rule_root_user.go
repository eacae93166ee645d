package dockerfile

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// RootUser reports images whose final stage runs as root.
var RootUser = pipeline.Register(finding.Rule{
	ID:       "pipeline/dockerfile-root-user",
	Title:    "Dockerfile image runs as root",
	Severity: finding.Medium,
	Doc: "The final build stage of a Dockerfile — the image `docker build` produces — runs as root: its " +
		"last USER instruction (in the stage or in the earlier stage it is built FROM) is `root` or `0`, or " +
		"there is none, so the container runs as whatever user the base image sets, which is root for almost " +
		"all of them (base images whose tag says `nonroot` or `rootless` are taken at their word). A model " +
		"server or training job that loads a malicious pickle then gives the attacker root in the container, " +
		"which makes escapes, host mounts and capability abuse easier. The seed's hardened Dockerfile " +
		"creates a user and ends with `USER mlbuild`. A root builder stage followed by a non-root final " +
		"stage is fine.",
	Remediation: "Create an unprivileged user (`RUN useradd -r -u 10001 app`) and add `USER app` (or a " +
		"numeric UID) after the last instruction that needs root in the final stage.",
}, func(p *pipeline.Pass) {
	f := fileOf(p.Graph)
	if f == nil {
		return
	}
	lin := f.lineage()
	if len(lin) == 0 {
		return
	}
	final := lin[0]
	s := stageNamed(p.Graph, final.Name)
	if s == nil {
		return
	}
	for _, bs := range lin {
		for i := len(bs.Instructions) - 1; i >= 0; i-- {
			in := bs.Instructions[i]
			if in.Cmd != "USER" {
				continue
			}
			user := strings.TrimSpace(in.Args)
			name, _, _ := strings.Cut(user, ":")
			if name == "root" || name == "0" {
				p.Report(s, in.Pos, "The final image runs as root (USER "+user+" is the last USER instruction).", "user=root")
			}
			return
		}
		if bs.Parent == nil {
			img := strings.ToLower(bs.Image)
			if strings.Contains(img, "nonroot") || strings.Contains(img, "rootless") || strings.Contains(img, "non-root") {
				return
			}
		}
	}
	base := final
	for base.Parent != nil {
		base = base.Parent
	}
	what := "its base image '" + base.Image + "'"
	if base.Image == "" {
		what = "scratch"
	}
	p.Report(s, final.From.Pos, "The final image has no USER instruction, so it runs as the user of "+what+
		", which is root unless that image sets another.", "user=unset")
})
