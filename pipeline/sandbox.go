package pipeline

import (
	"strings"

	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// firstPartyActions move files in and out of a job and run nothing of the
// project's: GitHub's checkout and artifact actions.
var firstPartyActions = []string{"actions/checkout", "actions/upload-artifact", "actions/download-artifact"}

// inertCommands only move, hash or print files; none runs project code or
// opens a connection.
var inertCommands = map[string]bool{
	"sha256sum": true, "sha512sum": true, "shasum": true, "b2sum": true, "b3sum": true,
	"chmod": true, "mkdir": true, "ls": true, "echo": true, "printf": true, "cd": true,
	"true": true, "test": true, "[": true, "cp": true, "mv": true, "rm": true, "cat": true,
	"touch": true, "ln": true, "set": true,
}

// offlineStep reports whether a step keeps the network from everything it
// runs: a first-party file-moving action, or a script whose every command
// is inert, `python3 -m venv DIR`, an mlgate analysis command (they open
// no connection unless a flag asks), or `mlgate run --network none -- ...`
// (mlgate's sandbox: the command gets only a loopback interface).
func offlineStep(st *Step) bool {
	if st.Uses != "" {
		ref := strings.ToLower(strings.SplitN(st.Uses, "@", 2)[0])
		for _, a := range firstPartyActions {
			if ref == a {
				return true
			}
		}
		return false
	}
	if st.Run == "" || !posixShell(st.Shell) {
		return false
	}
	// bash opens a connection for a redirection to /dev/tcp or /dev/udp,
	// whatever the command.
	if strings.Contains(st.Run, "/dev/tcp/") || strings.Contains(st.Run, "/dev/udp/") {
		return false
	}
	cmds := shell.Parse(st.Run)
	if len(cmds) == 0 {
		return false
	}
	for i := range cmds {
		c := &cmds[i]
		if c.Depth > 0 {
			return false // substitutions and sh -c scripts: not inspected here
		}
		name, at := c.Name()
		if at < 0 {
			if len(c.Assigns) > 0 && len(c.Words) == 0 {
				continue // a plain assignment
			}
			return false
		}
		base := shell.Base(name)
		args := c.Words[at+1:]
		switch {
		case inertCommands[base]:
		case (base == "python3" || base == "python") && len(args) >= 3 && args[0].Val == "-m" && args[1].Val == "venv":
		case base == "mlgate" && len(args) > 0 && args[0].Val != "run":
			if hasWord(args, "keyless") {
				return false
			}
		case base == "mlgate" && len(args) > 0 && args[0].Val == "run":
			if !mlgateRunOffline(args[1:]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func hasWord(ws []shell.Word, v string) bool {
	for _, w := range ws {
		if w.Val == v {
			return true
		}
	}
	return false
}

// mlgateRunOffline reports whether `mlgate run` flags, up to `--`, say
// `--network none`.
func mlgateRunOffline(args []shell.Word) bool {
	for i, w := range args {
		switch {
		case w.Val == "--":
			return false
		case w.Val == "--network=none":
			return true
		case w.Val == "--network" && i+1 < len(args):
			return args[i+1].Val == "none"
		case strings.HasPrefix(w.Val, "--network"):
			return false
		}
	}
	return false
}

// applySandboxes marks a stage as having no network when every one of its
// steps keeps the network from what it runs (offlineStep): work wrapped in
// `mlgate run --network none` between checkout and artifact transfers. The
// job's machine still has a network, but nothing the project supplies can
// use it, which is what the network rules are about. Stages without steps
// (the stage spec) are left alone.
func applySandboxes(s *Stage) {
	if len(s.Steps) == 0 || s.Network.Access == False {
		return
	}
	for i := range s.Steps {
		if !offlineStep(&s.Steps[i]) {
			return
		}
	}
	s.Network = Network{Access: False}
	if s.Fields == nil {
		s.Fields = map[string]Pos{}
	}
	s.Fields["network"] = s.Steps[0].Pos
}

// posixShell reports whether a step's shell is the default or a POSIX-like
// shell ("bash", "sh -e {0}", "/bin/bash --noprofile").
func posixShell(sh string) bool {
	f := strings.Fields(sh)
	if len(f) == 0 {
		return true
	}
	switch shell.Base(f[0]) {
	case "sh", "bash", "dash", "zsh", "ash":
		return true
	}
	return false
}
