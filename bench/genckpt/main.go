// Command genckpt writes a PyTorch zip checkpoint as torch.save lays it out,
// without torch, for scan benchmarks:
//
//	go run ./bench/genckpt -tensors 100000 -elems 4 > /tmp/many.pt       # data.pkl ~10 MB
//	go run ./bench/genckpt -tensors 4 -elems 67108864 > /tmp/large.pt    # ~1 GiB of tensor data
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/mlgate/mlgate/scan/pickle/pickletest"
)

func main() {
	n := flag.Int("tensors", 1000, "number of tensors")
	elems := flag.Int("elems", 4, "float32 elements per tensor")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := pickletest.WriteTorchZip(w, *n, *elems); err != nil {
		fmt.Fprintln(os.Stderr, "genckpt:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genckpt:", err)
		os.Exit(1)
	}
}
