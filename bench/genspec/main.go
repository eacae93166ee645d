// Command genspec writes a generated N-stage stage spec (see pipeline/gen)
// for benchmarks:
//
//	go run ./bench/genspec -stages 100000 > /tmp/p100k.mlgate-pipeline.yaml
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/mlgate/mlgate/pipeline/gen"
)

func main() {
	n := flag.Int("stages", 10000, "number of stages (rounded up to whole sub-pipelines of 8)")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	if err := gen.Spec(w, *n); err != nil {
		fmt.Fprintln(os.Stderr, "genspec:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genspec:", err)
		os.Exit(1)
	}
}
