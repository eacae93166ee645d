package practice

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// TorchLoadUnsafe reports torch.load calls that may unpickle arbitrary
// objects.
var TorchLoadUnsafe = pipeline.Register(finding.Rule{
	ID:       "pipeline/torch-load-unsafe",
	Title:    "torch.load without weights_only=True",
	Severity: finding.High,
	Doc: "A step's inline Python (`python -c`, a here-document or a Python step) calls `torch.load(` without " +
		"`weights_only=True`, or with `weights_only=False`. Without it, torch.load unpickles the file and a " +
		"checkpoint can run any code when it is loaded: the pickle attack behind most malicious models. " +
		"PyTorch 2.6 and later default to weights_only=True, but the pipeline file does not show which " +
		"version the step runs, and an explicit False turns the protection off. Scripts the step runs from " +
		"files are not read.",
	Remediation: "Pass `weights_only=True` (and allow-list needed classes with " +
		"`torch.serialization.add_safe_globals`), or store and load weights as safetensors; scan checkpoints " +
		"with `mlgate scan` before loading them.",
}, func(p *pipeline.Pass) {
	for _, s := range p.Graph.Stages {
		for i := range s.Steps {
			st := &s.Steps[i]
			if off, explicit, ok := unsafeTorchLoad(st.Run); ok {
				msg := "Step calls torch.load without weights_only=True: a checkpoint can run code when it is loaded."
				if explicit {
					msg = "Step calls torch.load with weights_only=False: a checkpoint can run code when it is loaded."
				}
				p.Report(s, stepAt(st, off), msg, "torch.load")
			}
		}
	}
})

var weightsOnly = regexp.MustCompile(`\bweights_only\s*=\s*(\w+)`)

// unsafeTorchLoad returns the offset of the first torch.load( call in text
// that is not made safe by weights_only=True.
func unsafeTorchLoad(text string) (int, bool, bool) {
	for i, n := 0, 0; i < len(text) && n < maxMatches; n++ {
		k := strings.Index(text[i:], "torch.load(")
		if k < 0 {
			return 0, false, false
		}
		at := i + k
		i = at + len("torch.load(")
		if at > 0 && (isWordByte(text[at-1]) || text[at-1] == '.') || isComment(text, at) {
			continue
		}
		args, _ := callArgs(text, i-1)
		m := weightsOnly.FindStringSubmatch(args)
		if m == nil {
			return at, false, true
		}
		switch m[1] {
		case "True":
			continue
		case "False":
			return at, true, true
		}
		// a variable: cannot tell
	}
	return 0, false, false
}
