package kfp

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// InsecurePackageIndex reports KFP bootstraps that install packages from a
// plain-HTTP index or with TLS verification disabled (--trusted-host).
var InsecurePackageIndex = pipeline.Register(finding.Rule{
	ID:       "pipeline/kfp-insecure-package-index",
	Title:    "KFP component bootstrap installs packages without TLS verification",
	Severity: finding.High,
	Doc: "The `pip install` bootstrap the KFP SDK generates for a lightweight Python component passes " +
		"`--trusted-host` with a host name, or an `http://` index URL. pip then accepts that index without a valid " +
		"certificate, or over plain text, so anyone on the " +
		"network path between the cluster and the index (a compromised proxy, DNS, or a neighbouring pod with " +
		"hostNetwork) can serve different packages, and their install-time code runs in the task's pod with its " +
		"secrets and volumes. Reported High for plain-HTTP indexes, Medium for `--trusted-host` on an HTTPS index. " +
		"The SDK itself writes `--trusted-host <index URL>` for every `pip_index_urls` entry; pip parses such a URL " +
		"as the host name `https` (or `http`), so that form trusts nothing and is not reported.",
	Remediation: "Serve the index over HTTPS with a certificate the image trusts (add the CA to the image rather " +
		"than disabling verification), and remove `--trusted-host`; with the SDK, build the image with the " +
		"packages preinstalled instead of `packages_to_install`/`pip_index_urls`.",
}, func(p *pipeline.Pass) {
	eachPipArg(p, func(s *pipeline.Stage, pi *PipInstall, at func(string, int) (pipeline.Pos, bool)) {
		for _, u := range append(append([]Arg{}, pi.IndexURLs...), pi.ExtraIndexURLs...) {
			if !strings.HasPrefix(strings.ToLower(u.Value), "http://") {
				continue
			}
			if pos, first := at("index", u.Off); first {
				p.Report(s, pos, "Task '"+s.Name+"' installs Python packages from '"+u.Value+"' over plain HTTP; "+
					"the packages can be replaced in transit and run in the task's pod.", "index="+u.Value)
			}
		}
		for _, h := range pi.TrustedHosts {
			if !BareHost(h.Value) {
				continue // pip reads "https://host/simple" as the host "https": no effect
			}
			pos, first := at("host", h.Off)
			if !first {
				continue
			}
			f := p.Report(s, pos, "Task '"+s.Name+"' installs Python packages with `--trusted-host "+h.Value+"`, "+
				"which turns off certificate verification for that index.", "trusted-host="+h.Value)
			if !strings.HasPrefix(strings.ToLower(h.Value), "http://") {
				f.Severity = finding.Medium
			}
		}
	})
})

// BareHost reports whether a --trusted-host value is a host[:port] that
// pip will trust, rather than a URL (which pip misparses into the host
// "https" or "http" and so trusts nothing).
func BareHost(v string) bool {
	return v != "" && !strings.Contains(v, "://") && !strings.Contains(v, "/")
}
