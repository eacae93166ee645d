package pipeline

import (
	"fmt"

	"github.com/mlgate/mlgate/finding"
)

// SharedRunnerSecretExposure reports secrets on a shared runner that a later
// untrusted stage on the same kind of runner could read.
var SharedRunnerSecretExposure = register(finding.Rule{
	ID:       "pipeline/shared-runner-secret-exposure",
	Title:    "Secrets on a shared runner reachable by a later untrusted stage",
	Severity: finding.High,
	Doc: "A stage holding secrets runs on a shared runner (runner: shared), and another stage that runs " +
		"untrusted code also runs on a shared runner and does not run strictly before it. Shared runners keep " +
		"state between jobs — workspace files, caches, credential helpers, Docker layers, GPU memory — so the " +
		"untrusted stage can read what the privileged one left behind. This is the cross-tenant pattern of " +
		"the Hugging Face CI/CD findings. Ephemeral or dedicated runners do not carry state across stages.",
	Remediation: "Run stages that hold secrets on dedicated or ephemeral runners, or run the untrusted stages " +
		"on ephemeral runners that are destroyed after each job.",
}, func(p *Pass) {
	g := p.Graph
	var untrusted []*Stage
	for _, s := range g.Stages {
		if s.Runner == RunnerShared && s.RunsUntrustedCode.MaybeTrue() {
			untrusted = append(untrusted, s)
		}
	}
	if len(untrusted) == 0 {
		return
	}
	const shown = 5
	for _, s := range g.Stages {
		if s.Runner != RunnerShared || len(s.Secrets) == 0 {
			continue
		}
		// Untrusted shared-runner stages that are not strictly before s:
		// all of them minus s itself minus its untrusted shared ancestors.
		before := g.Ancestors(s)
		n := len(untrusted)
		if s.Runner == RunnerShared && s.RunsUntrustedCode.MaybeTrue() {
			n--
		}
		isBefore := map[*Stage]bool{}
		for _, a := range before {
			if a.Runner == RunnerShared && a.RunsUntrustedCode.MaybeTrue() {
				n--
				isBefore[a] = true
			}
		}
		if n <= 0 {
			continue
		}
		var names []string
		for _, u := range untrusted {
			if len(names) == shown {
				break
			}
			if u != s && !isBefore[u] {
				names = append(names, u.Name)
			}
		}
		list := quoteList(names)
		if n > len(names) {
			list += fmt.Sprintf(" and %d more", n-len(names))
		}
		p.Report(s, s.FieldPos("runner", "secrets_available"),
			"Stage '"+s.Name+"' holds secrets ("+nameList(s.SecretNames())+") on a shared runner; "+
				"untrusted stage(s) "+list+" also run on a shared runner afterwards or alongside "+
				"and can read what it leaves behind.",
			"shared-runner secrets="+evidenceList(s.SecretNames()))
	}
})
