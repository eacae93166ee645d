// Command genspec writes a generated N-stage stage spec (see pipeline/gen)
// for benchmarks:
//
//	go run ./bench/genspec -stages 100000 > /tmp/p100k.mlgate-pipeline.yaml
//	go run ./bench/genspec -shape chain -stages 100000 > /tmp/chain.mlgate-pipeline.yaml
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
	shape := flag.String("shape", "pipelines", "pipelines (independent ML sub-pipelines) or chain (one long adversarial chain)")
	flag.Parse()
	write := gen.Spec
	switch *shape {
	case "pipelines":
	case "chain":
		write = gen.Chain
	default:
		fmt.Fprintf(os.Stderr, "genspec: unknown -shape %q\n", *shape)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	if err := write(w, *n); err != nil {
		fmt.Fprintln(os.Stderr, "genspec:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genspec:", err)
		os.Exit(1)
	}
}
