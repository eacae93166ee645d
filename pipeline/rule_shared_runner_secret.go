package pipeline

import (
	"fmt"

	"github.com/mlgate/mlgate/finding"
)

// SharedRunnerSecretExposure reports secrets on a shared runner that a later
// untrusted stage on the same kind of runner could read.
var SharedRunnerSecretExposure = register(finding.Rule{
	ID:       "pipeline/shared-runner-secret-exposure",
	Title:    "Secrets on a shared runner that untrusted stages also use",
	Severity: finding.High,
	Doc: "A stage holding secrets runs on a shared runner (runner: shared), and other stages that run " +
		"untrusted code also run on a shared runner, or do not declare their runner. Shared runners keep state " +
		"between jobs — workspace files, caches, credential helpers, Docker layers, GPU memory — so an untrusted " +
		"stage that runs later can read what the privileged one left behind, and one that runs earlier can " +
		"leave a persistent implant (a poisoned cache or tool) that steals the secrets when the privileged stage " +
		"runs. This is the cross-tenant pattern of the Hugging Face CI/CD findings. Ephemeral or dedicated " +
		"runners do not carry state across stages; an undeclared runner is assumed shared, and the message says so.",
	Remediation: "Run stages that hold secrets on dedicated or ephemeral runners, or run the untrusted stages " +
		"on ephemeral runners that are destroyed after each job; declare `runner:` on every stage.",
}, func(p *Pass) {
	g := p.Graph
	var untrusted []*Stage
	undeclared := 0
	for _, s := range g.Stages {
		if s.RunsUntrustedCode.MaybeTrue() && (s.Runner == RunnerShared || s.Runner == RunnerUnknown) {
			untrusted = append(untrusted, s)
			if s.Runner == RunnerUnknown {
				undeclared++
			}
		}
	}
	const shown = 5
	for _, s := range g.Stages {
		if s.Runner != RunnerShared || len(s.Secrets) == 0 {
			continue
		}
		// s itself may be among the untrusted stages (it is on a shared
		// runner, so it never counts as undeclared).
		others := len(untrusted)
		if s.RunsUntrustedCode.MaybeTrue() {
			others--
		}
		if others == 0 {
			continue
		}
		var names []string
		for _, u := range untrusted {
			if len(names) == shown {
				break
			}
			if u != s {
				names = append(names, u.Name)
			}
		}
		list := quoteList(names)
		if others > len(names) {
			list += fmt.Sprintf(" and %d more", others-len(names))
		}
		msg := "Stage '" + s.Name + "' holds secrets (" + nameList(s.SecretNames()) + ") on a shared runner; " +
			"untrusted stage(s) " + list + " also use a shared runner and can read what it leaves behind or " +
			"plant code that runs next to its secrets."
		if undeclared > 0 {
			msg += fmt.Sprintf(" (%d of them do not declare a runner; assumed shared)", undeclared)
		}
		p.Report(s, s.FieldPos("runner", "secrets_available"), msg, "shared-runner secrets="+evidenceList(s.SecretNames()))
	}
})
