package dockerfile

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// RemoteAdd reports ADD of remote URLs without a checksum.
var RemoteAdd = pipeline.Register(finding.Rule{
	ID:       "pipeline/dockerfile-remote-add",
	Title:    "ADD of a remote URL without --checksum",
	Severity: finding.Medium,
	Doc: "An ADD instruction downloads a URL (http, https or a Git repository) into the image without " +
		"`--checksum=sha256:...` (for Git sources, a commit pinned in the URL fragment is accepted). " +
		"Whatever the server returns at build time goes into the image unchecked: a compromised or hijacked " +
		"download host, or a moved Git branch or tag, changes the image without any change to the Dockerfile.",
	Remediation: "Add `--checksum=sha256:<digest>` to the ADD (BuildKit 1.6+), pin Git sources to a full " +
		"commit hash, or download in a RUN step and verify the file against a checksum committed in the " +
		"repository.",
}, func(p *pipeline.Pass) {
	f := fileOf(p.Graph)
	if f == nil {
		return
	}
	for _, bs := range f.Stages {
		s := stageNamed(p.Graph, bs.Name)
		if s == nil {
			continue
		}
		for _, in := range bs.Instructions {
			if in.Cmd != "ADD" {
				continue
			}
			if _, ok := in.FlagValue("checksum"); ok {
				continue
			}
			srcs := in.JSON
			if srcs == nil {
				srcs = splitWords(in.Args)
			}
			if len(srcs) > 1 {
				srcs = srcs[:len(srcs)-1] // the last one is the destination
			}
			for _, src := range srcs {
				u := strings.ToLower(unquote(src))
				git := strings.HasPrefix(u, "git@") || strings.HasSuffix(strings.SplitN(u, "#", 2)[0], ".git")
				if !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || git) {
					continue
				}
				if git {
					if _, frag, ok := strings.Cut(u, "#"); ok && isCommit(strings.SplitN(frag, ":", 2)[0]) {
						continue
					}
				}
				p.Report(s, in.Pos, "ADD downloads "+truncate(unquote(src), 200)+" without --checksum: the content is "+
					"not verified.", "add="+truncate(unquote(src), 512))
			}
		}
	}
})

func isCommit(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
