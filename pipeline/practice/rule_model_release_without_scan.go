package practice

import (
	"path"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// ModelReleaseWithoutScan reports model signing and publishing steps that
// no model scan precedes.
var ModelReleaseWithoutScan = pipeline.Register(finding.Rule{
	ID:       "pipeline/model-release-without-scan",
	Title:    "Model signed or published without a model scan before it",
	Severity: finding.High,
	Doc: "A step signs or publishes a model — `huggingface-cli upload`/`hf upload`, `push_to_hub(`, " +
		"`upload_folder(`, MLflow `register_model(`, `model_signing sign`, `mlgate sign`, or `cosign " +
		"sign-blob` of a model file — and no model scan runs before it: no earlier step of the same stage " +
		"and no upstream stage runs `mlgate scan`, modelscan, picklescan, fickling, ModelAudit or a " +
		"verification (role scan or verify). A signature or a registry entry then vouches for whatever " +
		"training produced, including a pickle payload planted by poisoned code or data. Upstream means " +
		"an ancestor in the stage graph (artifact and job dependencies as the adapter models them). Because " +
		"CI files often order jobs by dependencies the graph does not carry (GitHub `needs:` without an " +
		"artifact), a scanning stage that consumes the same artifact as the releasing stage is accepted " +
		"too, and when the file models no dependencies at all, any scanning stage in it is accepted.",
	Remediation: "Scan the model before signing or publishing it: add a stage (or an earlier step) that " +
		"runs `mlgate scan` on the exact artifact, and make the signing or publishing stage depend on it.",
}, func(p *pipeline.Pass) {
	g := p.Graph
	pp := parse(g)
	edges := -1 // unknown until needed
	for _, s := range g.Stages {
		if s.HasRole(pipeline.RoleScan) && !s.RolesInferred {
			continue // declared scanner
		}
		// Find the first model release of the stage, then look for a scan
		// before it in the same stage.
		var relStep *pipeline.Step
		relOff, relWhat, relIdx := 0, "", -1
		for i := range s.Steps {
			st := &s.Steps[i]
			if what, off, ok := modelRelease(st, pp.cmdsOf(st)); ok {
				relStep, relOff, relWhat, relIdx = st, off, what, i
				break
			}
		}
		if relStep == nil {
			continue
		}
		scannedHere := false
		for i := 0; i <= relIdx && !scannedHere; i++ {
			st := &s.Steps[i]
			limit := len(st.Run) + 1
			if i == relIdx {
				limit = relOff
			}
			scannedHere = scansBefore(st, pp.cmdsOf(st), limit)
		}
		if scannedHere {
			continue
		}
		anc := g.Ancestors(s)
		scanned := false
		for _, a := range anc {
			if a.HasRole(pipeline.RoleScan) || a.HasRole(pipeline.RoleVerify) {
				scanned = true
				break
			}
		}
		if !scanned {
			// A scan stage that inspects an artifact the release consumes:
			// CI files often order jobs by dependencies the graph does not
			// carry (GitHub `needs:` without an artifact), so its order
			// cannot be checked.
			scanned = scannedSibling(g, s)
		}
		if !scanned && len(anc) == 0 {
			if edges < 0 {
				edges = 0
				if hasEdges(g) {
					edges = 1
				}
			}
			if edges == 0 {
				// The file models no order between stages: accept any
				// other scanning stage.
				for _, o := range g.Stages {
					if o != s && (o.HasRole(pipeline.RoleScan) || o.HasRole(pipeline.RoleVerify)) {
						scanned = true
						break
					}
				}
			}
		}
		if scanned {
			continue
		}
		p.Report(s, stepAt(relStep, relOff), "Stage '"+s.Name+"' "+relWhat+" with no model scan before it (in this "+
			"stage or upstream).", "release="+relWhat)
	}
})

// scannedSibling reports whether another stage with role scan or verify
// consumes one of the artifacts s consumes.
func scannedSibling(g *pipeline.Graph, s *pipeline.Stage) bool {
	for _, in := range s.Inputs {
		for _, c := range g.Consumers(in.Artifact) {
			if c != s && (c.HasRole(pipeline.RoleScan) || c.HasRole(pipeline.RoleVerify)) {
				return true
			}
		}
	}
	return false
}

// hasEdges reports whether any stage consumes what another produces.
func hasEdges(g *pipeline.Graph) bool {
	for _, s := range g.Stages {
		for _, in := range s.Inputs {
			for _, pr := range g.Producers(in.Artifact) {
				if pr != s {
					return true
				}
			}
		}
	}
	return false
}

// scansBefore reports whether a step scans or verifies a model before
// offset limit of its script (an action that scans counts as offset 0).
func scansBefore(st *pipeline.Step, cmds []shell.Cmd, limit int) bool {
	if st.Uses != "" && limit > 0 {
		rs := pipeline.StepRoles(&pipeline.Step{Uses: st.Uses, With: st.With})
		if hasRole(rs, pipeline.RoleScan) || hasRole(rs, pipeline.RoleVerify) {
			return true
		}
	}
	for i := range cmds {
		v, ok := view(&cmds[i])
		if !ok || v.at.Start >= limit || cmds[i].Depth > 0 && !cmds[i].Exact {
			continue
		}
		if isModelScan(v) {
			return true
		}
	}
	return false
}

// isModelScan reports whether a command scans or verifies a model: mlgate
// scan/verify, modelscan, picklescan, fickling, modelaudit (also as python
// -m), cosign verify*, model_signing/sigstore verify.
func isModelScan(v cmdView) bool {
	subc, _ := sub(v.args)
	switch v.name {
	case "mlgate":
		return subc == "scan" || subc == "verify"
	case "modelscan", "picklescan", "fickling", "modelaudit":
		return true
	case "cosign":
		return strings.HasPrefix(subc, "verify")
	case "model_signing", "sigstore":
		return subc == "verify"
	}
	if isPythonName(v.name) {
		if m, _, ok := flag(v.args, "-m"); ok {
			switch m {
			case "modelscan", "picklescan", "fickling", "modelaudit":
				return true
			case "model_signing":
				return hasWord(v.args, "verify")
			}
		}
	}
	return false
}

// modelFileExts are file extensions of model weights.
var modelFileExts = map[string]bool{
	".safetensors": true, ".pt": true, ".pth": true, ".bin": true, ".ckpt": true, ".gguf": true,
	".onnx": true, ".pkl": true, ".pickle": true, ".joblib": true, ".h5": true, ".keras": true,
	".pb": true, ".tflite": true, ".mlmodel": true, ".npz": true,
}

// looksLikeModel reports whether a path or name refers to a model.
func looksLikeModel(a string) bool {
	if modelFileExts[strings.ToLower(path.Ext(a))] {
		return true
	}
	return pipeline.IsModelArtifact(a)
}

var pythonReleaseMarkers = []struct{ text, what string }{
	{"push_to_hub(", "pushes a model to a hub (push_to_hub)"},
	{"upload_folder(", "uploads to a model hub (upload_folder)"},
	{"upload_file(", "uploads to a model hub (upload_file)"},
	{"register_model(", "registers a model (register_model)"},
	{"registered_model_name=", "registers a model (registered_model_name)"},
}

// modelRelease finds the first model signing or publishing in a step and
// returns what it does and its offset in Run.
func modelRelease(st *pipeline.Step, cmds []shell.Cmd) (string, int, bool) {
	best, bestOff := "", -1
	for _, m := range pythonReleaseMarkers {
		if i := strings.Index(st.Run, m.text); i >= 0 && !isComment(st.Run, i) && (bestOff < 0 || i < bestOff) {
			best, bestOff = m.what, i
		}
	}
	for i := range cmds {
		v, ok := view(&cmds[i])
		if !ok {
			continue
		}
		what := ""
		subc, _ := sub(v.args)
		switch v.name {
		case "huggingface-cli", "hf":
			if subc == "upload" || subc == "upload-large-folder" {
				what = "uploads to the Hugging Face Hub (" + v.name + " " + subc + ")"
			}
		case "model_signing":
			if subc == "sign" {
				what = "signs a model (model_signing sign)"
			}
		case "mlgate":
			if subc == "sign" {
				what = "signs a model (mlgate sign)"
			}
		case "cosign":
			if subc == "sign-blob" || subc == "attest-blob" {
				for _, a := range v.args {
					if !strings.HasPrefix(a.Val, "-") && a.Val != subc && looksLikeModel(a.Val) {
						what = "signs model file " + truncate(a.Val, 100) + " (cosign " + subc + ")"
						break
					}
				}
			}
		default:
			if isPythonName(v.name) {
				if m, _, ok := flag(v.args, "-m"); ok && m == "model_signing" && hasWord(v.args, "sign") {
					what = "signs a model (model_signing sign)"
				}
			}
		}
		if what != "" && (bestOff < 0 || v.at.Start-0 < bestOff) {
			return what, v.at.Start, true
		}
	}
	if bestOff >= 0 {
		return best, bestOff, true
	}
	return "", 0, false
}
