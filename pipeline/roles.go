package pipeline

import (
	"strings"

	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// StepRoles returns the roles a step's commands or action imply, in the
// order of Roles:
//
//   - scan: mlgate scan, modelscan, picklescan, fickling, modelaudit (also
//     as `python -m ...`), a modelscan action;
//   - verify: mlgate verify, cosign verify/verify-blob/verify-attestation,
//     model_signing verify, sigstore verify, gh attestation verify;
//   - sign: cosign sign/sign-blob/attest/attest-blob, mlgate sign,
//     model_signing sign, sigstore sign, actions/attest*, sigstore actions;
//   - register: huggingface-cli upload, hf upload, twine upload, docker/podman
//     push, oras push, npm publish, gh release create/upload, pypi-publish
//     actions, docker/build-push-action with push: true, and in Python code
//     push_to_hub(, upload_folder(, upload_file(, mlflow register_model( or
//     registered_model_name=;
//   - deploy: kubectl apply/create/replace/set/rollout, helm install/upgrade,
//     gcloud run deploy, gcloud ai endpoints deploy-model, aws sagemaker
//     create-endpoint/update-endpoint, az ml online-deployment, deploy actions;
//   - the command that `mlgate run [flags] -- command` sandboxes;
//   - train: `python train.py` (a script whose name has a train, finetune or
//     pretrain word and no test/bench/eval word), torchrun, accelerate
//     launch, deepspeed, `python -m torch.distributed.run|launch`,
//     llamafactory-cli train, tune run, `trainer.train(` in Python code;
//   - validate: great_expectations/gx checkpoints, a script named like
//     validate_data.py or check_dataset.py, Python code that imports
//     great_expectations, tensorflow_data_validation, pandera or deepchecks.
//
// A step name adds train (train/training words) or validate (a data word
// and a validate/validation/check word), and scan, sign, register or deploy
// only together with a model word ("Sign model", "Upload model to hub"):
// step names such as "Upload coverage" or "Sign in to registry" say
// nothing. Commands inside `echo`, comments and here-documents that do not
// feed an interpreter are not counted.
func StepRoles(st *Step) []Role {
	set := map[Role]bool{}
	stepNameRoles(st.Name, set)
	if st.Uses != "" {
		usesRoles(st, set)
	}
	if st.Run != "" {
		if isPythonShell(st.Shell) {
			pythonRoles(st.Run, set)
		} else {
			for _, c := range shell.Parse(st.Run) {
				commandRoles(st.Run, &c, set)
			}
		}
	}
	var out []Role
	for _, r := range allRoles {
		if set[r] {
			out = append(out, r)
		}
	}
	return out
}

func isPythonShell(sh string) bool {
	sh = strings.ToLower(strings.TrimSpace(sh))
	return strings.HasPrefix(sh, "python")
}

var testWords = map[string]bool{
	"test": true, "tests": true, "testing": true, "pytest": true, "unittest": true, "bench": true,
	"benchmark": true, "benchmarks": true, "eval": true, "evaluate": true, "evaluation": true,
	"infer": true, "inference": true, "serve": true, "lint": true, "smoke": true, "mock": true,
}

var dataWords = map[string]bool{"data": true, "dataset": true, "datasets": true, "training_data": true}

var validateWords = map[string]bool{
	"validate": true, "validation": true, "check": true, "checks": true, "quality": true,
	"poisoning": true, "expectations": true,
}

var trainWords = map[string]bool{
	"train": true, "training": true, "finetune": true, "finetuning": true, "pretrain": true,
	"pretraining": true, "sft": true, "dpo": true, "rlhf": true,
}

// notTrainingWords in a step name mean the step prepares for or reports on
// training rather than trains ("Build training tools", "Download training
// data").
var notTrainingWords = map[string]bool{
	"tool": true, "tools": true, "version": true, "install": true, "installs": true, "build": true,
	"setup": true, "set": true, "deps": true, "dependencies": true, "download": true, "fetch": true,
	"cache": true, "docs": true, "doc": true, "upload": true, "artifact": true, "artifacts": true,
	"display": true, "print": true, "show": true, "list": true, "report": true, "summary": true,
	"data": true, "dataset": true, "config": true, "prepare": true, "compile": true,
}

// stageNotTrainingWords in a stage name mean the stage serves training
// without training: Kubeflow's driver pods ("train-model-driver"), jobs
// that build training tools, images or docs.
var stageNotTrainingWords = map[string]bool{
	"driver": true, "tool": true, "tools": true, "image": true, "images": true, "docs": true, "doc": true,
	"lint": true, "version": true,
}

func hasAny(ws []string, set map[string]bool) bool {
	for _, w := range ws {
		if set[w] {
			return true
		}
	}
	return false
}

var modelNameWords = map[string]bool{
	"model": true, "models": true, "weights": true, "checkpoint": true, "checkpoints": true, "ckpt": true,
}

// nameSaysDataValidation reports whether name words mean data validation:
// a data word and a validation word.
func nameSaysDataValidation(ws []string) bool {
	var d, v bool
	for _, w := range ws {
		d = d || dataWords[w]
		v = v || validateWords[w]
	}
	return d && v
}

func stepNameRoles(name string, set map[Role]bool) {
	if name == "" {
		return
	}
	ws := words(name)
	var train, model, test bool
	for _, w := range ws {
		train = train || trainWords[w]
		model = model || modelNameWords[w]
		test = test || testWords[w]
	}
	if test {
		return
	}
	if nameSaysDataValidation(ws) {
		set[RoleValidate] = true
	} else if train && !hasAny(ws, notTrainingWords) {
		set[RoleTrain] = true
	}
	if !model {
		return
	}
	for _, w := range ws {
		if r, ok := roleWords[w]; ok && r != RoleTrain {
			set[r] = true
		}
	}
}

// usesRoles reads an action reference ("owner/repo/path@ref").
func usesRoles(st *Step, set map[Role]bool) {
	u := strings.ToLower(st.Uses)
	if i := strings.IndexByte(u, '@'); i >= 0 {
		u = u[:i]
	}
	switch {
	case strings.Contains(u, "modelscan") || strings.Contains(u, "picklescan") || strings.Contains(u, "modelaudit"):
		set[RoleScan] = true
	case strings.HasPrefix(u, "actions/attest") || strings.HasPrefix(u, "sigstore/gh-action-sigstore"):
		set[RoleSign] = true
	case strings.Contains(u, "pypi-publish"):
		set[RoleRegister] = true
	case strings.HasPrefix(u, "docker/build-push-action"):
		if v, ok := st.With["push"]; ok && strings.TrimSpace(strings.ToLower(v.Value)) == "true" {
			set[RoleRegister] = true
		}
	case strings.Contains(u, "deploy") && !strings.Contains(u, "pages"):
		set[RoleDeploy] = true
	}
}

// pythonCodeRoles marks roles from Python source text.
var pythonMarkers = []struct {
	text string
	role Role
}{
	{"push_to_hub(", RoleRegister},
	{"upload_folder(", RoleRegister},
	{"upload_file(", RoleRegister},
	{"register_model(", RoleRegister},
	{"registered_model_name=", RoleRegister},
	{"trainer.train(", RoleTrain},
	{"great_expectations", RoleValidate},
	{"tensorflow_data_validation", RoleValidate},
	{"import pandera", RoleValidate},
	{"deepchecks", RoleValidate},
}

func pythonRoles(code string, set map[Role]bool) {
	for _, m := range pythonMarkers {
		if strings.Contains(code, m.text) {
			set[m.role] = true
		}
	}
}

// scriptWords returns the words of a script path's file name without its
// extension, or nil when the path is not a Python script.
func scriptWords(p string) []string {
	b := shell.Base(p)
	if !strings.HasSuffix(b, ".py") {
		return nil
	}
	dir := strings.ToLower(p[:len(p)-len(b)])
	if strings.Contains(dir, "test") {
		return []string{"test"}
	}
	return words(strings.TrimSuffix(b, ".py"))
}

// scriptRole classifies a Python script or module the step runs.
func scriptRole(ws []string, set map[Role]bool) {
	var train, test bool
	for _, w := range ws {
		train = train || trainWords[w]
		test = test || testWords[w]
	}
	if test {
		return
	}
	if nameSaysDataValidation(ws) {
		set[RoleValidate] = true
	} else if train {
		set[RoleTrain] = true
	}
}

func argVals(ws []shell.Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Val
	}
	return out
}

// firstArg returns the first argument that is not an option.
func firstArg(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

func hasArg(args []string, vals ...string) bool {
	for _, a := range args {
		for _, v := range vals {
			if a == v {
				return true
			}
		}
	}
	return false
}

var scanTools = map[string]bool{"modelscan": true, "picklescan": true, "fickling": true, "modelaudit": true}

// commandRoles classifies one simple command of a shell script.
func commandRoles(src string, c *shell.Cmd, set map[Role]bool) {
	name, idx := c.Name()
	if idx < 0 {
		return
	}
	name = strings.ToLower(shell.Base(name))
	args := argVals(c.Words[idx+1:])
	sub := firstArg(args)
	switch name {
	case "mlgate":
		switch sub {
		case "scan":
			set[RoleScan] = true
		case "verify":
			set[RoleVerify] = true
		case "sign":
			set[RoleSign] = true
		case "run":
			// mlgate run [flags] -- command: the sandboxed command's role.
			for k := idx + 1; k < len(c.Words); k++ {
				if c.Words[k].Val == "--" && !c.Words[k].Quoted {
					inner := *c
					inner.Words = c.Words[k+1:]
					commandRoles(src, &inner, set)
					break
				}
			}
		}
	case "modelscan", "picklescan", "fickling", "modelaudit":
		set[RoleScan] = true
	case "cosign":
		switch sub {
		case "verify", "verify-blob", "verify-attestation", "verify-blob-attestation":
			set[RoleVerify] = true
		case "sign", "sign-blob", "attest", "attest-blob":
			set[RoleSign] = true
		}
	case "model_signing", "sigstore":
		switch sub {
		case "sign":
			set[RoleSign] = true
		case "verify":
			set[RoleVerify] = true
		}
	case "gh":
		if sub == "attestation" && hasArg(args, "verify") {
			set[RoleVerify] = true
		}
		if sub == "release" && hasArg(args, "create", "upload") {
			set[RoleRegister] = true
		}
	case "huggingface-cli", "hf":
		if sub == "upload" || sub == "upload-large-folder" {
			set[RoleRegister] = true
		}
	case "twine":
		if sub == "upload" {
			set[RoleRegister] = true
		}
	case "docker", "podman", "buildah", "oras", "skopeo":
		if sub == "push" || sub == "copy" && name == "skopeo" {
			set[RoleRegister] = true
		}
		if (sub == "build" || sub == "buildx") && hasArg(args, "--push") {
			set[RoleRegister] = true
		}
	case "npm", "yarn", "pnpm", "cargo", "poetry", "uv", "flit", "hatch":
		if sub == "publish" {
			set[RoleRegister] = true
		}
	case "kubectl", "oc":
		switch sub {
		case "apply", "create", "replace", "set", "rollout", "patch":
			set[RoleDeploy] = true
		}
	case "helm":
		if sub == "install" || sub == "upgrade" {
			set[RoleDeploy] = true
		}
	case "gcloud":
		if hasArg(args, "deploy", "deploy-model") {
			set[RoleDeploy] = true
		}
	case "aws":
		if sub == "sagemaker" && hasArg(args, "create-endpoint", "update-endpoint") {
			set[RoleDeploy] = true
		}
	case "az":
		if sub == "ml" && hasArg(args, "online-deployment", "batch-deployment") && hasArg(args, "create", "update") {
			set[RoleDeploy] = true
		}
	case "torchrun", "deepspeed", "horovodrun":
		launched(args, set)
	case "accelerate":
		if sub == "launch" {
			launched(args[1:], set)
		}
	case "llamafactory-cli", "axolotl", "litgpt":
		if hasArg(args, "train", "finetune", "pretrain") {
			set[RoleTrain] = true
		}
	case "tune":
		if sub == "run" {
			set[RoleTrain] = true
		}
	case "great_expectations", "gx":
		if hasArg(args, "checkpoint") {
			set[RoleValidate] = true
		}
	default:
		if strings.HasPrefix(name, "python") {
			pythonCommand(src, c, idx, args, set)
		}
	}
}

// launched classifies what a distributed launcher runs: training unless
// the script is a test, benchmark or evaluation.
func launched(args []string, set map[Role]bool) {
	for i, a := range args {
		if a == "-m" && i+1 < len(args) {
			scriptRole(words(args[i+1]), set)
			if !hasTestWord(words(args[i+1])) {
				set[RoleTrain] = true
			}
			return
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		if ws := scriptWords(a); ws != nil {
			if !hasTestWord(ws) && !nameSaysDataValidation(ws) {
				set[RoleTrain] = true
			}
			scriptRole(ws, set)
			return
		}
	}
}

func hasTestWord(ws []string) bool {
	for _, w := range ws {
		if testWords[w] {
			return true
		}
	}
	return false
}

// pythonCommand classifies `python [opts] script.py`, `python -m mod`,
// `python -c code` and `python - <<EOF`.
func pythonCommand(src string, c *shell.Cmd, idx int, args []string, set map[Role]bool) {
	for i, a := range args {
		switch {
		case a == "-c" && i+1 < len(args):
			pythonRoles(args[i+1], set)
			return
		case a == "-m" && i+1 < len(args):
			mod := args[i+1]
			switch {
			case scanTools[mod]:
				set[RoleScan] = true
			case mod == "model_signing":
				if hasArg(args[i+2:], "sign") {
					set[RoleSign] = true
				} else if hasArg(args[i+2:], "verify") {
					set[RoleVerify] = true
				}
			case mod == "torch.distributed.run" || mod == "torch.distributed.launch":
				launched(args[i+2:], set)
			case mod == "twine" && hasArg(args[i+2:], "upload"):
				set[RoleRegister] = true
			case mod == "pytest" || mod == "unittest":
			default:
				scriptRole(words(mod), set)
			}
			return
		case a == "-":
			for _, h := range c.Heredocs {
				if h.Start >= 0 && h.End <= len(src) && h.Start <= h.End {
					pythonRoles(src[h.Start:h.End], set)
				}
			}
			return
		case strings.HasPrefix(a, "-"):
			continue
		default:
			if ws := scriptWords(a); ws != nil {
				scriptRole(ws, set)
			}
			return
		}
	}
	// python <<EOF with no "-"
	for _, h := range c.Heredocs {
		if h.Start >= 0 && h.End <= len(src) && h.Start <= h.End {
			pythonRoles(src[h.Start:h.End], set)
		}
	}
}
