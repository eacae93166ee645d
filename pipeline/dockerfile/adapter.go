package dockerfile

import (
	"path"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
)

// Format is the name graphs from this adapter carry.
const Format = "dockerfile"

// StageKind is the Stage.Kind of a build stage.
const StageKind = "build-stage"

// templateExts are extensions of files named like Dockerfiles that are not
// Dockerfiles themselves (templates, docs, backups).
var templateExts = map[string]bool{
	".md": true, ".txt": true, ".j2": true, ".jinja": true, ".jinja2": true, ".tmpl": true, ".tpl": true,
	".template": true, ".erb": true, ".in": true, ".orig": true, ".bak": true, ".swp": true, ".rej": true,
	".mustache": true, ".hbs": true, ".ejs": true, ".sh": true, ".py": true, ".yml": true, ".yaml": true,
	".json": true, ".lock": true, ".dockerignore": true,
}

// MatchPath reports whether rel names a Dockerfile: Dockerfile,
// Dockerfile.<suffix>, <name>.Dockerfile, <name>.dockerfile, Containerfile
// and Containerfile.<suffix> (case-insensitive), except template and other
// non-Dockerfile extensions such as Dockerfile.j2 or Dockerfile.md.
func MatchPath(rel string) bool {
	b := strings.ToLower(path.Base(rel))
	switch {
	case b == "dockerfile" || b == "containerfile":
		return true
	case strings.HasSuffix(b, ".dockerfile") && len(b) > len(".dockerfile"):
		return true
	case strings.HasPrefix(b, "dockerfile.") || strings.HasPrefix(b, "containerfile."):
		return !templateExts[path.Ext(b)]
	}
	return false
}

func init() {
	pipeline.RegisterAdapter(&pipeline.Adapter{
		Format:    Format,
		Title:     "Dockerfile",
		MatchPath: MatchPath,
		Parse: func(src *pipeline.Source) ([]*pipeline.Graph, error) {
			g, err := ToGraph(src.File, src.Src)
			if err != nil {
				return nil, err
			}
			return []*pipeline.Graph{g}, nil
		},
	})
}

// ToGraph parses a Dockerfile into a stage graph: one stage per build
// stage (Kind "build-stage"), its RUN instructions as steps, its external
// FROM image as an Image of kind "base", edges from a stage to the stages
// built FROM it or copying from it (COPY --from). Build stages run the
// repository's own instructions, so RunsUntrustedCode is False (whether
// untrusted people can start the build is a property of the CI job that
// runs it); Isolation is container; Network is True unless every RUN has
// --network=none; GPU is False; build secrets (RUN --mount=type=secret) are
// the step's Secrets, not the stage's.
func ToGraph(file string, data []byte) (*pipeline.Graph, error) {
	f, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	src := strings.TrimPrefix(string(data), "\uFEFF")
	g := &pipeline.Graph{File: file, Format: Format, Doc: f, Comments: f.Comments}
	byAlias := map[string]*pipeline.Stage{}
	byIndex := map[string]*pipeline.Stage{}
	for _, bs := range f.Stages {
		s := &pipeline.Stage{
			Name:              bs.Name,
			Pos:               bs.From.Pos,
			Kind:              StageKind,
			RunsUntrustedCode: pipeline.False,
			GPU:               pipeline.False,
			Isolation:         pipeline.IsolationContainer,
			Fields:            map[string]pipeline.Pos{"from": bs.ImagePos},
		}
		s.Outputs = []pipeline.Output{{Artifact: "dockerfile-stage:" + bs.Name, Pos: bs.From.Pos}}
		if bs.Image != "" {
			s.Images = []pipeline.Image{{Ref: bs.Image, Pos: bs.ImagePos, Kind: "base"}}
		}
		if bs.Parent != nil {
			s.Inputs = append(s.Inputs, pipeline.Input{Artifact: "dockerfile-stage:" + bs.Parent.Name, Pos: bs.ImagePos})
		}
		network := false
		for _, in := range bs.Instructions {
			switch in.Cmd {
			case "RUN":
				st := runStep(src, f, in)
				if v, _ := in.FlagValue("network"); v != "none" {
					network = true
				}
				s.Steps = append(s.Steps, st)
			case "ENV":
				for _, kv := range envPairs(in.Args) {
					s.Env = append(s.Env, pipeline.EnvVar{Name: kv.name, Value: kv.value, Pos: in.ArgsPos})
				}
			case "COPY", "ADD":
				if from, ok := in.FlagValue("from"); ok {
					from = strings.ToLower(from)
					if p := byAlias[from]; p != nil {
						s.Inputs = append(s.Inputs, pipeline.Input{Artifact: "dockerfile-stage:" + p.Name, Pos: in.Pos})
					} else if p := byIndex[from]; p != nil {
						s.Inputs = append(s.Inputs, pipeline.Input{Artifact: "dockerfile-stage:" + p.Name, Pos: in.Pos})
					}
				}
			}
		}
		s.Network.Access = pipeline.TriOf(network) // no RUN: nothing runs
		pipeline.InferRoles(s)
		g.Stages = append(g.Stages, s)
		if bs.Alias != "" {
			byAlias[bs.Alias] = s
		}
		byIndex[itoa(bs.Index)] = s
	}
	return g, nil
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// runStep turns a RUN instruction into a step whose Run maps back to the
// source: the shell-form text as written (comment lines inside the
// continuation blanked, so they neither end the command nor move offsets),
// the body of `RUN <<EOF`, or the exec-form arguments quoted for a shell.
func runStep(src string, f *File, in *Instruction) pipeline.Step {
	st := pipeline.Step{Name: "RUN", Pos: in.Pos, RunPos: in.ArgsPos}
	for _, fl := range in.Flags {
		if fl.Name == "mount" && mountType(fl.Value) == "secret" {
			st.Secrets = append(st.Secrets, pipeline.Secret{Name: mountID(fl.Value), Pos: fl.Pos})
		}
	}
	switch {
	case in.JSON != nil:
		q := make([]string, len(in.JSON))
		for i, a := range in.JSON {
			q[i] = shellQuote(a)
		}
		st.Run = strings.Join(q, " ")
		if len(in.JSON) >= 2 && (in.JSON[1] == "-c" || in.JSON[1] == "-Command") && isShell(in.JSON[0]) {
			st.Run = strings.Join(in.JSON[2:], " ")
		}
	case f.Escape != '\\':
		st.Run = in.Args
	case len(in.Heredocs) > 0 && strings.HasPrefix(strings.TrimSpace(in.Args), "<<"):
		h := in.Heredocs[0]
		st.Run, st.RunPos, st.RunLiteral = h.Body, h.BodyPos, true
		if h.BodyPos.Line == 0 {
			st.RunPos = in.ArgsPos
		}
	default:
		end := in.rawEnd
		if n := len(in.Heredocs); n > 0 {
			end = in.Heredocs[n-1].endOff
		}
		if in.rawStart > end || end > len(src) {
			st.Run = in.Args
			break
		}
		raw := []byte(src[in.rawStart:end])
		for _, m := range in.masked {
			blankLine(raw, m-in.rawStart)
		}
		moveTrailingEscapes(raw[:min(len(raw), in.rawEnd-in.rawStart)])
		st.Run, st.RunLiteral = string(raw), true
	}
	return st
}

// blankLine replaces the comment line starting at off with blanks ending
// in a backslash, so the shell tokenizer sees a continuation.
func blankLine(raw []byte, off int) {
	if off < 0 || off >= len(raw) {
		return
	}
	end := off
	for end < len(raw) && raw[end] != '\n' && raw[end] != '\r' {
		end++
	}
	for i := off; i < end; i++ {
		raw[i] = ' '
	}
	if end > off {
		raw[end-1] = '\\'
	}
}

// moveTrailingEscapes rewrites "\\   \n" (a continuation with blanks after
// the backslash, which Docker accepts) as "    \\\n", so a shell reads it as
// a continuation too; lengths and line breaks are unchanged.
func moveTrailingEscapes(raw []byte) {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		j := i + 1
		for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t') {
			j++
		}
		if j > i+1 && (j < len(raw) && (raw[j] == '\n' || raw[j] == '\r') || j == len(raw)) {
			raw[i] = ' '
			raw[j-1] = '\\'
		}
		i = j - 1
	}
}

func isShell(s string) bool {
	switch path.Base(s) {
	case "sh", "bash", "dash", "ash", "zsh", "powershell", "pwsh", "cmd":
		return true
	}
	return false
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`|&;<>()*?[]{}#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// mountType returns the type= of a --mount value ("bind" by default).
func mountType(v string) string {
	for _, kv := range strings.Split(v, ",") {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.TrimSpace(k) == "type" {
			return strings.TrimSpace(val)
		}
	}
	return "bind"
}

// mountID returns the id= (or target=) of a secret mount.
func mountID(v string) string {
	id, target := "", ""
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch strings.TrimSpace(k) {
		case "id":
			id = val
		case "target", "dst", "destination":
			target = val
		case "env":
			if id == "" {
				id = val
			}
		}
	}
	if id == "" {
		id = path.Base(target)
	}
	return id
}

type kv struct{ name, value string }

// envPairs parses ENV arguments: "K=V K2=V2" or the legacy "K V".
func envPairs(args string) []kv {
	ws := splitWords(args)
	if len(ws) == 0 {
		return nil
	}
	if !strings.Contains(ws[0], "=") {
		return []kv{{ws[0], unquote(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(args), ws[0])))}}
	}
	var out []kv
	for _, w := range ws {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			continue
		}
		out = append(out, kv{k, unquote(v)})
	}
	return out
}
