package sign

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// CacheSuffix names the reuse cache written next to a signature
// (model.sig -> model.sig.cache). The cache is unsigned and outside the
// bundle, so the bundle keeps the exact reference layout.
const CacheSuffix = ".cache"

// maxCacheSize bounds a cache file.
const maxCacheSize = 512 << 20

// cacheFile is the JSON form of a reuse cache.
type cacheFile struct {
	Version   int                   `json:"version"`
	Method    string                `json:"method"`
	ShardSize int64                 `json:"shard_size,omitempty"`
	Files     map[string]cacheEntry `json:"files"`
}

type cacheEntry struct {
	FileStat
	Digests []string `json:"digests"`
}

// Reuse lets Sign skip files that have not changed since an earlier
// signature. A file's digests are reused only when (1) the cache next to
// the old signature records the same size, mtime, ctime, inode and device
// as the file has now, (2) the old signature's statement lists exactly the
// digests the cache recorded for it, and (3) the serialization method and
// shard size are unchanged. The digests come from the old signature's
// statement; the cache only says which files are unchanged.
type Reuse struct {
	ser   Serialization
	stats map[string]FileStat
	sig   map[string][][]byte
}

// LoadReuse reads an old signature and its cache (oldSig + CacheSuffix).
// A missing cache is not an error: nothing is reused. The old signature
// must verify with vo (the signing key's public key, or the signing
// certificate pinned): digests are only ever reused from a statement the
// same signer signed, never from a file someone could have forged next to
// the model.
func LoadReuse(oldSig string, vo VerifyOptions) (*Reuse, error) {
	data, err := readBounded(oldSig, MaxBundleSize)
	if err != nil {
		return nil, err
	}
	m, _, err := VerifyBundle(data, vo)
	if err != nil {
		return nil, fmt.Errorf("--reuse %s: the old signature does not verify with the signing key, so none of its digests can be reused: %w", oldSig, err)
	}
	r := &Reuse{ser: m.Serialization, sig: map[string][][]byte{}, stats: map[string]FileStat{}}
	for _, res := range m.Resources {
		r.sig[res.File] = append(r.sig[res.File], res.Digest)
	}
	cdata, err := readBounded(oldSig+CacheSuffix, maxCacheSize)
	if os.IsNotExist(err) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	var c cacheFile
	if err := json.Unmarshal(cdata, &c); err != nil || c.Version != 1 {
		return r, nil // an unreadable cache only costs time
	}
	if c.Method != m.Serialization.Method || c.ShardSize != m.Serialization.ShardSize {
		return r, nil
	}
	for name, e := range c.Files {
		ds := r.sig[name]
		if len(ds) != len(e.Digests) {
			continue
		}
		ok := true
		for i, h := range e.Digests {
			d, err := hex.DecodeString(h)
			if err != nil || !bytes.Equal(d, ds[i]) {
				ok = false
				break
			}
		}
		if ok {
			r.stats[name] = e.FileStat
		}
	}
	return r, nil
}

// Lookup returns the old digests of f when it is unchanged and ser matches
// the old serialization.
func (r *Reuse) Lookup(f File, ser Serialization) ([][]byte, bool) {
	if r == nil || ser.Method != r.ser.Method || ser.ShardSize != r.ser.ShardSize {
		return nil, false
	}
	st, ok := r.stats[f.Name]
	if !ok || st != f.Stat || st.Inode == 0 && st.MtimeNS == 0 {
		return nil, false
	}
	return r.sig[f.Name], true
}

// Reused reports how many files the cache can supply (for messages).
func (r *Reuse) Reused() int {
	if r == nil {
		return 0
	}
	return len(r.stats)
}

// WriteCache writes the reuse cache for a manifest built from files.
func WriteCache(path string, m *Manifest, files []File) error {
	c := cacheFile{Version: 1, Method: m.Serialization.Method, ShardSize: m.Serialization.ShardSize, Files: map[string]cacheEntry{}}
	byFile := map[string][]string{}
	for _, r := range m.Resources {
		byFile[r.File] = append(byFile[r.File], hex.EncodeToString(r.Digest))
	}
	for _, f := range files {
		c.Files[f.Name] = cacheEntry{FileStat: f.Stat, Digests: byFile[f.Name]}
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func readBounded(path string, limit int64) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
