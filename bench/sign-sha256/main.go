// Command sign-sha256 is the throughput ceiling for bench/sign-bench.sh: it
// hashes the files named on the command line with SHA-256, one file per
// worker at a time, GOMAXPROCS workers, 1 MiB reads, and nothing else (no
// walk, no manifest, no signature).
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

func main() {
	files := os.Args[1:]
	var next, total atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				f, err := os.Open(files[i])
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				h := sha256.New()
				n, err := io.CopyBuffer(h, f, buf)
				f.Close()
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				total.Add(n)
				_ = h.Sum(nil)
			}
		}()
	}
	wg.Wait()
	fmt.Println(total.Load())
}
