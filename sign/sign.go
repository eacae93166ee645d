// Package sign hashes ML models and signs and verifies them in the OpenSSF
// Model Signing format (OMS v1.0), interoperable with the reference Python
// implementation model_signing (github.com/sigstore/model-transparency).
//
// A model is a file or a directory. Walk lists its regular files in the
// order model_signing uses (component-wise sorted POSIX paths relative to
// the root; "." for a single-file model), skipping ignored paths (by default
// the root's .git, .gitattributes, .github and .gitignore). Hash computes
// the resources in parallel: one SHA-256 per file (method "files") or per
// byte range of ShardSize bytes ("shards", named "path:start:end"). The
// manifest's root digest is SHA-256 over the concatenated raw resource
// digests. The signature is a Sigstore bundle v0.3 holding a DSSE envelope
// over an in-toto Statement v1 with predicate type
// https://model_signing/signature/v1.0 (see StatementJSON, MarshalBundle).
//
// Verify checks the bundle's signature, then re-hashes the model with the
// serialization recorded in the signature and reports every changed, added,
// missing or truncated file. Verification failures are *Failure values;
// any other error means verification could not run.
package sign

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlgate/mlgate/sign/dsse"
	"github.com/mlgate/mlgate/sign/keys"
)

// HashConfig selects what is hashed and how; it is shared by signing,
// verification and the digest command.
type HashConfig struct {
	// Method is MethodFiles (default) or MethodShards.
	Method string
	// ShardSize for MethodShards (default DefaultShardSize).
	ShardSize int64
	// IgnorePaths are model-relative paths to leave out, in addition to the
	// git paths.
	IgnorePaths []string
	// IncludeGitPaths hashes .git, .gitattributes, .github and .gitignore
	// at the root too (they are ignored by default).
	IncludeGitPaths bool
	// AllowSymlinks: see WalkOptions.
	AllowSymlinks bool
	// Workers, Progress: see HashOptions.
	Workers  int
	Progress func(done, total int64)
}

// ignoreList is the recorded ignore_paths list: user paths (sorted,
// deduplicated) then the git paths, in the order the reference fixtures
// show. model_signing's own order comes from a Python frozenset and is
// arbitrary; verifiers treat the list as a set.
func (c *HashConfig) ignoreList() []string {
	user := normIgnores(c.IgnorePaths)
	slices.Sort(user)
	user = slices.Compact(user)
	var out []string
	for _, p := range user {
		if c.IncludeGitPaths || !slices.Contains(DefaultIgnorePaths, p) {
			out = append(out, p)
		}
	}
	if !c.IncludeGitPaths {
		out = append(out, DefaultIgnorePaths...)
	}
	return out
}

// Serialization returns the serialization section c records.
func (c *HashConfig) Serialization() Serialization {
	s := Serialization{Method: c.Method, HashType: "sha256", AllowSymlinks: c.AllowSymlinks, IgnorePaths: c.ignoreList()}
	if s.Method == "" {
		s.Method = MethodFiles
	}
	if s.Method == MethodShards {
		s.ShardSize = c.ShardSize
		if s.ShardSize == 0 {
			s.ShardSize = DefaultShardSize
		}
	}
	return s
}

// BuildManifest walks and hashes a model. reuse may be nil.
func BuildManifest(modelPath string, c HashConfig, reuse *Reuse) (*Manifest, []File, error) {
	ser := c.Serialization()
	if ser.Method != MethodFiles && ser.Method != MethodShards {
		return nil, nil, fmt.Errorf("unknown method %q (want files or shards)", ser.Method)
	}
	files, err := Walk(modelPath, WalkOptions{AllowSymlinks: c.AllowSymlinks, Ignore: ser.IgnorePaths})
	if err != nil {
		return nil, nil, err
	}
	ho := HashOptions{Method: ser.Method, ShardSize: ser.ShardSize, Workers: c.Workers, Progress: c.Progress}
	if reuse != nil {
		ho.Reuse = func(f File) ([][]byte, bool) { return reuse.Lookup(f, ser) }
	}
	res, err := Hash(files, ho)
	if err != nil {
		return nil, nil, err
	}
	m := &Manifest{ModelName: ModelName(modelPath), Serialization: ser, Resources: res}
	m.RootDigest = RootDigest(res)
	return m, files, nil
}

// SignOptions configures Sign.
type SignOptions struct {
	HashConfig
	// Signer signs the statement (ECDSA P-256/P-384/P-521, Ed25519 or RSA;
	// model_signing itself verifies only ECDSA).
	Signer crypto.Signer
	// Certificates, when set, is the signing certificate followed by its
	// chain; the bundle then carries x509CertificateChain instead of a key
	// hint. The first certificate's key must be Signer's.
	Certificates []*x509.Certificate
	// SignaturePath is where the bundle will be written; when it lies inside
	// the model directory it (and its reuse cache) is ignored and recorded
	// in ignore_paths, as model_signing does.
	SignaturePath string
	// Reuse supplies digests of unchanged files from an earlier signature.
	Reuse *Reuse
}

// SignResult is what Sign produced.
type SignResult struct {
	Bundle   []byte
	Manifest *Manifest
	Files    []File
	// Statement is the signed payload.
	Statement []byte
}

// Sign hashes a model and signs it, returning the bundle bytes.
func Sign(modelPath string, o SignOptions) (*SignResult, error) {
	if o.Signer == nil {
		return nil, errors.New("no signing key")
	}
	if err := keys.CheckPublicKey(o.Signer.Public()); err != nil {
		return nil, err
	}
	if len(o.Certificates) > 0 && !keys.Equal(o.Certificates[0].PublicKey, o.Signer.Public()) {
		return nil, errors.New("the signing certificate does not hold the signing key's public key")
	}
	c := o.HashConfig
	c.IgnorePaths = append(slices.Clone(c.IgnorePaths), insideModel(modelPath, o.SignaturePath, o.SignaturePath+CacheSuffix)...)
	m, files, err := BuildManifest(modelPath, c, o.Reuse)
	if err != nil {
		return nil, err
	}
	st, err := StatementJSON(m)
	if err != nil {
		return nil, err
	}
	env, err := dsse.Sign(o.Signer, "", PayloadType, st)
	if err != nil {
		return nil, err
	}
	b := &Bundle{MediaType: BundleMediaType, Envelope: env, Certificates: o.Certificates}
	if len(o.Certificates) == 0 {
		b.HasPublicKey = true
		if b.Hint, err = keys.Hint(o.Signer.Public()); err != nil {
			return nil, err
		}
	}
	data, err := MarshalBundle(b)
	if err != nil {
		return nil, err
	}
	return &SignResult{Bundle: data, Manifest: m, Files: files, Statement: st}, nil
}

// insideModel returns the model-relative forms of the paths that lie inside
// the model directory.
func insideModel(modelPath string, paths ...string) []string {
	var out []string
	root, err := filepath.Abs(modelPath)
	if err != nil {
		return nil
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	for _, p := range paths {
		if p == "" || p == CacheSuffix {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if d, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
			abs = filepath.Join(d, filepath.Base(abs))
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

// ResolveIgnorePaths turns --ignore-paths arguments into model-relative
// paths the way model_signing's CLI does: a path is taken relative to the
// current directory (or absolute) and kept if it lies inside the model;
// otherwise, if it is a clean relative path, it is taken as relative to the
// model root. Other paths are dropped and returned in dropped.
func ResolveIgnorePaths(modelPath string, args []string) (rel, dropped []string) {
	for _, a := range args {
		if in := insideModel(modelPath, a); len(in) == 1 {
			if _, err := os.Lstat(a); err == nil || filepath.IsAbs(a) {
				rel = append(rel, in[0])
				continue
			}
		}
		if n := normIgnores([]string{a}); len(n) == 1 && !filepath.IsAbs(a) {
			rel = append(rel, n[0])
			continue
		}
		dropped = append(dropped, a)
	}
	return rel, dropped
}

// ResolveIgnorePathsInside returns the model-relative forms of those paths
// that lie inside the model directory (e.g. an output file written there).
func ResolveIgnorePathsInside(modelPath string, paths ...string) []string {
	return insideModel(modelPath, paths...)
}
