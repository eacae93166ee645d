package sign

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Serialization methods.
const (
	MethodFiles  = "files"
	MethodShards = "shards"
)

// DefaultShardSize is model_signing's default shard size (1 GB).
const DefaultShardSize = 1_000_000_000

// MaxShardSize bounds --shard-size (it is recorded as a JSON double, so it
// must stay exactly representable).
const MaxShardSize = 1 << 52

// ReadSize is the size of each read the hashing workers issue. 1 MiB keeps
// syscall overhead negligible against SHA-256 and stays in L2 cache
// (measured with bench/sign-bench.sh).
const ReadSize = 1 << 20

// Resource is one manifest entry: a file (method files) or a shard of a
// file (method shards) with its SHA-256 digest.
type Resource struct {
	// Name is the file's model-relative path, or "path:start:end" for a
	// shard (end exclusive).
	Name string
	// Algorithm is "sha256" for files, "sha256-sharded-<size>" for shards.
	Algorithm string
	// Digest is the raw SHA-256 digest.
	Digest []byte
	// File, Start and End locate the bytes hashed (End = Start + length).
	File       string
	Start, End int64
}

// HashOptions configures Hash.
type HashOptions struct {
	// Method is MethodFiles (default) or MethodShards.
	Method string
	// ShardSize is the shard length for MethodShards (default
	// DefaultShardSize).
	ShardSize int64
	// Workers is the number of files or shards hashed at once (default
	// GOMAXPROCS).
	Workers int
	// Progress, when set, is called from one goroutine about five times a
	// second and once at the end with the bytes hashed so far and the total.
	Progress func(done, total int64)
	// Reuse, when set, may return the digests of a file's resources (one
	// for files, one per shard for shards, in order) to skip hashing it.
	Reuse func(f File) ([][]byte, bool)
}

// MaxResources bounds the number of resources (files or shards) in one
// manifest.
const MaxResources = 1 << 20

// ShardAlgorithm is the resource algorithm model_signing records for a
// shard size.
func ShardAlgorithm(size int64) string { return "sha256-sharded-" + strconv.FormatInt(size, 10) }

// ShardName is the resource name of a shard.
func ShardName(file string, start, end int64) string {
	return file + ":" + strconv.FormatInt(start, 10) + ":" + strconv.FormatInt(end, 10)
}

// Plan lists the resources of files, without digests, in manifest order.
func Plan(files []File, method string, shardSize int64) ([]Resource, error) {
	switch method {
	case "", MethodFiles:
		out := make([]Resource, len(files))
		for i, f := range files {
			out[i] = Resource{Name: f.Name, Algorithm: "sha256", File: f.Name, Start: 0, End: f.Size}
		}
		return out, nil
	case MethodShards:
		if shardSize <= 0 || shardSize > MaxShardSize {
			return nil, fmt.Errorf("shard size %d out of range (1..%d)", shardSize, int64(MaxShardSize))
		}
		alg := ShardAlgorithm(shardSize)
		var out []Resource
		for _, f := range files {
			for s := int64(0); s < f.Size; s += shardSize {
				e := min(s+shardSize, f.Size)
				out = append(out, Resource{Name: ShardName(f.Name, s, e), Algorithm: alg, File: f.Name, Start: s, End: e})
				if len(out) > MaxResources {
					return nil, fmt.Errorf("more than %d shards; use a larger --shard-size", MaxResources)
				}
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown serialization method %q (want files or shards)", method)
}

// Hash computes the resources of files (as listed by Walk) in parallel.
func Hash(files []File, o HashOptions) ([]Resource, error) {
	if o.Method == "" {
		o.Method = MethodFiles
	}
	if o.Method == MethodShards && o.ShardSize == 0 {
		o.ShardSize = DefaultShardSize
	}
	res, err := Plan(files, o.Method, o.ShardSize)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*File, len(files))
	for i := range files {
		byName[files[i].Name] = &files[i]
	}
	// Apply the reuse cache, file by file.
	todo := make([]int, 0, len(res))
	var total int64
	for i := 0; i < len(res); {
		j := i
		for j < len(res) && res[j].File == res[i].File {
			j++
		}
		if o.Reuse != nil {
			if ds, ok := o.Reuse(*byName[res[i].File]); ok && len(ds) == j-i {
				for k := i; k < j; k++ {
					res[k].Digest = ds[k-i]
				}
				i = j
				continue
			}
		}
		for k := i; k < j; k++ {
			todo = append(todo, k)
			total += res[k].End - res[k].Start
		}
		i = j
	}
	// Largest first, so the last task does not leave a core idle.
	slices.SortStableFunc(todo, func(a, b int) int {
		la, lb := res[a].End-res[a].Start, res[b].End-res[b].Start
		switch {
		case la > lb:
			return -1
		case la < lb:
			return 1
		}
		return 0
	})
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(len(todo), 1))

	var done atomic.Int64
	stop := make(chan struct{})
	var progWG sync.WaitGroup
	if o.Progress != nil {
		progWG.Add(1)
		go func() {
			defer progWG.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					o.Progress(done.Load(), total)
					return
				case <-t.C:
					o.Progress(done.Load(), total)
				}
			}
		}()
	}

	var next atomic.Int64
	var failed atomic.Bool
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, ReadSize)
			for !failed.Load() {
				n := int(next.Add(1) - 1)
				if n >= len(todo) {
					return
				}
				r := &res[todo[n]]
				f := byName[r.File]
				d, err := hashRange(f, r.Start, r.End, o.Method == MethodFiles, buf, &done)
				if err != nil {
					errs[w] = err
					failed.Store(true)
					return
				}
				r.Digest = d
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	progWG.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return res, nil
}

// hashRange hashes bytes [start, end) of f. With toEOF the whole file is
// read and its length must still be end.
func hashRange(f *File, start, end int64, toEOF bool, buf []byte, done *atomic.Int64) ([]byte, error) {
	fh, err := openRegular(f)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	h := sha256.New()
	off := start
	for off < end {
		want := min(int64(len(buf)), end-off)
		n, err := fh.ReadAt(buf[:want], off)
		if n > 0 {
			h.Write(buf[:n])
			off += int64(n)
			done.Add(int64(n))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name, err)
		}
	}
	if off != end {
		return nil, fmt.Errorf("%s shrank while it was hashed (%d bytes expected, %d read); retry when it is no longer being written", f.Name, end, off)
	}
	if toEOF {
		if n, _ := fh.ReadAt(buf[:1], end); n > 0 {
			return nil, fmt.Errorf("%s grew while it was hashed (%d bytes expected); retry when it is no longer being written", f.Name, end)
		}
	}
	return h.Sum(nil), nil
}

// openRegular opens a file found by Walk without following a link that
// replaced it since, and checks it is still a regular file.
func openRegular(f *File) (*os.File, error) {
	fh, err := os.OpenFile(f.Path, os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Name, err)
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("stat %s: %w", f.Name, err)
	}
	if !fi.Mode().IsRegular() {
		fh.Close()
		return nil, failf(KindSpecialFile, f.Name, "%s is no longer a regular file", f.Name)
	}
	return fh, nil
}
