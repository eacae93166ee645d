package practice

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// UnpinnedDependencyInstall reports package installs that do not verify
// hashes.
var UnpinnedDependencyInstall = pipeline.Register(finding.Rule{
	ID:       "pipeline/unpinned-dependency-install",
	Title:    "Dependency install without hash pinning",
	Severity: finding.Medium,
	Doc: "A step installs packages without verifying their hashes: `pip install` / `uv pip install` of named " +
		"packages without `--require-hashes` (a version pin alone does not stop a replaced or typosquatted " +
		"artifact), `conda`/`mamba install` of named packages, `npm install` of named packages, `pipenv install " +
		"<pkg>`. The seed's hardened workflow installs every dependency with `pip install --require-hashes -r " +
		"requirements.txt`, so a compromised index or mirror cannot swap code into the stage that later " +
		"trains or signs. Installs from a requirements file, `uv sync` without `--locked`/`--frozen`, `conda " +
		"install --file`, `npm install` without arguments, `yarn install` without a frozen lockfile, " +
		"`uv pip sync <file>`, `conda env create -f <file>` are reported at low severity: the file they read " +
		"may pin hashes, which the pipeline file alone cannot show. Not reported: `pip install " +
		"--require-hashes` (or PIP_REQUIRE_HASHES set), `pip install --no-index` (local wheels only), `uv sync --locked`, " +
		"`poetry install`, `pipenv install --deploy`, `npm ci`, `pip download`, installs of only local paths " +
		"or wheels, and bootstrap upgrades of pip, setuptools, wheel or uv themselves.",
	Remediation: "Lock dependencies with hashes (`pip-compile --generate-hashes`, `uv pip compile " +
		"--generate-hashes`, `uv lock`, conda-lock) and install with `pip install --require-hashes -r " +
		"requirements.txt`, `uv sync --locked`, `npm ci` or `conda-lock install`.",
}, func(p *pipeline.Pass) {
	visit(p.Graph, func(s *pipeline.Stage, st *pipeline.Step, c *shell.Cmd) {
		if u, ok := checkInstall(s, st, c); ok {
			f := p.Report(s, stepAt(st, u.at.Start), u.msg, u.evidence)
			if u.low {
				f.Severity = finding.Low
			}
		}
	})
})

// unhashed is one install found by checkInstall.
type unhashed struct {
	at       shell.Word
	msg      string
	evidence string
	low      bool // the install reads a file that may pin hashes
}

// bootstrapPkgs are installer tooling: upgrading them is not a dependency
// install of the project.
var bootstrapPkgs = map[string]bool{
	"pip": true, "setuptools": true, "wheel": true, "uv": true, "pip-tools": true, "virtualenv": true,
	"pipenv": true, "poetry": true, "build": true,
}

// pipOptsWithValue are pip install options that take a value.
var pipOptsWithValue = map[string]bool{
	"-r": true, "--requirement": true, "-c": true, "--constraint": true, "-i": true, "--index-url": true,
	"--extra-index-url": true, "-f": true, "--find-links": true, "--trusted-host": true, "-t": true,
	"--target": true, "--prefix": true, "--root": true, "--python-version": true, "--platform": true,
	"--implementation": true, "--abi": true, "--src": true, "--upgrade-strategy": true, "--progress-bar": true,
	"--index-strategy": true, "--python": true, "-p": true, "--cache-dir": true, "--log": true,
	"--config-settings": true, "-C": true, "--only-binary": true, "--no-binary": true, "--root-user-action": true,
	"--extra": true, "--group": true, "-g": true, "--keyring-provider": true, "--timeout": true, "--retries": true,
	"--proxy": true, "--cert": true, "--client-cert": true, "--exists-action": true, "--report": true,
	"--override": true, "--link-mode": true, "--resolution": true, "--prerelease": true,
}

// pkgName returns the distribution name of a requirement argument, or ""
// for local paths, archives and URLs.
func pkgName(a string) string {
	if a == "" || a == "." || strings.ContainsAny(a[:1], "./~$") || strings.Contains(a, "://") ||
		strings.HasSuffix(a, ".whl") || strings.HasSuffix(a, ".tar.gz") || strings.HasSuffix(a, ".zip") ||
		strings.Contains(a, "/") && !strings.Contains(a, "@") {
		return ""
	}
	end := strings.IndexAny(a, "=<>!~[;@ ")
	if end < 0 {
		end = len(a)
	}
	return strings.ToLower(strings.ReplaceAll(a[:end], "_", "-"))
}

func checkInstall(s *pipeline.Stage, st *pipeline.Step, c *shell.Cmd) (unhashed, bool) {
	v, ok := view(c)
	if !ok {
		return unhashed{}, false
	}
	if subc, args, at, ok := pipCall(v); ok {
		if subc != "install" && !(subc == "sync" && v.name == "uv") {
			return unhashed{}, false
		}
		if hasFlag(args, "--require-hashes", "--no-index") {
			return unhashed{}, false // hash-checked, or only local wheels
		}
		if val, ok := envValue(s, st, c, "PIP_REQUIRE_HASHES"); ok && val != "" && val != "0" && strings.ToLower(val) != "false" {
			return unhashed{}, false
		}
		var files []string
		tool := "pip install"
		if v.name == "uv" {
			tool = "uv pip " + subc
		}
		if subc == "sync" {
			// uv pip sync installs exactly the files it is given.
			for _, a := range args {
				if !strings.HasPrefix(a.Val, "-") {
					files = append(files, a.Val)
				}
			}
		}
		var pkgs, pinned []string
		for i := 0; subc == "install" && i < len(args); i++ {
			a := args[i].Val
			if a == "-r" || a == "--requirement" {
				if i+1 < len(args) {
					files = append(files, args[i+1].Val)
				}
				i++
				continue
			}
			if after, ok := strings.CutPrefix(a, "--requirement="); ok {
				files = append(files, after)
				continue
			}
			if strings.HasPrefix(a, "-r") && len(a) > 2 {
				files = append(files, a[2:])
				continue
			}
			if strings.HasPrefix(a, "-") {
				if pipOptsWithValue[a] {
					i++
				}
				if a == "-e" || a == "--editable" {
					i++ // editable installs are local projects
				}
				continue
			}
			name := pkgName(a)
			if name == "" || bootstrapPkgs[name] {
				continue
			}
			pkgs = append(pkgs, a)
			if strings.Contains(a, "==") {
				pinned = append(pinned, a)
			}
		}
		if len(pkgs) > 0 {
			what := "unpinned packages"
			if len(pinned) == len(pkgs) {
				what = "version-pinned packages without hashes"
			}
			return unhashed{at: at,
				msg: "Step installs " + what + " with `" + tool + "` (" + truncate(strings.Join(pkgs, " "), 200) +
					") without --require-hashes: a replaced or typosquatted artifact on the index would be installed.",
				evidence: tool + " " + truncate(strings.Join(pkgs, " "), 512)}, true
		}
		if len(files) > 0 {
			cmd := tool + " -r " + truncate(strings.Join(files, " -r "), 200)
			if subc == "sync" {
				cmd = tool + " " + truncate(strings.Join(files, " "), 200)
			}
			return unhashed{at: at, low: true,
				msg: "Step runs `" + cmd + "` without --require-hashes; " +
					"whether the file pins hashes cannot be seen from the pipeline file (assumed not), and without " +
					"the flag pip accepts unhashed requirements.",
				evidence: tool + " -r " + truncate(strings.Join(files, ","), 512)}, true
		}
		return unhashed{}, false
	}
	switch v.name {
	case "uv":
		subc, i := sub(v.args)
		if subc == "sync" && !hasFlag(v.args[i+1:], "--locked", "--frozen") {
			if val, ok := envValue(s, st, c, "UV_LOCKED"); ok && val != "" && val != "0" {
				return unhashed{}, false
			}
			if val, ok := envValue(s, st, c, "UV_FROZEN"); ok && val != "" && val != "0" {
				return unhashed{}, false
			}
			return unhashed{at: v.at, low: true,
				msg:      "`uv sync` without --locked or --frozen may re-resolve and update uv.lock instead of installing exactly the locked, hashed versions.",
				evidence: "uv sync"}, true
		}
	case "conda", "mamba", "micromamba":
		subc, i := sub(v.args)
		args := v.args[i+1:]
		if subc == "env" {
			// conda env create/update -f environment.yml
			s2, k := sub(args)
			if s2 != "create" && s2 != "update" {
				return unhashed{}, false
			}
			subc, args = "env "+s2, args[k+1:]
			if _, _, ok := flag(args, "-f", "--file"); !ok {
				return unhashed{}, false
			}
		} else if subc != "install" && subc != "create" {
			return unhashed{}, false
		}
		if f, _, ok := flag(args, "--file", "-f"); ok {
			return unhashed{at: v.at, low: true,
				msg: "`" + v.name + " " + subc + " --file " + truncate(f, 100) + "` installs without hash verification unless the file " +
					"is an explicit lock (@EXPLICIT with hashes), which the pipeline file cannot show.",
				evidence: v.name + " " + subc + " --file " + truncate(f, 256)}, true
		}
		var pkgs []string
		for j := 0; j < len(args); j++ {
			a := args[j].Val
			if strings.HasPrefix(a, "-") {
				switch a {
				case "-n", "--name", "-p", "--prefix", "-c", "--channel", "--override-channels", "-f":
					if a != "--override-channels" {
						j++
					}
				}
				continue
			}
			name := strings.ToLower(a)
			if k := strings.IndexAny(name, "=<>!~ "); k >= 0 {
				name = name[:k]
			}
			if name == "python" || bootstrapPkgs[name] || name == "" {
				continue
			}
			pkgs = append(pkgs, a)
		}
		if len(pkgs) > 0 {
			return unhashed{at: v.at,
				msg:      "`" + v.name + " " + subc + "` installs packages (" + truncate(strings.Join(pkgs, " "), 200) + ") resolved at run time, without a lock file or hashes.",
				evidence: v.name + " " + subc + " " + truncate(strings.Join(pkgs, " "), 512)}, true
		}
	case "npm":
		subc, i := sub(v.args)
		if subc != "install" && subc != "i" && subc != "add" {
			return unhashed{}, false
		}
		var pkgs []string
		for _, a := range v.args[i+1:] {
			if !strings.HasPrefix(a.Val, "-") && !npmTooling[npmName(a.Val)] {
				pkgs = append(pkgs, a.Val)
			}
		}
		if len(pkgs) == 0 && len(v.args) > i+1 {
			return unhashed{}, false // only package-manager tooling (npm i -g npm@9)
		}
		if len(pkgs) > 0 {
			return unhashed{at: v.at,
				msg:      "`npm " + subc + "` of named packages (" + truncate(strings.Join(pkgs, " "), 200) + ") resolves them at run time and records no integrity hash the install is checked against.",
				evidence: "npm install " + truncate(strings.Join(pkgs, " "), 512)}, true
		}
		return unhashed{at: v.at, low: true,
			msg:      "`npm install` may update package-lock.json instead of installing exactly what it pins; use `npm ci`.",
			evidence: "npm install"}, true
	case "yarn":
		subc, i := sub(v.args)
		if subc == "" && len(v.args) == 0 || subc == "install" {
			rest := v.args
			if i >= 0 {
				rest = v.args[i+1:]
			}
			if hasFlag(rest, "--frozen-lockfile", "--immutable") {
				return unhashed{}, false
			}
			return unhashed{at: v.at, low: true,
				msg:      "`yarn install` without --frozen-lockfile/--immutable may change the lock file instead of installing exactly what it pins.",
				evidence: "yarn install"}, true
		}
	case "pipenv":
		subc, i := sub(v.args)
		if subc != "install" {
			return unhashed{}, false
		}
		var pkgs []string
		for _, a := range v.args[i+1:] {
			if !strings.HasPrefix(a.Val, "-") && pkgName(a.Val) != "" {
				pkgs = append(pkgs, a.Val)
			}
		}
		if len(pkgs) > 0 {
			return unhashed{at: v.at,
				msg:      "`pipenv install " + truncate(strings.Join(pkgs, " "), 200) + "` adds packages resolved at run time instead of installing the hashed Pipfile.lock.",
				evidence: "pipenv install " + truncate(strings.Join(pkgs, " "), 512)}, true
		}
		if !hasFlag(v.args[i+1:], "--deploy", "--ignore-pipfile") {
			return unhashed{at: v.at, low: true,
				msg:      "`pipenv install` without --deploy or --ignore-pipfile may re-lock instead of installing exactly the hashed Pipfile.lock.",
				evidence: "pipenv install"}, true
		}
	}
	return unhashed{}, false
}

// npmTooling are package managers installed with npm itself.
var npmTooling = map[string]bool{"npm": true, "yarn": true, "pnpm": true, "corepack": true}

// npmName returns the package name of an npm spec ("@scope/x@1" -> "@scope/x").
func npmName(spec string) string {
	if i := strings.LastIndexByte(spec, '@'); i > 0 {
		return spec[:i]
	}
	return spec
}
