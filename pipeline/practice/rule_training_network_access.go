package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// TrainingNetworkAccess reports training and data-validation stages that
// can reach the network.
var TrainingNetworkAccess = pipeline.Register(finding.Rule{
	ID:       "pipeline/training-network-access",
	Title:    "Training or data validation stage has network access",
	Severity: finding.Medium,
	Doc: "A stage that trains a model or validates training data (role train or validate, inferred from its " +
		"name or from what its steps run, e.g. `python train.py`, `torchrun`, `accelerate launch`, " +
		"`validate_data.py`, great_expectations) can reach the network, or its network access could not be " +
		"determined from the file (then the message says it was assumed). These stages deserialise datasets and " +
		"checkpoints and run third-party training code: with network access, a poisoned input or dependency " +
		"can download more code or send data and credentials out. The seed's hardened workflow runs data " +
		"validation and training with `--network=none`, with everything they need fetched by an earlier, " +
		"secret-free stage. A stage whose training and validation commands all run inside a sandbox that " +
		"denies network (`mlgate run --network none -- ...`, `docker run --network none ...`, `unshare -n`, " +
		"`firejail --net=none`, `bwrap --unshare-net`) is not reported, even if the job itself has network. " +
		"A stage that runs or may run untrusted code is reported by `pipeline/network-access-untrusted` " +
		"instead, so one stage never gets both findings.",
	Remediation: "Fetch datasets, base models and dependencies in a separate stage, hand them over as " +
		"artifacts, and run validation and training without network (a container with `--network none`, a " +
		"Kubernetes NetworkPolicy that denies egress, or `mlgate run --network none`).",
}, func(p *pipeline.Pass) {
	for _, s := range p.Graph.Stages {
		if !s.HasRole(pipeline.RoleTrain) && !s.HasRole(pipeline.RoleValidate) {
			continue
		}
		// A stage that runs (or may run) untrusted code with network is
		// pipeline/network-access-untrusted's finding already.
		if !s.Network.Access.MaybeTrue() || s.RunsUntrustedCode.MaybeTrue() || workRunsOffline(parse(p.Graph), s) {
			continue
		}
		what := "trains a model"
		if !s.HasRole(pipeline.RoleTrain) {
			what = "validates training data"
		}
		msg := "Stage '" + s.Name + "' " + what + " and has network access"
		if len(s.Network.Allow) > 0 {
			msg += " (egress allowed to " + list(s.Network.Allow) + ")"
		}
		msg += ": poisoned data or code can fetch more or send secrets and data out." +
			pipeline.Assumed(s.Network.Access, "network access")
		p.Report(s, s.FieldPos("has_network_access", "network", "container", "options", "runs-on", "name"), msg,
			"role="+string(roleOf(s))+" network="+s.Network.Access.String())
	}
})

func roleOf(s *pipeline.Stage) pipeline.Role {
	if s.HasRole(pipeline.RoleTrain) {
		return pipeline.RoleTrain
	}
	return pipeline.RoleValidate
}

// workRunsOffline reports whether a stage's training and validation run
// inside network-denying sandboxes: at least one such sandbox runs a train
// or validate command, and no train or validate command runs outside one.
func workRunsOffline(pp *parsed, s *pipeline.Stage) bool {
	wrapped, unwrapped := false, false
	for i := range s.Steps {
		st := &s.Steps[i]
		if pp.steps[st] != nil && pp.steps[st].python {
			if hasWork(pipeline.StepRoles(st)) {
				unwrapped = true
			}
			continue
		}
		cmds := pp.cmdsOf(st)
		var spans []span
		for j := range cmds {
			c := &cmds[j]
			if len(c.Words) == 0 {
				continue
			}
			start := c.Words[0].Start
			if inSpans(spans, start) {
				continue // inside a sandbox
			}
			v, ok := view(c)
			if !ok {
				continue
			}
			if isOfflineSandbox(v) {
				spans = append(spans, span{start, c.Words[len(c.Words)-1].End})
				if sandboxedWork(v.args) {
					wrapped = true
				}
				continue
			}
			if hasWork(pipeline.StepRoles(&pipeline.Step{Run: joinWords(c.Words), Name: ""})) {
				unwrapped = true
			}
		}
	}
	return wrapped && !unwrapped
}

type span struct{ start, end int }

func inSpans(spans []span, off int) bool {
	for _, s := range spans {
		if off >= s.start && off < s.end {
			return true
		}
	}
	return false
}

func hasWork(rs []pipeline.Role) bool {
	return hasRole(rs, pipeline.RoleTrain) || hasRole(rs, pipeline.RoleValidate)
}

// isOfflineSandbox reports whether a command runs another one without
// network: mlgate run --network none, docker/podman run --network none
// (or --net=none), unshare -n/--net, firejail --net=none, bwrap
// --unshare-net/--unshare-all.
func isOfflineSandbox(v cmdView) bool {
	subc, _ := sub(v.args)
	switch v.name {
	case "mlgate", "docker", "podman", "nerdctl":
		if subc != "run" {
			return false
		}
		val, _, ok := flag(v.args, "--network", "--net")
		return ok && val == "none"
	case "unshare":
		return hasWord(v.args, "-n", "--net") || hasShortFlag(v.args, 'n')
	case "firejail":
		val, _, ok := flag(v.args, "--net")
		return ok && val == "none"
	case "bwrap":
		return hasWord(v.args, "--unshare-net", "--unshare-all")
	}
	return false
}

// hasShortFlag reports a combined short option such as -rn containing c.
func hasShortFlag(args []shell.Word, c byte) bool {
	for _, a := range args {
		if len(a.Val) > 1 && a.Val[0] == '-' && a.Val[1] != '-' && strings.IndexByte(a.Val[1:], c) >= 0 {
			return true
		}
	}
	return false
}

// maxSandboxArgs bounds the suffixes sandboxedWork tries.
const maxSandboxArgs = 64

// sandboxedWork reports whether the command a sandbox runs trains or
// validates: some suffix of its arguments is a train or validate command.
func sandboxedWork(args []shell.Word) bool {
	for k := 0; k < len(args) && k < maxSandboxArgs; k++ {
		if strings.HasPrefix(args[k].Val, "-") {
			continue
		}
		if hasWork(pipeline.StepRoles(&pipeline.Step{Run: joinWords(args[k:])})) {
			return true
		}
	}
	return false
}

// joinWords rebuilds a command line from word values, quoting as needed.
func joinWords(ws []shell.Word) string {
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			b.WriteByte(' ')
		}
		if w.Val != "" && !strings.ContainsAny(w.Val, " \t\n'\"\\$`|&;<>()#*?") {
			b.WriteString(w.Val)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(w.Val, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}
