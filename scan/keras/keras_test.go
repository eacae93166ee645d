package keras

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func zipConfig(t *testing.T, name string) []byte {
	t.Helper()
	z, err := zip.OpenReader(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name == "config.json" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			return b
		}
	}
	t.Fatal("no config.json")
	return nil
}

func kinds(ps []Problem) string {
	var k []string
	for _, p := range ps {
		k = append(k, p.Kind)
	}
	return strings.Join(k, ",")
}

func TestKerasArchives(t *testing.T) {
	for name, want := range map[string]string{
		"benign.keras":        "",
		"lambda.keras":        KindLambda,
		"custom_object.keras": KindCustom,
	} {
		if got := kinds(CheckConfig(zipConfig(t, name))); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestLegacyH5(t *testing.T) {
	for name, want := range map[string]string{"benign_legacy.h5": "", "lambda_legacy.h5": KindLambda} {
		b, _ := os.ReadFile(filepath.Join("testdata", name))
		cfg, _, found := FindH5Config(bytes.NewReader(b), int64(len(b)))
		if !found {
			t.Fatalf("%s: model_config not found", name)
		}
		if got := kinds(CheckConfig(cfg)); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if _, _, found := FindH5Config(bytes.NewReader([]byte("\x89HDF\r\n\x1a\nnothing here")), 21); found {
		t.Error("found a config in a file without one")
	}
}

func TestLookAlikes(t *testing.T) {
	for cfg, want := range map[string]string{
		`{"class_name":"Dense","module":"keras.src.layers","config":{"name":"Lambda"}}`:                   "",
		`{"class_name":"Dense","module":"tf_keras.layers"}`:                                               "",
		`{"class_name":"function","module":"builtins","config":"eval"}`:                                   KindCustom,
		`{"class_name":"TFOpLambda","config":{"function":"math.add"}}`:                                    "",
		`{"class_name":"TFOpLambda","config":{"function":"io.write_file"}}`:                               KindLambda,
		`{"class_name":"Activation","config":{"activation":{"function_type":"lambda","function":["x"]}}}`: KindLambda,
		`{"layers":[`: KindMalformed,
		strings.Repeat("[", 100) + strings.Repeat("]", 100): KindMalformed,
	} {
		if got := kinds(CheckConfig([]byte(cfg))); got != want {
			t.Errorf("%s: %q, want %q", cfg, got, want)
		}
	}
}

func FuzzCheckConfig(f *testing.F) {
	f.Add([]byte(`{"class_name":"Lambda","config":{"name":"x"}}`))
	f.Add([]byte(`{"module":"os","class_name":"system"}`))
	// The legacy HDF5 files seed the model_config search.
	for _, name := range []string{"testdata/benign_legacy.h5", "testdata/lambda_legacy.h5"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range CheckConfig(b) {
			if p.Msg == "" || len(p.Msg) > 4096 {
				t.Fatalf("bad problem %+v", p)
			}
		}
		FindH5Config(bytes.NewReader(b), int64(len(b)))
	})
}
