package pipeline_test

import (
	"fmt"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

func TestStepRoles(t *testing.T) {
	cases := []struct {
		step pipeline.Step
		want string
	}{
		{pipeline.Step{Run: "mlgate scan ./model"}, "[scan]"},
		{pipeline.Step{Run: "pip install modelscan && modelscan -p model.pkl"}, "[scan]"},
		{pipeline.Step{Run: "python -m picklescan --path m.pt"}, "[scan]"},
		{pipeline.Step{Run: "cosign verify-blob --key k.pub --signature s m"}, "[verify]"},
		{pipeline.Step{Run: "cosign sign-blob \\\n --key env://K \\\n model.safetensors"}, "[sign]"},
		{pipeline.Step{Run: "python -m model_signing sign ./model"}, "[sign]"},
		{pipeline.Step{Uses: "actions/attest-build-provenance@v1"}, "[sign]"},
		{pipeline.Step{Run: "huggingface-cli upload org/m ./out"}, "[register]"},
		{pipeline.Step{Run: "hf upload org/m ./out"}, "[register]"},
		{pipeline.Step{Run: "python -c \"from x import m; m.push_to_hub('org/m')\""}, "[register]"},
		{pipeline.Step{Run: "kubectl apply -f deploy.yaml"}, "[deploy]"},
		{pipeline.Step{Run: "helm upgrade --install svc ./chart"}, "[deploy]"},
		{pipeline.Step{Run: "python3 training/train.py --config c.yaml"}, "[train]"},
		{pipeline.Step{Run: "torchrun --nproc_per_node 8 finetune.py"}, "[train]"},
		{pipeline.Step{Run: "accelerate launch --num_processes 2 run_sft.py"}, "[train]"},
		{pipeline.Step{Run: "python -m torch.distributed.run --nproc_per_node=2 main.py"}, "[train]"},
		{pipeline.Step{Run: "python3 scripts/validate_training_data.py --dataset d"}, "[validate]"},
		{pipeline.Step{Run: "great_expectations checkpoint run daily"}, "[validate]"},
		{pipeline.Step{Name: "Train model", Run: "make all"}, "[train]"},
		{pipeline.Step{Name: "Sign model artifacts", Run: "./sign.sh"}, "[sign]"},
		{pipeline.Step{Uses: "docker/build-push-action@v5", With: map[string]pipeline.StepInput{"push": {Value: "true"}}}, "[register]"},
		{pipeline.Step{Run: "python - <<EOF\nfrom transformers import Trainer\ntrainer.train()\nEOF\n"}, "[train]"},
		{pipeline.Step{Run: "mlgate run --network none --rw out -- python3 training/train.py --out out"}, "[train]"},
		// look-alikes
		{pipeline.Step{Run: "pytest tests/test_train.py"}, "[]"},
		{pipeline.Step{Run: "python tests/test_train.py"}, "[]"},
		{pipeline.Step{Run: "python -m pytest -k train"}, "[]"},
		{pipeline.Step{Run: "echo \"cosign sign-blob x\" # mlgate sign"}, "[]"},
		{pipeline.Step{Run: "torchrun benchmarks/bench_train.py"}, "[]"},
		{pipeline.Step{Run: "cosign version && docker build -t x ."}, "[]"},
		{pipeline.Step{Name: "Upload coverage", Uses: "actions/upload-artifact@v4"}, "[]"},
		{pipeline.Step{Name: "Sign in to Docker Hub", Uses: "docker/login-action@v3"}, "[]"},
		{pipeline.Step{Name: "Test training loop", Run: "make test"}, "[]"},
		{pipeline.Step{Uses: "docker/build-push-action@v5", With: map[string]pipeline.StepInput{"push": {Value: "false"}}}, "[]"},
		{pipeline.Step{Run: "python validate_config.py"}, "[]"},
		{pipeline.Step{Name: "Display Training Tools Version", Run: "lstmtraining -v"}, "[]"},
		{pipeline.Step{Name: "Download training data", Run: "./get.sh"}, "[]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(pipeline.StepRoles(&c.step)); got != c.want {
			t.Errorf("StepRoles(%+v) = %s, want %s", c.step, got, c.want)
		}
	}
}

func TestInferRolesFromSteps(t *testing.T) {
	s := &pipeline.Stage{Name: "job1", Steps: []pipeline.Step{{Run: "python train.py"}, {Run: "cosign sign-blob m"}}}
	pipeline.InferRoles(s)
	if fmt.Sprint(s.Roles) != "[sign train]" || !s.RolesInferred || !s.IsPrivileged() {
		t.Errorf("roles %v inferred=%v", s.Roles, s.RolesInferred)
	}
	tr := &pipeline.Stage{Name: "fit", Steps: []pipeline.Step{{Run: "python train.py"}}}
	pipeline.InferRoles(tr)
	if tr.IsPrivileged() || tr.IsGate() {
		t.Errorf("a training stage is neither privileged nor a gate: %v", tr.Roles)
	}
	declared := &pipeline.Stage{Name: "x", Roles: []pipeline.Role{pipeline.RoleScan}, Steps: []pipeline.Step{{Run: "python train.py"}}}
	pipeline.InferRoles(declared)
	if fmt.Sprint(declared.Roles) != "[scan]" || declared.RolesInferred {
		t.Errorf("declared roles changed: %v", declared.Roles)
	}
	v := &pipeline.Stage{Name: "validate-training-data"}
	pipeline.InferRoles(v)
	if fmt.Sprint(v.Roles) != "[validate]" {
		t.Errorf("validate-data: %v", v.Roles)
	}
	drv := &pipeline.Stage{Name: "root/train-model-driver"}
	pipeline.InferRoles(drv)
	if len(drv.Roles) != 0 {
		t.Errorf("a KFP driver does not train: %v", drv.Roles)
	}
	lint := &pipeline.Stage{Name: "validate"}
	pipeline.InferRoles(lint)
	if len(lint.Roles) != 0 {
		t.Errorf("validate alone: %v", lint.Roles)
	}
}
