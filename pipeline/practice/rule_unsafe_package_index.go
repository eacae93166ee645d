package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// UnsafePackageIndex reports package installs that mix indexes, trust
// hosts without TLS verification or use plain HTTP.
var UnsafePackageIndex = pipeline.Register(finding.Rule{
	ID:       "pipeline/unsafe-package-index",
	Title:    "Package install from an extra, untrusted or plain-HTTP index",
	Severity: finding.Medium,
	Doc: "A pip or uv command (or the PIP_/UV_ environment variables of its step or stage) uses " +
		"`--extra-index-url`, `--index-strategy unsafe-best-match`/`unsafe-first-match`, `--trusted-host`, " +
		"or an `http://` index or find-links URL. With an extra index, pip takes the highest version of a name " +
		"from any index, so anyone who registers the same name on PyPI with a higher version wins: dependency " +
		"confusion, as in the PyTorch-nightly `torchtriton` compromise of December 2022 that reached users " +
		"through `--extra-index-url`. `--trusted-host` turns off certificate checks for that host and " +
		"`http://` sends packages unauthenticated, so anyone on the path can replace them. KFP's generated " +
		"`pip install` bootstraps commonly carry `--trusted-host`.",
	Remediation: "Install private packages from a single index that proxies PyPI (`--index-url` only), or " +
		"with uv pin each package to its index (`[tool.uv.sources]`, default `first-index` strategy); use " +
		"HTTPS with verified certificates, and install with `--require-hashes` so a substituted artifact is " +
		"rejected whatever index serves it.",
}, func(p *pipeline.Pass) {
	type envKey struct {
		s    *pipeline.Stage
		name string
	}
	envSeen := map[envKey]bool{}
	visit(p.Graph, func(s *pipeline.Stage, st *pipeline.Step, c *shell.Cmd) {
		v, ok := view(c)
		if !ok {
			return
		}
		subc, args, _, ok := pipCall(v)
		if !ok {
			if v.name == "uv" {
				// uv sync / uv add / uv lock take the same index options.
				subc, i := sub(v.args)
				switch subc {
				case "sync", "add", "lock", "run", "tool":
					args = v.args[i+1:]
					ok = true
				}
			}
			if !ok {
				return
			}
		} else if subc != "install" && subc != "download" && subc != "wheel" && subc != "compile" && subc != "sync" {
			return
		}
		for i := 0; i < len(args); i++ {
			a := args[i]
			name, val, has := a.Val, "", false
			if k := strings.IndexByte(a.Val, '='); k > 0 && strings.HasPrefix(a.Val, "--") {
				name, val, has = a.Val[:k], a.Val[k+1:], true
			} else if i+1 < len(args) {
				val = args[i+1].Val
				has = true
			}
			pos := stepAt(st, a.Start)
			switch name {
			case "--extra-index-url":
				p.Report(s, pos, "Install adds an extra index ("+truncate(val, 200)+"): pip takes the highest version "+
					"of a name from any index, so a same-named package on PyPI can replace the private one (dependency confusion).",
					"extra-index-url="+truncate(val, 512))
			case "--index-strategy":
				if has && strings.HasPrefix(val, "unsafe-") {
					p.Report(s, pos, "Install uses `--index-strategy "+val+"`: uv then takes versions of one name "+
						"from several indexes, which re-opens dependency confusion.", "index-strategy="+val)
				}
			case "--trusted-host":
				p.Report(s, pos, "Install marks "+truncate(val, 200)+" as a trusted host: pip stops verifying its "+
					"TLS certificate, so anyone on the path can serve other packages.", "trusted-host="+truncate(val, 512))
			case "-i", "--index-url", "--index", "--default-index", "-f", "--find-links":
				if has && strings.HasPrefix(strings.ToLower(val), "http://") {
					p.Report(s, pos, "Install reads packages over plain HTTP ("+truncate(val, 200)+"): they can be "+
						"replaced in transit.", "http-index="+truncate(val, 512))
				}
			}
		}
		for _, e := range []struct{ name, what string }{
			{"PIP_EXTRA_INDEX_URL", "extra index"},
			{"UV_EXTRA_INDEX_URL", "extra index"},
			{"PIP_TRUSTED_HOST", "trusted host"},
			{"UV_INDEX_STRATEGY", "index strategy"},
		} {
			val, ok := envValue(s, st, c, e.name)
			if !ok || val == "" || e.name == "UV_INDEX_STRATEGY" && !strings.HasPrefix(val, "unsafe-") ||
				envSeen[envKey{s, e.name}] {
				continue
			}
			envSeen[envKey{s, e.name}] = true
			p.Report(s, stepAt(st, v.at.Start), "Install runs with "+e.name+"="+truncate(val, 200)+
				" ("+e.what+" set through the environment): the same dependency-confusion or TLS risk as the command-line option.",
				strings.ToLower(e.name)+"="+truncate(val, 512))
		}
	})
})
