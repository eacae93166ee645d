package kfp_test

import (
	"os"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

func readHead(t testing.TB, f string) []byte {
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > pipeline.SniffSize {
		b = b[:pipeline.SniffSize]
	}
	return b
}
