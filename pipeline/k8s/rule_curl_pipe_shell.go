package k8s

import (
	"strconv"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// CurlPipeShell reports scripts that pipe a download into a shell or an
// interpreter.
var CurlPipeShell = pipeline.Register(finding.Rule{
	ID:       "pipeline/k8s-curl-pipe-shell",
	Title:    "Script pipes a download into a shell",
	Severity: finding.High,
	Doc: "An Argo Workflows script or container command, or a Kubeflow executor's command, downloads code " +
		"with curl or wget and pipes it straight into a shell or interpreter (`curl -sSL https://... | bash`). " +
		"Whatever the server (or anyone on the path, or whoever took over the domain) returns at that moment runs " +
		"inside the pod, with its service-account token, secrets, volumes and GPU, and nothing records what ran.",
	Remediation: "Bake the tool into the image, or download a pinned release, verify its checksum or signature, " +
		"and only then run it.",
}, func(p *pipeline.Pass) {
	if !IsK8sFormat(p.Graph.Format) {
		return
	}
	d := DocOf(p.Graph)
	seen := Seen{}
	for _, s := range p.Graph.Stages {
		for i := range s.Steps {
			st := &s.Steps[i]
			if st.Run == "" || st.Shell == "python" || !strings.Contains(st.Run, "|") {
				continue
			}
			// Stages that run the same template or executor share their
			// steps (same position, same text): scan each once.
			if !seen.First(st.Pos, strconv.Itoa(len(st.Run))) {
				continue
			}
			off := CurlPipeShellAt(st.Run)
			if off < 0 {
				continue
			}
			pos := d.StepPos(s, i, off)
			p.Report(s, pos, "Stage '"+s.Name+"' pipes a download into a shell: the downloaded code runs unverified "+
				"inside the pod.", "curl|sh")
		}
	}
})
