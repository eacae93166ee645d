package gitlab

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// IncludeUnpinned reports includes whose content can change under the
// pipeline.
var IncludeUnpinned = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-include-unpinned",
	Title:    "GitLab include from outside the repository is not pinned",
	Severity: finding.Medium,
	Doc: "An `include:` pulls configuration — jobs, scripts, images, rules — from outside the repository without " +
		"pinning its content, so whoever controls the other side decides what the pipeline runs, with its " +
		"secrets. `include: remote` over plain http is high (anyone on the network path can change it); over " +
		"https without `integrity:` (a sha256 of the file, which GitLab checks) it is medium. `include: project` " +
		"without `ref` follows the other project's default branch, and so does a branch ref (medium); a version " +
		"tag rather than a commit SHA can be moved (low). A CI/CD component at ~latest is medium, at a version tag " +
		"low. GitLab's own `include: template` files are not reported.",
	Remediation: "Pin `include: project` with `ref:` set to a full commit SHA, add `integrity: sha256-...` to " +
		"remote includes (and use https), and pin components to a commit SHA or vet the tags you use.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	for _, in := range d.Includes {
		var sev finding.Severity
		var msg string
		switch in.Kind {
		case IncludeRemote:
			switch {
			case strings.HasPrefix(in.Target, "http://"):
				sev, msg = finding.High, "is fetched over plain http: anyone on the network path can change the pipeline"
			case in.Integrity == "":
				sev, msg = finding.Medium, "has no `integrity:` hash: whoever controls that URL controls the pipeline"
			}
		case IncludeProject:
			switch {
			case in.Ref == "":
				sev, msg = finding.Medium, "has no `ref:` and follows the other project's default branch"
			case isCommitSHA(in.Ref) || strings.Contains(in.Ref, "$"):
			case versionTag.MatchString(in.Ref):
				sev, msg = finding.Low, "uses ref '"+in.Ref+"', a tag that can be moved, not a commit SHA"
			default:
				sev, msg = finding.Medium, "uses ref '"+in.Ref+"', a branch whose head changes, not a commit SHA"
			}
		case IncludeComponent:
			ver := ""
			if i := strings.LastIndex(in.Target, "@"); i >= 0 {
				ver = in.Target[i+1:]
			}
			switch {
			case ver == "" || ver == "~latest" || ver == "main" || ver == "master":
				sev, msg = finding.Medium, "is not pinned (version '"+ver+"')"
			case !isCommitSHA(ver) && !strings.Contains(ver, "$"):
				sev, msg = finding.Low, "is pinned to tag '"+ver+"', which can be moved, not a commit SHA"
			}
		}
		if msg == "" {
			continue
		}
		pos := in.pos()
		if in.Kind == IncludeProject && in.RefPos.Line > 0 {
			pos = in.RefPos
		}
		f := p.ReportAt(pos, "include "+in.Kind+" "+in.Target, "include:"+in.Kind+" '"+in.Target+"' "+msg+".",
			"include="+in.Kind+":"+in.Target+"@"+in.Ref)
		setSeverity(f, sev)
	}
})

var (
	commitSHA  = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
	versionTag = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*([-+.][0-9A-Za-z.-]+)?$`)
)

func isCommitSHA(s string) bool { return commitSHA.MatchString(s) }
