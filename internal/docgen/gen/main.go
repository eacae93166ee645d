// Command gen writes docs/rules from the rule registry:
//
//	go run ./internal/docgen/gen
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlgate/mlgate/internal/docgen"
	"github.com/mlgate/mlgate/internal/rules"
)

func main() {
	dir := filepath.Join("docs", "rules")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, content := range docgen.Pages(rules.All()) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
