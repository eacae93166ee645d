package argo

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
)

// ServiceAccountTokenInScript reports script steps that get the service
// account token mounted.
var ServiceAccountTokenInScript = pipeline.Register(finding.Rule{
	ID:       "pipeline/argo-service-account-token",
	Title:    "Service-account token mounted into a step that runs a script",
	Severity: finding.Medium,
	Doc: "A script template (or a container that runs `sh -c`) gets the Kubernetes service-account token " +
		"mounted, because neither the template nor the workflow sets `automountServiceAccountToken: false`. " +
		"Anything the script runs — a downloaded tool, a dependency, a model that executes code on load — can " +
		"read the token from /var/run/secrets/kubernetes.io/serviceaccount and call the Kubernetes API with the " +
		"workflow's permissions (often enough to create pods, read secrets or patch workflows). Reported Medium " +
		"when a named service account is used (`serviceAccountName`), Low for the namespace's default account. " +
		"Argo's executor needs API access for some features; with the emissary executor, " +
		"`automountServiceAccountToken: false` plus `executor.serviceAccountName` keeps it away from user code.",
	Remediation: "Set `automountServiceAccountToken: false` on the workflow (or template) and give the executor " +
		"its own account with `executor: {serviceAccountName: ...}`; grant the workflow's account only what it needs.",
}, func(p *pipeline.Pass) {
	d, x := ExtraOf(p.Graph)
	if x == nil {
		return
	}
	seen := k8s.Seen{}
	for _, s := range p.Graph.Stages {
		pod := d.Pod(s)
		t := x.Templates[s]
		if t == nil || pod.AutomountToken == pipeline.False || !runsScript(s, pod) {
			continue
		}
		if !seen.First(pipeline.Pos{}, t.Name) { // once per template
			continue
		}
		sa := "the namespace's default service account"
		pos := t.Pos
		if pod.AutomountPos.Line > 0 {
			pos = pod.AutomountPos
		} else if pod.ServiceAccount != "" {
			pos = pod.ServiceAccountPos
		}
		if pod.ServiceAccount != "" {
			sa = "service account '" + pod.ServiceAccount + "'"
		}
		f := p.Report(s, pos, "Stage '"+s.Name+"' (template '"+t.Name+"') runs a script with the token of "+sa+
			" mounted; the script can use the Kubernetes API with its permissions.", "template="+t.Name+" sa="+pod.ServiceAccount)
		if pod.ServiceAccount == "" {
			f.Severity = finding.Low
		}
	}
})

// runsScript reports whether a stage runs inline script text.
func runsScript(s *pipeline.Stage, pod *k8s.Pod) bool {
	if pod.Script {
		return true
	}
	for _, st := range s.Steps {
		if st.Shell == "sh" {
			return true
		}
	}
	return false
}
