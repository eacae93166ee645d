package pipeline

import (
	"reflect"
	"testing"
)

// wordsByRegexp is the former implementation, kept as the reference.
func wordsByRegexp(name string) []string { return wordsUnicode(name) }

func FuzzWords(f *testing.F) {
	for _, s := range []string{"trainModel", "HTTPServer", "model2Train", "sign-and-verify", "Ünïcode_Sign", "\u212aey", "\u0130nfer", "x__y  z", "", "ABC", "aB1cD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := words(s), wordsByRegexp(s); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("words(%q) = %q, want %q", s, got, want)
		}
	})
}
