//go:build unix

package dockerfile

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkToGraph parses a typical multi-stage ML Dockerfile.
func BenchmarkToGraph(b *testing.B) {
	src := []byte(`# syntax=docker/dockerfile:1
ARG CUDA=12.1.0
FROM nvidia/cuda:${CUDA}-devel-ubuntu22.04 AS build
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends \
      python3 python3-pip git curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --require-hashes -r /tmp/requirements.txt
RUN <<EOF
set -eux
python3 -c "import torch; print(torch.__version__)"
EOF
FROM nvidia/cuda:${CUDA}-runtime-ubuntu22.04
COPY --from=build /usr/local/lib/python3.10 /usr/local/lib/python3.10
RUN useradd -r -u 10001 app
USER app
ENTRYPOINT ["python3", "serve.py"]
`)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := ToGraph("Dockerfile", src); err != nil {
			b.Fatal(err)
		}
	}
	// Process CPU time per file: unlike wall time it does not grow while
	// other processes hold the cores.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
