package pipeline

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
)

// SigningStageExposed reports signing stages that run untrusted code or
// reach the network.
var SigningStageExposed = register(finding.Rule{
	ID:       "pipeline/signing-stage-exposed",
	Title:    "Signing stage runs untrusted code or has network access",
	Severity: finding.High,
	Doc: "A stage that signs artifacts (role sign, declared or inferred from its name or a signing-key secret) " +
		"also runs untrusted code or can reach the network. Whoever controls code in the signing stage can " +
		"sign anything with the pipeline's identity, and network access lets a compromised step send the key " +
		"out. The seed checklist requires signing keys in a dedicated stage that does not process untrusted " +
		"inputs. Keyless signing needs to reach its transparency log and CA: list those hosts in the rule's " +
		"`allowed_hosts` option and an allow-list limited to them is not reported.",
	Remediation: "Move signing into its own stage on a dedicated runner or VM that runs only the signing tool, " +
		"with no network (or egress limited to the signing service) and no untrusted inputs other than the " +
		"verified artifact digests.",
	Options: map[string]string{
		"allowed_hosts": "hosts a signing stage may reach (e.g. the transparency log); an egress allow-list within them is not reported",
	},
}, func(p *Pass) {
	allowed := map[string]bool{}
	for _, h := range p.mustStringList("allowed_hosts") {
		allowed[strings.ToLower(h)] = true
	}
	for _, s := range p.Graph.Stages {
		if !s.HasRole(RoleSign) {
			continue
		}
		if s.RunsUntrustedCode.MaybeTrue() {
			p.Report(s, s.FieldPos("runs_untrusted_code", "name"),
				"Signing stage '"+s.Name+"' also runs untrusted code: that code can sign anything with the "+
					"pipeline's key."+assumed(s.RunsUntrustedCode, "whether it runs untrusted code"),
				"signing runs_untrusted_code="+s.RunsUntrustedCode.String())
		}
		if !s.Network.Access.MaybeTrue() {
			continue
		}
		if s.Network.Access == True && len(s.Network.Allow) > 0 && len(allowed) > 0 && within(s.Network.Allow, allowed) {
			continue
		}
		msg := "Signing stage '" + s.Name + "' has network access; a compromised step can send the signing key out."
		if len(s.Network.Allow) > 0 {
			msg += " Egress allow-list: " + nameList(s.Network.Allow) + "."
		}
		p.Report(s, s.FieldPos("has_network_access", "name"), msg+assumed(s.Network.Access, "network access"),
			"signing has_network_access="+s.Network.Access.String())
	}
})

func within(hosts []string, allowed map[string]bool) bool {
	for _, h := range hosts {
		if !allowed[strings.ToLower(h)] {
			return false
		}
	}
	return true
}
