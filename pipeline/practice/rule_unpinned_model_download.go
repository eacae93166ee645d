package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// UnpinnedModelDownload reports hub model downloads without a pinned
// commit.
var UnpinnedModelDownload = pipeline.Register(finding.Rule{
	ID:       "pipeline/unpinned-model-download",
	Title:    "Hub model downloaded without a pinned revision",
	Severity: finding.Medium,
	Doc: "A step downloads a model from the Hugging Face Hub without pinning it to a full 40-hex commit: " +
		"`huggingface-cli download`/`hf download` without `--revision <sha>`, `from_pretrained(\"org/name\")`, " +
		"`snapshot_download(` or `hf_hub_download(` without `revision=\"<sha>\"` (a branch or tag such as " +
		"\"main\" or \"v1.0\" can be moved), or `git clone` of a huggingface.co repository with no `git " +
		"checkout <sha>` after it in the step. Whoever controls the repository (its owner, or an attacker with " +
		"a stolen token) can change what the pipeline trains on, evaluates or ships. In a stage that signs, " +
		"registers or deploys the finding is raised to high: a release must be reproducible from exact inputs. " +
		"Model names held in variables and local paths are not reported: the file does not show what they are.",
	Remediation: "Pin every download to a commit hash: `hf download org/name --revision <40-hex sha>`, " +
		"`from_pretrained(\"org/name\", revision=\"<sha>\")`; better, download once in a dedicated stage, scan " +
		"it with `mlgate scan`, and pass it on as an artifact.",
}, func(p *pipeline.Pass) {
	pp := parse(p.Graph)
	for _, s := range p.Graph.Stages {
		for i := range s.Steps {
			st := &s.Steps[i]
			cmds := pp.cmdsOf(st)
			for _, d := range cliDownloads(cmds) {
				reportDownload(p, s, st, d)
			}
			for _, d := range pythonDownloads(st.Run) {
				reportDownload(p, s, st, d)
			}
		}
	}
})

type download struct {
	off      int
	repo     string
	how      string
	revision string // the mutable revision given, if any
}

func reportDownload(p *pipeline.Pass, s *pipeline.Stage, st *pipeline.Step, d download) {
	why := "with no revision"
	if d.revision != "" {
		why = "at mutable revision '" + truncate(d.revision, 80) + "'"
	}
	msg := "Step downloads model '" + truncate(d.repo, 200) + "' (" + d.how + ") " + why +
		": the repository can change under the pipeline."
	if releaseStage(s) {
		msg += " Stage '" + s.Name + "' signs, registers or deploys, so the release is built from an unpinned input."
	}
	f := p.Report(s, stepAt(st, d.off), msg, "model="+truncate(d.repo, 512))
	if releaseStage(s) {
		f.Severity = finding.High
	}
}

// hubRepo reports whether a literal looks like a hub repository id rather
// than a local path.
func hubRepo(s string) bool {
	if s == "" || len(s) > 200 || strings.ContainsAny(s[:1], "./~$\\") || strings.Contains(s, "${") ||
		strings.Contains(s, "{{") || strings.Contains(s, "://") || strings.Count(s, "/") > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isWordByte(c) || c == '-' || c == '.' || c == '/') {
			return false
		}
	}
	return !modelFileExts[strings.ToLower(s[max(0, strings.LastIndexByte(s, '.')):])]
}

func cliDownloads(cmds []shell.Cmd) []download {
	var out []download
	for i := range cmds {
		v, ok := view(&cmds[i])
		if !ok {
			continue
		}
		switch v.name {
		case "huggingface-cli", "hf":
			subc, k := sub(v.args)
			if subc != "download" {
				continue
			}
			args := v.args[k+1:]
			repo, _ := sub(args)
			if !hubRepo(repo) {
				continue
			}
			rev, _, has := flag(args, "--revision")
			if has && (isCommitSHA(rev) || strings.HasPrefix(rev, "$")) {
				continue
			}
			if rt, _, ok := flag(args, "--repo-type"); ok && rt != "model" {
				continue // datasets and spaces are not models
			}
			out = append(out, download{off: v.at.Start, repo: repo, how: v.name + " download", revision: rev})
		case "git":
			subc, k := sub(v.args)
			args := v.args[k+1:]
			if subc == "lfs" {
				subc, k = sub(args)
				args = args[k+1:]
			}
			if subc != "clone" {
				continue
			}
			url := ""
			for _, a := range args {
				l := strings.ToLower(a.Val)
				if strings.Contains(l, "huggingface.co/") || strings.Contains(l, "hf.co/") {
					url = a.Val
					break
				}
			}
			if url == "" || strings.Contains(url, "/datasets/") || strings.Contains(url, "/spaces/") {
				continue
			}
			pinned := false
			for j := i + 1; j < len(cmds); j++ {
				w, ok := view(&cmds[j])
				if !ok || w.name != "git" {
					continue
				}
				for _, a := range w.args {
					if isCommitSHA(a.Val) {
						pinned = true
					}
				}
			}
			if !pinned {
				out = append(out, download{off: v.at.Start, repo: url, how: "git clone"})
			}
		}
	}
	return out
}

var pythonDownloaders = []string{".from_pretrained(", "snapshot_download(", "hf_hub_download("}

func pythonDownloads(text string) []download {
	var out []download
	for _, fn := range pythonDownloaders {
		for i, n := 0, 0; i < len(text) && len(out) < 64 && n < maxMatches; n++ {
			k := strings.Index(text[i:], fn)
			if k < 0 {
				break
			}
			at := i + k
			i = at + len(fn)
			if fn[0] != '.' && at > 0 && isWordByte(text[at-1]) {
				continue
			}
			if isComment(text, at) {
				continue
			}
			argText, _ := callArgs(text, i-1)
			args := splitArgs(argText)
			expr, ok := positional(args, 0)
			if !ok {
				expr, ok = kwarg(args, "repo_id")
			}
			if !ok {
				expr, ok = kwarg(args, "pretrained_model_name_or_path")
			}
			repo, lit := literal(expr)
			if !ok || !lit || !hubRepo(repo) {
				continue
			}
			if rt, ok := kwarg(args, "repo_type"); ok {
				if v, lit := literal(rt); lit && v != "model" {
					continue
				}
			}
			d := download{off: at, repo: repo, how: strings.TrimPrefix(strings.TrimSuffix(fn, "("), ".")}
			if fn[0] == '.' {
				d.off = at + 1
			}
			if rev, ok := kwarg(args, "revision"); ok {
				v, lit := literal(rev)
				if !lit || isCommitSHA(v) {
					continue
				}
				d.revision = v
			}
			out = append(out, d)
		}
	}
	return out
}
