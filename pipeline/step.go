package pipeline

import "strings"

// Step is one command or action inside a stage, in source order. Adapters
// for CI formats fill it; rules that read scripts (dependency installs,
// unsafe model loading) look only at steps, so they work on every format.
type Step struct {
	// Name is the step's name or id when the source gives one.
	Name string
	Pos  Pos
	// Run is shell (or other interpreter) text the step executes, exactly
	// as the source holds it after YAML unquoting.
	Run string
	// RunPos is where the first character of Run is in the source.
	RunPos Pos
	// RunLiteral is true when Run's line breaks are the source's own (a
	// literal block scalar, or a single line), so offsets map to exact
	// lines and columns; see PosAt.
	RunLiteral bool
	// Shell is the interpreter when the source names one ("bash", "python",
	// "pwsh"), empty for the format's default shell.
	Shell string
	// Uses is a reference to reusable code the step runs: a GitHub action
	// ("owner/repo/path@ref", "./local", "docker://image"), a GitLab
	// component or a KFP component. Empty for plain scripts.
	Uses    string
	UsesPos Pos
	// With holds the inputs given to Uses, keyed by input name.
	With map[string]StepInput
	// Env holds environment variables set for this step only.
	Env []EnvVar
	// Secrets are credentials this step alone can read.
	Secrets []Secret
	// Condition is the step's guard expression (GitHub `if:`), if any.
	Condition string
}

// StepInput is one value given to a reusable action or component.
type StepInput struct {
	Value string
	Pos   Pos
}

// EnvVar is an environment variable a stage or step sets.
type EnvVar struct {
	Name  string
	Value string
	Pos   Pos
}

// PosAt returns the source position of byte offset off in Run. When the
// text is not literal (folded scalars, plain scalars over several lines,
// quoted scalars with escapes) it returns where the text starts, which is
// the best that can be said.
func (s *Step) PosAt(off int) Pos {
	if s.RunPos.Line == 0 {
		return s.Pos
	}
	if off < 0 || off > len(s.Run) {
		return s.RunPos
	}
	if !s.RunLiteral {
		return s.RunPos
	}
	before := s.Run[:off]
	nl := strings.Count(before, "\n")
	if nl == 0 {
		return Pos{Line: s.RunPos.Line, Column: s.RunPos.Column + runeCount(before)}
	}
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return Pos{Line: s.RunPos.Line + nl, Column: s.RunPos.Column + runeCount(before[lineStart:])}
}

func runeCount(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}

// Image is a container image a stage or one of its services runs.
type Image struct {
	Ref string
	Pos Pos
	// Kind says what runs the image: "job" (the stage's own container),
	// "service", "step" (a docker:// action or an Argo/KFP container) or
	// "build" (built from a Dockerfile; Ref is then the Dockerfile path).
	Kind string
}

// Volume is storage mounted into a stage that outlives it or is shared:
// host paths, persistent volume claims, CI caches, shared workspaces.
type Volume struct {
	// Name identifies the storage across stages: two stages mounting the
	// same Name share it ("pvc:models", "hostPath:/data/hf-cache",
	// "cache:pip-${{ hashFiles(...) }}").
	Name string
	// Kind is "hostPath", "pvc", "cache", "emptyDir", "workspace", ...
	Kind string
	// Path is where the stage sees it, when known.
	Path     string
	ReadOnly Tri
	Pos      Pos
}
