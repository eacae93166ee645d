package practice_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/practice"
)

func TestUnpinnedDependencyInstall(t *testing.T) {
	runScriptCases(t, practice.UnpinnedDependencyInstall, []scriptCase{
		{"named packages", "pip install torch numpy", []string{"10:7"}},
		{"second line", "echo hi\n  pip3 install -U transformers==4.40.0", []string{"11:9"}},
		{"continuation", "python -m pip install \\\n  --no-cache-dir \\\n  torch", []string{"10:7"}},
		{"uv pip", "uv pip install --system vllm", []string{"10:7"}},
		{"sudo and env", "sudo -E env A=1 pip install x", []string{"10:23"}},
		{"requirements without flag", "pip install -r requirements.txt", []string{"10:7"}},
		{"conda", "conda install -y -c conda-forge pytorch", []string{"10:7"}},
		{"npm named", "npm install -g some-cli", []string{"10:7"}},
		{"uv sync unlocked", "uv sync --all-extras", []string{"10:7"}},
		{"uv pip sync", "uv pip sync requirements.txt", []string{"10:7"}},
		{"conda env file", "conda env create -f environment.yml", []string{"10:7"}},
		{"micromamba create file", "micromamba create -y -n ml -f env.yml", []string{"10:7"}},
		{"offline wheels", "pip install --no-index --find-links ./wheels torch", nil},
		{"conda env list", "conda env list", nil},
		{"uv pip sync hashed", "uv pip sync --require-hashes requirements.txt", nil},
		{"nested sh -c", "bash -c 'pip install x'", []string{"10:16"}},
		{"require hashes", "pip install --require-hashes -r req.txt", nil},
		{"require hashes env", "PIP_REQUIRE_HASHES=1 pip install -r req.txt", nil},
		{"pip download", "pip download torch -d wheels", nil},
		{"echo", `echo "pip install x"`, nil},
		{"comment", "# pip install x\ntrue", nil},
		{"bootstrap", "python -m pip install --upgrade pip setuptools wheel", nil},
		{"local project", "pip install -e . && pip install dist/*.whl", nil},
		{"uv sync locked", "uv sync --locked", nil},
		{"poetry", "poetry install --no-root", nil},
		{"npm ci", "npm ci", nil},
		{"npm self-upgrade", "npm install -g npm@9 yarn", nil},
		{"heredoc body is data", "cat > Dockerfile <<EOF\nRUN pip install x\nEOF", nil},
	})
	// -r installs are low severity, named packages medium.
	fs := run(t, graph("github-actions", stage("j", step("pip install -r r.txt\npip install torch"))), practice.UnpinnedDependencyInstall.ID)
	if len(fs) != 2 || fs[0].Severity != finding.Low || fs[1].Severity != finding.Medium {
		t.Errorf("severities: %+v", fs)
	}
}

func TestUnsafePackageIndex(t *testing.T) {
	runScriptCases(t, practice.UnsafePackageIndex, []scriptCase{
		{"extra index", "pip install torch --extra-index-url https://download.pytorch.org/whl/cu121", []string{"10:25"}},
		{"equals form", "pip install x --extra-index-url=https://p.example/simple", []string{"10:21"}},
		{"trusted host", "pip install --trusted-host pypi.internal -i https://pypi.internal/simple x", []string{"10:19"}},
		{"http index", "pip install -i http://mirror.local/simple x", []string{"10:19"}},
		{"uv unsafe strategy", "uv pip install --index-strategy unsafe-best-match x", []string{"10:22"}},
		{"env", "PIP_EXTRA_INDEX_URL=https://x/simple pip install -r r.txt", []string{"10:44"}},
		{"https index only", "pip install -i https://pypi.internal/simple --require-hashes -r r.txt", nil},
		{"first-index strategy", "uv pip install --index-strategy first-index x", nil},
		{"echo", "echo --extra-index-url https://x", nil},
		{"not pip", "curl --trusted-host x", nil},
	})
}

func TestNoDependencyScan(t *testing.T) {
	inst := stage("deps", step("pip install --require-hashes -r requirements.txt"))
	fs := run(t, graph("github-actions", inst, stage("test", step("pytest"))), practice.NoDependencyScan.ID)
	if len(fs) != 1 || fs[0].Location.Logical != "pipeline" || fs[0].Location.Line != 10 {
		t.Errorf("want one pipeline finding, got %+v", fs)
	}
	for name, g := range map[string]*pipeline.Graph{
		"pip-audit":  graph("github-actions", stage("deps", step("pip install --require-hashes -r r.txt\npip-audit -r r.txt"))),
		"action":     graph("github-actions", stage("deps", step("pip install -r r.txt")), stage("scan", pipeline.Step{Uses: "pypa/gh-action-pip-audit@v1"})),
		"no install": graph("github-actions", stage("lint", step("ruff check ."))),
		"dockerfile": graph("dockerfile", stage("build", step("pip install x"))),
	} {
		if fs := run(t, g, practice.NoDependencyScan.ID); len(fs) != 0 {
			t.Errorf("%s: unexpected %+v", name, fs)
		}
	}
}

func TestTrainingNetworkAccess(t *testing.T) {
	train := stage("job", step("python3 training/train.py --out m"))
	train.RunsUntrustedCode = pipeline.False
	offline := stage("job2", step("torchrun --nproc_per_node 8 finetune.py"))
	offline.Network.Access = pipeline.False
	offline.RunsUntrustedCode = pipeline.False
	validate := stage("validate-data", step("python check.py"))
	validate.Network.Access = pipeline.True
	validate.RunsUntrustedCode = pipeline.False
	untrusted := stage("fork-train", step("python train.py"))
	untrusted.Network.Access = pipeline.True // network-access-untrusted reports this one
	fs := run(t, graph("github-actions", train, offline, validate, untrusted), practice.TrainingNetworkAccess.ID)
	if len(fs) != 2 || fs[0].Location.Logical != "stage job" || fs[1].Location.Logical != "stage validate-data" {
		t.Fatalf("got %+v", fs)
	}
	if want := "assumed"; !contains(fs[0].Message, want) || contains(fs[1].Message, want) {
		t.Errorf("messages: %q / %q", fs[0].Message, fs[1].Message)
	}
	tests := stage("tests", step("pytest tests/test_train.py"))
	tests.RunsUntrustedCode = pipeline.False
	if fs := run(t, graph("github-actions", tests), practice.TrainingNetworkAccess.ID); len(fs) != 0 {
		t.Errorf("tests are not training: %+v", fs)
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestTrainingReleaseSecrets(t *testing.T) {
	mk := func(name string, secrets ...string) *pipeline.Stage {
		s := stage(name, step("accelerate launch train.py"))
		s.RunsUntrustedCode = pipeline.False
		for i, n := range secrets {
			s.Secrets = append(s.Secrets, pipeline.Secret{Name: n, Pos: pipeline.Pos{Line: 3 + i, Column: 9}})
		}
		return s
	}
	for _, c := range []struct {
		stage *pipeline.Stage
		want  int
	}{
		{mk("a", "HF_TOKEN"), 1},
		{mk("b", "WANDB_API_KEY", "COSIGN_PRIVATE_KEY"), 1},
		{mk("c", "PYPI_API_TOKEN", "AWS_SECRET_ACCESS_KEY", "KUBECONFIG"), 3},
		{mk("d", "WANDB_API_KEY"), 0},
		{mk("e", "COSIGN_PUBLIC_KEY", "SLACK_WEBHOOK"), 0},
		{stage("f", step("python train_test_split.py")), 0},
		{untrustedTrain("g", "HF_TOKEN"), 0}, // secrets-in-untrusted-stage's finding
	} {
		if c.stage.Name == "f" {
			c.stage.RunsUntrustedCode = pipeline.False
			c.stage.Secrets = []pipeline.Secret{{Name: "HF_TOKEN", Pos: pipeline.Pos{Line: 2, Column: 1}}}
		}
		fs := run(t, graph("gitlab-ci", c.stage), practice.TrainingReleaseSecrets.ID)
		if len(fs) != c.want {
			t.Errorf("stage %s: got %d findings, want %d: %+v", c.stage.Name, len(fs), c.want, fs)
		}
	}
}

func TestSigningInTrainingStage(t *testing.T) {
	both := stage("build", step("python train.py"), pipeline.Step{Name: "sign", Pos: pipeline.Pos{Line: 20, Column: 9}, Run: "cosign sign-blob --key env://K model.safetensors"})
	fs := run(t, graph("github-actions", both), practice.SigningInTrainingStage.ID)
	if len(fs) != 1 || fs[0].Location.Line != 20 {
		t.Errorf("got %+v", fs)
	}
	split := []*pipeline.Stage{stage("train", step("python train.py")), stage("sign", step("cosign sign-blob m.safetensors"))}
	if fs := run(t, graph("github-actions", split...), practice.SigningInTrainingStage.ID); len(fs) != 0 {
		t.Errorf("separate stages: %+v", fs)
	}
	verify := stage("build", step("python train.py\ncosign verify-blob --key k.pub --signature s base.safetensors"))
	if fs := run(t, graph("github-actions", verify), practice.SigningInTrainingStage.ID); len(fs) != 0 {
		t.Errorf("verification is not signing: %+v", fs)
	}
}

func TestModelReleaseWithoutScan(t *testing.T) {
	runScriptCases(t, practice.ModelReleaseWithoutScan, []scriptCase{
		{"hf upload", "python train.py\nhuggingface-cli upload org/m ./out", []string{"11:7"}},
		{"push_to_hub", "python -c \"m.push_to_hub('org/m')\"", []string{"10:20"}},
		{"cosign model", "cosign sign-blob --key env://K ./out/model.safetensors", []string{"10:7"}},
		{"model_signing", "python -m model_signing sign ./out", []string{"10:7"}},
		{"scan first", "mlgate scan ./out\nhuggingface-cli upload org/m ./out", nil},
		{"modelscan first", "modelscan -p ./out && cosign sign-blob --key k model.pt", nil},
		{"cosign of an sbom", "cosign sign-blob --key k sbom.spdx.json", nil},
		{"docker push is no model", "docker push ghcr.io/x/y:1", nil},
		{"comment", "# m.push_to_hub('x')\ntrue", nil},
	})
	// A scan stage upstream counts; one downstream does not.
	scan := stage("scan", step("mlgate scan model/"))
	scan.Outputs = []pipeline.Output{{Artifact: "scanned"}}
	rel := stage("publish", step("hf upload org/m model/"))
	rel.Inputs = []pipeline.Input{{Artifact: "scanned"}}
	if fs := run(t, graph("github-actions", scan, rel), practice.ModelReleaseWithoutScan.ID); len(fs) != 0 {
		t.Errorf("upstream scan: %+v", fs)
	}
	rel2 := stage("publish", step("hf upload org/m model/"))
	rel2.Outputs = []pipeline.Output{{Artifact: "pushed"}}
	late := stage("scan", step("mlgate scan model/"))
	late.Inputs = []pipeline.Input{{Artifact: "pushed"}}
	if fs := run(t, graph("github-actions", rel2, late), practice.ModelReleaseWithoutScan.ID); len(fs) != 1 {
		t.Errorf("scan after release must not count: %+v", fs)
	}
}

func TestTrustRemoteCode(t *testing.T) {
	runScriptCases(t, practice.TrustRemoteCode, []scriptCase{
		{"kwarg", "python -c \"AutoModel.from_pretrained('x/y', trust_remote_code=True)\"", []string{"10:51"}},
		{"cli flag", "vllm serve org/m \\\n  --trust-remote-code", []string{"11:9"}},
		{"lm-eval args", "lm_eval --model hf --model_args pretrained=x/y,trust_remote_code=true", []string{"10:54"}},
		{"json", `run.py --kwargs '{"trust_remote_code": true}'`, []string{"10:26"}},
		{"false", "python -c \"f(trust_remote_code=False)\"", nil},
		{"flag false", "python run.py --trust_remote_code False", nil},
		{"variable", "python -c \"f(trust_remote_code=args.trust)\"", nil},
		{"comment", "# trust_remote_code=True is not needed\ntrue", nil},
		{"other name", "python -c \"f(trust_remote_code_v2=True)\"", nil},
	})
}

func TestTorchLoadUnsafe(t *testing.T) {
	runScriptCases(t, practice.TorchLoadUnsafe, []scriptCase{
		{"plain", "python -c \"import torch; torch.load('m.pt')\"", []string{"10:32"}},
		{"explicit false", "python - <<EOF\nimport torch\nsd = torch.load(p, weights_only=False)\nEOF", []string{"12:12"}},
		{"safe", "python -c \"import torch; torch.load(f, weights_only=True)\"", nil},
		{"safe multiline", "python - <<EOF\nsd = torch.load(\n    f,\n    map_location='cpu',\n    weights_only=True,\n)\nEOF", nil},
		{"other load", "python -c \"mytorch.load(x); safetensors.torch.load_file(p)\"", nil},
	})
}

func TestUnpinnedModelDownload(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	runScriptCases(t, practice.UnpinnedModelDownload, []scriptCase{
		{"hf cli", "huggingface-cli download meta-llama/Llama-3-8B --local-dir m", []string{"10:7"}},
		{"hf mutable revision", "hf download org/m --revision main", []string{"10:7"}},
		{"from_pretrained", "python -c \"AutoModel.from_pretrained('org/m')\"", []string{"10:28"}},
		{"snapshot main", "python - <<EOF\nsnapshot_download(repo_id='org/m', revision='v1.0')\nEOF", []string{"11:7"}},
		{"git clone", "git lfs clone https://huggingface.co/org/m", []string{"10:7"}},
		{"pinned cli", "hf download org/m --revision " + sha, nil},
		{"pinned python", "python -c \"AutoModel.from_pretrained('org/m', revision='" + sha + "')\"", nil},
		{"local path", "python -c \"AutoModel.from_pretrained('./out')\"", nil},
		{"variable", "python -c \"AutoModel.from_pretrained(name)\"", nil},
		{"dataset", "hf download org/d --repo-type dataset", nil},
		{"git clone pinned", "git clone https://huggingface.co/org/m && git -C m checkout " + sha, nil},
		{"github clone", "git clone https://github.com/org/m", nil},
	})
	rel := stage("publish", step("hf download org/m\nhf upload org/m2 ."))
	fs := run(t, graph("github-actions", rel), practice.UnpinnedModelDownload.ID)
	if len(fs) != 1 || fs[0].Severity != finding.High {
		t.Errorf("release stage download: %+v", fs)
	}
}

func TestRemoteScriptExecution(t *testing.T) {
	runScriptCases(t, practice.RemoteScriptExecution, []scriptCase{
		{"curl sh", "curl -fsSL https://x.example/install.sh | sh", []string{"10:7"}},
		{"wget sudo bash", "wget -qO- https://x | sudo bash -s -- -y", []string{"10:7"}},
		{"process substitution", "bash <(curl -s https://x)", []string{"10:7"}},
		{"command substitution", "sh -c \"$(curl -fsSL https://x)\"", []string{"10:7"}},
		{"python", "curl -s https://x/get-pip.py | python3 -", []string{"10:7"}},
		{"to file", "curl -fsSLo install.sh https://x && sha256sum -c sums && sh install.sh", nil},
		{"pipe to jq", "curl -s https://api | jq .", nil},
		{"echo", "echo 'curl x | sh'", nil},
	})
}

func TestUnpinnedImage(t *testing.T) {
	s := stage("job")
	s.Images = []pipeline.Image{
		{Ref: "python:3.11-slim", Pos: pipeline.Pos{Line: 4, Column: 14}, Kind: "job"},
		{Ref: "redis", Pos: pipeline.Pos{Line: 6, Column: 14}, Kind: "service"},
		{Ref: "ghcr.io/o/i:latest", Pos: pipeline.Pos{Line: 7, Column: 14}, Kind: "step"},
		{Ref: "localhost:5000/img", Pos: pipeline.Pos{Line: 8, Column: 14}, Kind: "step"},
		{Ref: "python:3.11-slim@sha256:" + "ab", Pos: pipeline.Pos{Line: 9, Column: 14}, Kind: "job"},
		{Ref: "${{ matrix.image }}", Pos: pipeline.Pos{Line: 10, Column: 14}, Kind: "job"},
		{Ref: "docker/Dockerfile", Pos: pipeline.Pos{Line: 11, Column: 14}, Kind: "build"},
		{Ref: "scratch", Pos: pipeline.Pos{Line: 12, Column: 14}, Kind: "base"},
	}
	fs := run(t, graph("gitlab-ci", s), practice.UnpinnedImage.ID)
	var lines []int
	for _, f := range fs {
		lines = append(lines, f.Location.Line)
	}
	if len(lines) != 4 || lines[0] != 4 || lines[1] != 6 || lines[2] != 7 || lines[3] != 8 {
		t.Errorf("got lines %v", lines)
	}
}

// FuzzRules runs every rule over one arbitrary script, as a shell step and
// as a Python step: no rule may panic or loop on hostile text.
func FuzzRules(f *testing.F) {
	for _, s := range []string{
		"pip install torch --extra-index-url http://x && curl -s x | sh",
		"python - <<EOF\nAutoModel.from_pretrained('a/b', trust_remote_code=True)\ntorch.load(f)\nEOF",
		"hf download a/b --revision main; git lfs clone https://huggingface.co/a/b",
		"cosign sign-blob --key k model.safetensors\nmlgate scan .",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh := stage("a", step(s))
		py := stage("b", pipeline.Step{Run: s, Shell: "python", RunPos: pipeline.Pos{Line: 1, Column: 1}})
		g := graph("github-actions", sh, py)
		if _, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}); err != nil {
			t.Fatal(err)
		}
	})
}

// The seed's hardened workflow: train -> (artifact trained-model) -> scan,
// and sign downloads the same artifact and `needs: scan-model`, which the
// graph does not carry. The scan of the same artifact counts.
func TestModelReleaseWithoutScanSeedWorkflow(t *testing.T) {
	train := stage("train-model", step("python3 training/train.py --config c.yaml --output ./trained-model/"))
	train.Outputs = []pipeline.Output{{Artifact: "artifact:trained-model"}}
	scan := stage("scan-model", step("python3 scripts/trojan_scan.py --model-path ./trained-model/"))
	scan.Inputs = []pipeline.Input{{Artifact: "artifact:trained-model"}}
	sign := stage("sign-model", step("sha256sum -c model-checksums.sha256"),
		step("cosign sign-blob \\\n  --key env://COSIGN_PRIVATE_KEY \\\n  ./trained-model/model.safetensors"))
	sign.Inputs = []pipeline.Input{{Artifact: "artifact:trained-model"}}
	if fs := run(t, graph("github-actions", train, scan, sign), practice.ModelReleaseWithoutScan.ID); len(fs) != 0 {
		t.Errorf("seed workflow: %+v", fs)
	}
	// Without the scan job, the signing is reported.
	sign2 := stage("sign-model", step("cosign sign-blob --key env://K ./trained-model/model.safetensors"))
	sign2.Inputs = []pipeline.Input{{Artifact: "artifact:trained-model"}}
	if fs := run(t, graph("github-actions", train, sign2), practice.ModelReleaseWithoutScan.ID); len(fs) != 1 {
		t.Errorf("no scan job: %+v", fs)
	}
}

// Training run inside a network-denying sandbox is offline even when the
// job has network; training next to the sandbox is not.
func TestTrainingNetworkAccessSandboxed(t *testing.T) {
	for _, c := range []struct {
		name, run string
		want      int
	}{
		{"mlgate run", "pip install --no-index --find-links w --require-hashes -r r.txt\n" +
			"mlgate run --network none --rw out -- python3 training/train.py --out out", 0},
		{"docker run", "docker run --rm --network=none -v $PWD:/w img python /w/train.py", 0},
		{"unshare", "unshare -rn torchrun --nproc_per_node 2 finetune.py", 0},
		{"nested sh -c", "mlgate run --network none -- bash -c 'python train.py && python eval.py'", 0},
		{"sandbox with network", "mlgate run --network host -- python train.py", 1},
		{"training also outside", "mlgate run --network none -- python train.py\npython train.py --resume", 1},
		{"sandbox runs something else", "mlgate run --network none -- make lint\npython train.py", 1},
	} {
		s := stage("train", step(c.run))
		s.Network.Access = pipeline.True
		s.RunsUntrustedCode = pipeline.False
		if fs := run(t, graph("gitlab-ci", s), practice.TrainingNetworkAccess.ID); len(fs) != c.want {
			t.Errorf("%s: got %d findings, want %d", c.name, len(fs), c.want)
		}
	}
}

func untrustedTrain(name string, secrets ...string) *pipeline.Stage {
	s := stage(name, step("python train.py"))
	s.RunsUntrustedCode = pipeline.True
	for _, n := range secrets {
		s.Secrets = append(s.Secrets, pipeline.Secret{Name: n, Pos: pipeline.Pos{Line: 2, Column: 3}})
	}
	return s
}
