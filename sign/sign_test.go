package sign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlgate/mlgate/sign/dsse"
)

// makeModel writes a small model tree with deterministic content.
func makeModel(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	files := map[string]int{
		"config.json":             80,
		"weights/model-00001.bin": 5000,
		"weights/model-00002.bin": 4097,
		"tokenizer/vocab.txt":     300,
		"tokenizer-config.json":   20,
		"empty.bin":               0,
		".gitattributes":          10,
		".git/HEAD":               21,
		"nested/a/b/c.bin":        1024,
		"ünïcode ✓.txt":           7,
	}
	for name, size := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + len(name))
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type keyCase struct {
	name   string
	signer crypto.Signer
}

func testKeys(t *testing.T) []keyCase {
	t.Helper()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return []keyCase{{"p256", p256}, {"p384", p384}, {"p521", p521}, {"ed25519", ed}, {"rsa2048", rk}}
}

func TestRoundTripKeysAndMethods(t *testing.T) {
	model := makeModel(t)
	for _, k := range testKeys(t) {
		for _, cfg := range []HashConfig{{}, {Method: MethodShards, ShardSize: 1000}, {Method: MethodShards}} {
			t.Run(k.name+"/"+cfg.Method, func(t *testing.T) {
				out, err := Sign(model, SignOptions{HashConfig: cfg, Signer: k.signer})
				if err != nil {
					t.Fatal(err)
				}
				res, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: k.signer.Public()})
				if err != nil || !res.Verified {
					t.Fatalf("verify: %v", err)
				}
				// .git and .gitattributes are ignored; in shards mode the
				// empty file has no shard.
				want := 8
				if cfg.Method == MethodShards {
					want = 7
				}
				if res.Files != want {
					t.Errorf("signed %d files, want %d", res.Files, want)
				}
				// A different key of the same type must fail.
				other := testKeys(t)
				for _, o := range other {
					if o.name == k.name {
						if _, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: o.signer.Public()}); !isKind(err, KindWrongKey) {
							t.Errorf("other key: %v", err)
						}
					}
				}
			})
		}
	}
}

// TestP384UsesSHA384 checks the ECDSA hash follows the curve, as
// model_signing and Sigstore do.
func TestP384UsesSHA384(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	env, err := dsse.Sign(k, "", PayloadType, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	d := sha512.Sum384(dsse.PAE(PayloadType, []byte("{}")))
	if !ecdsa.VerifyASN1(&k.PublicKey, d[:], env.Signatures[0].Sig) {
		t.Fatal("P-384 signature is not over SHA-384(PAE)")
	}
}

func isKind(err error, k Kind) bool {
	var f *Failure
	return errors.As(err, &f) && f.Kind == k
}

func signModel(t *testing.T, model string, cfg HashConfig) (*SignResult, crypto.PublicKey) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	out, err := Sign(model, SignOptions{HashConfig: cfg, Signer: k})
	if err != nil {
		t.Fatal(err)
	}
	return out, &k.PublicKey
}

func TestTamperCases(t *testing.T) {
	for _, method := range []string{MethodFiles, MethodShards} {
		cfg := HashConfig{Method: method, ShardSize: 1000}
		cases := []struct {
			name   string
			mutate func(dir string)
			kind   Kind
			path   string
		}{
			{"byte-changed", func(d string) { flipByte(t, filepath.Join(d, "weights/model-00001.bin"), 4500) }, KindChanged, "weights/model-00001.bin"},
			{"added", func(d string) { os.WriteFile(filepath.Join(d, "weights/extra.bin"), []byte("x"), 0o644) }, KindAdded, "weights/extra.bin"},
			{"removed", func(d string) { os.Remove(filepath.Join(d, "config.json")) }, KindMissing, "config.json"},
			{"renamed", func(d string) {
				os.Rename(filepath.Join(d, "tokenizer/vocab.txt"), filepath.Join(d, "tokenizer/vocab2.txt"))
			}, KindMissing, "tokenizer/vocab.txt"},
			{"truncated", func(d string) { os.Truncate(filepath.Join(d, "weights/model-00002.bin"), 4000) }, map[string]Kind{MethodFiles: KindChanged, MethodShards: KindTruncated}[method], "weights/model-00002.bin"},
			{"grown", func(d string) {
				f, _ := os.OpenFile(filepath.Join(d, "config.json"), os.O_APPEND|os.O_WRONLY, 0)
				f.Write([]byte("}"))
				f.Close()
			}, KindChanged, "config.json"},
			{"nested-gitattributes-added", func(d string) { os.WriteFile(filepath.Join(d, "nested/.gitattributes"), []byte("x"), 0o644) }, KindAdded, "nested/.gitattributes"},
		}
		for _, c := range cases {
			t.Run(method+"/"+c.name, func(t *testing.T) {
				model := makeModel(t)
				out, pub := signModel(t, model, cfg)
				c.mutate(model)
				res, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: pub})
				if !isKind(err, c.kind) {
					t.Fatalf("got %v, want %s", err, c.kind)
				}
				if !strings.Contains(err.Error(), c.path) {
					t.Fatalf("message does not name %s: %v", c.path, err)
				}
				if res.Verified {
					t.Fatal("Verified set on failure")
				}
			})
		}
	}
	// Changes to root git metadata verify.
	model := makeModel(t)
	out, pub := signModel(t, model, HashConfig{})
	os.WriteFile(filepath.Join(model, ".git/HEAD"), []byte("changed"), 0o644)
	os.WriteFile(filepath.Join(model, ".gitignore"), []byte("new"), 0o644)
	if _, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: pub}); err != nil {
		t.Fatalf("git metadata change: %v", err)
	}
}

func flipByte(t *testing.T, p string, off int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 1
	f.WriteAt(b, off)
}

func TestSymlinks(t *testing.T) {
	model := makeModel(t)
	outside := filepath.Join(filepath.Dir(model), "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o644)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	// Inside link: an error unless allowed.
	os.Symlink("config.json", filepath.Join(model, "link.json"))
	if _, err := Sign(model, SignOptions{Signer: k}); !isKind(err, KindSymlink) {
		t.Fatalf("link without --allow-symlinks: %v", err)
	}
	out, err := Sign(model, SignOptions{Signer: k, HashConfig: HashConfig{AllowSymlinks: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Statement, []byte(`"name": "link.json"`)) || !bytes.Contains(out.Statement, []byte(`"allow_symlinks": true`)) {
		t.Fatal("link target not hashed / allow_symlinks not recorded")
	}
	// Verification follows the recorded allow_symlinks.
	if _, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: &k.PublicKey}); err != nil {
		t.Fatal(err)
	}
	// Escaping link: an error even when allowed, at signing and verifying.
	os.Symlink(outside, filepath.Join(model, "escape.txt"))
	if _, err := Sign(model, SignOptions{Signer: k, HashConfig: HashConfig{AllowSymlinks: true}}); !isKind(err, KindSymlinkEscape) {
		t.Fatalf("escaping link: %v", err)
	}
	if _, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: &k.PublicKey}); !isKind(err, KindSymlinkEscape) {
		t.Fatalf("verify with escaping link: %v", err)
	}
	os.Remove(filepath.Join(model, "escape.txt"))
	os.Symlink("../..", filepath.Join(model, "nested/up"))
	if _, err := Sign(model, SignOptions{Signer: k, HashConfig: HashConfig{AllowSymlinks: true}}); !isKind(err, KindSymlinkEscape) {
		t.Fatalf("escaping directory link: %v", err)
	}
	os.Remove(filepath.Join(model, "nested/up"))
	// A FIFO is a special file, never opened.
	if err := syscall.Mkfifo(filepath.Join(model, "pipe"), 0o644); err == nil {
		if _, err := Sign(model, SignOptions{Signer: k, HashConfig: HashConfig{AllowSymlinks: true}}); !isKind(err, KindSpecialFile) {
			t.Fatalf("fifo: %v", err)
		}
	}
}

func TestCorruptBundleAndUnknownPredicate(t *testing.T) {
	model := makeModel(t)
	out, pub := signModel(t, model, HashConfig{})
	for _, bad := range [][]byte{nil, []byte("{"), []byte(`{"mediaType":"x"}`), out.Bundle[:len(out.Bundle)/2], []byte("null")} {
		if _, err := Verify(model, bad, VerifyOptions{PublicKey: pub}); !isKind(err, KindCorruptBundle) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// A validly signed bundle with another predicate.
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	st := []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m","digest":{"sha256":"00"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`)
	env, _ := dsse.Sign(k, "", PayloadType, st)
	b, _ := MarshalBundle(&Bundle{MediaType: BundleMediaType, HasPublicKey: true, Envelope: env})
	if _, err := Verify(model, b, VerifyOptions{PublicKey: &k.PublicKey}); !isKind(err, KindUnknownPredicate) {
		t.Fatalf("unknown predicate: %v", err)
	}
	// Inconsistent root digest, correctly signed.
	var stm map[string]any
	json.Unmarshal(out.Statement, &stm)
	stm["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha256": strings.Repeat("ab", 32)}
	st2, _ := json.Marshal(stm)
	env, _ = dsse.Sign(k, "", PayloadType, st2)
	b, _ = MarshalBundle(&Bundle{MediaType: BundleMediaType, HasPublicKey: true, Envelope: env})
	if _, err := Verify(model, b, VerifyOptions{PublicKey: &k.PublicKey}); !isKind(err, KindInconsistent) {
		t.Fatalf("inconsistent: %v", err)
	}
	// Path traversal in a signed resource name is rejected.
	st3 := bytes.Replace(out.Statement, []byte(`"name": "config.json"`), []byte(`"name": "../config.json"`), 1)
	env, _ = dsse.Sign(k, "", PayloadType, st3)
	b, _ = MarshalBundle(&Bundle{MediaType: BundleMediaType, HasPublicKey: true, Envelope: env})
	if _, err := Verify(model, b, VerifyOptions{PublicKey: &k.PublicKey}); !isKind(err, KindCorruptBundle) {
		t.Fatalf("traversal: %v", err)
	}
	// A missing model is not a verification failure but an error.
	if _, err := Verify(filepath.Join(model, "nope"), out.Bundle, VerifyOptions{PublicKey: pub}); err == nil || IsFailure(err) {
		t.Fatalf("missing model: %v", err)
	}
}

func makeCert(t *testing.T, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer, ca bool, usage x509.KeyUsage, eku []x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: usage, ExtKeyUsage: eku, IsCA: ca, BasicConstraintsValid: true,
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestCertificateChain(t *testing.T) {
	model := makeModel(t)
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := makeCert(t, &caKey.PublicKey, nil, caKey, true, x509.KeyUsageCertSign, nil)
	interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	inter := makeCert(t, &interKey.PublicKey, ca, caKey, true, x509.KeyUsageCertSign, nil)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	leaf := makeCert(t, &leafKey.PublicKey, inter, interKey, false, x509.KeyUsageDigitalSignature, nil)

	out, err := Sign(model, SignOptions{Signer: leafKey, Certificates: []*x509.Certificate{leaf, inter}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bundle, []byte(`"x509CertificateChain":{"certificates":[{"rawBytes":`)) || bytes.Contains(out.Bundle, []byte(`"hint"`)) {
		t.Fatalf("bundle layout: %s", out.Bundle[:200])
	}
	if _, err := Verify(model, out.Bundle, VerifyOptions{Roots: []*x509.Certificate{ca}}); err != nil {
		t.Fatalf("chain: %v", err)
	}
	if _, err := Verify(model, out.Bundle, VerifyOptions{Pinned: leaf}); err != nil {
		t.Fatalf("pinned: %v", err)
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other := makeCert(t, &otherKey.PublicKey, nil, otherKey, true, x509.KeyUsageCertSign, nil)
	if _, err := Verify(model, out.Bundle, VerifyOptions{Roots: []*x509.Certificate{other}}); !isKind(err, KindUntrustedCert) {
		t.Fatalf("other root: %v", err)
	}
	if _, err := Verify(model, out.Bundle, VerifyOptions{Pinned: inter}); !isKind(err, KindWrongKey) {
		t.Fatalf("pinned other: %v", err)
	}
	if _, err := Verify(model, out.Bundle, VerifyOptions{}); err == nil || IsFailure(err) {
		t.Fatalf("no trust anchors: %v", err)
	}
	// A leaf that may not sign.
	bad := makeCert(t, &leafKey.PublicKey, inter, interKey, false, x509.KeyUsageKeyEncipherment, nil)
	out, err = Sign(model, SignOptions{Signer: leafKey, Certificates: []*x509.Certificate{bad, inter}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(model, out.Bundle, VerifyOptions{Roots: []*x509.Certificate{ca}}); !isKind(err, KindUntrustedCert) {
		t.Fatalf("no signing usage: %v", err)
	}
	// codeSigning EKU alone is enough.
	cs := makeCert(t, &leafKey.PublicKey, inter, interKey, false, 0, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning})
	out, _ = Sign(model, SignOptions{Signer: leafKey, Certificates: []*x509.Certificate{cs, inter}})
	if _, err := Verify(model, out.Bundle, VerifyOptions{Roots: []*x509.Certificate{ca}}); err != nil {
		t.Fatalf("codeSigning: %v", err)
	}
	// Certificate must hold the signer's key.
	if _, err := Sign(model, SignOptions{Signer: otherKey, Certificates: []*x509.Certificate{leaf}}); err == nil {
		t.Fatal("mismatched certificate accepted")
	}
}

func TestReuse(t *testing.T) {
	model := makeModel(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sigPath := filepath.Join(t.TempDir(), "m.sig")
	out, err := Sign(model, SignOptions{Signer: k, SignaturePath: sigPath})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(sigPath, out.Bundle, 0o644)
	if err := WriteCache(sigPath+CacheSuffix, out.Manifest, out.Files); err != nil {
		t.Fatal(err)
	}
	// Change one file's content but restore its size and mtime: ctime
	// still differs, so it must be re-hashed.
	p := filepath.Join(model, "config.json")
	fi, _ := os.Stat(p)
	time.Sleep(10 * time.Millisecond)
	flipByte(t, p, 3)
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	if fi2, _ := os.Stat(p); statOf(fi2) == statOf(fi) {
		t.Skip("file system timestamps too coarse to see the change")
	}
	r, err := LoadReuse(sigPath, VerifyOptions{PublicKey: &k.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	var hashed int64
	out2, err := Sign(model, SignOptions{Signer: k, SignaturePath: sigPath, Reuse: r, HashConfig: HashConfig{Progress: func(d, _ int64) { hashed = d }}})
	if err != nil {
		t.Fatal(err)
	}
	if hashed != 80 {
		t.Errorf("hashed %d bytes, want only config.json's 80", hashed)
	}
	if _, err := Verify(model, out2.Bundle, VerifyOptions{PublicKey: &k.PublicKey}); err != nil {
		t.Fatalf("re-signed model: %v", err)
	}
	if bytes.Equal(out.Manifest.RootDigest, out2.Manifest.RootDigest) {
		t.Fatal("changed file reused")
	}
	// A cache whose digests disagree with the signature is not trusted.
	var c cacheFile
	data, _ := os.ReadFile(sigPath + CacheSuffix)
	json.Unmarshal(data, &c)
	e := c.Files["tokenizer/vocab.txt"]
	e.Digests = []string{strings.Repeat("00", 32)}
	c.Files["tokenizer/vocab.txt"] = e
	data, _ = json.Marshal(c)
	os.WriteFile(sigPath+CacheSuffix, data, 0o644)
	r, _ = LoadReuse(sigPath, VerifyOptions{PublicKey: &k.PublicKey})
	files, _ := Walk(model, WalkOptions{Ignore: DefaultIgnorePaths})
	for _, f := range files {
		_, ok := r.Lookup(f, Serialization{Method: MethodFiles})
		if f.Name == "tokenizer/vocab.txt" && ok {
			t.Error("cache entry with a foreign digest was used")
		}
		if f.Name == "tokenizer-config.json" && !ok {
			t.Error("unchanged file not reused")
		}
		if _, ok := r.Lookup(f, Serialization{Method: MethodShards, ShardSize: 10}); ok {
			t.Error("reused across methods")
		}
	}
}

func TestOnly(t *testing.T) {
	model := makeModel(t)
	out, pub := signModel(t, model, HashConfig{})
	flipByte(t, filepath.Join(model, "weights/model-00001.bin"), 1)
	res, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: pub, Only: []string{"config.json", "tokenizer/vocab.txt"}})
	if err != nil || !res.Partial || res.Checked != 2 || res.Bytes != 380 {
		t.Fatalf("only: %+v %v", res, err)
	}
	if _, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: pub, Only: []string{"weights/model-00001.bin"}}); !isKind(err, KindChanged) {
		t.Fatalf("only changed: %v", err)
	}
	if _, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: pub, Only: []string{"nope.bin"}}); !isKind(err, KindMissing) {
		t.Fatalf("only unknown: %v", err)
	}
	// The signature is checked over all digests even with --only.
	bad := bytes.Replace(out.Bundle, []byte(`"sig":"M`), []byte(`"sig":"N`), 1)
	if _, err := Verify(model, bad, VerifyOptions{PublicKey: pub, Only: []string{"config.json"}}); !isKind(err, KindBadSignature) && !isKind(err, KindCorruptBundle) {
		t.Fatalf("only with bad signature: %v", err)
	}
}

func TestSignatureInsideModelIgnored(t *testing.T) {
	model := makeModel(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sigPath := filepath.Join(model, "model.sig")
	out, err := Sign(model, SignOptions{Signer: k, SignaturePath: sigPath})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out.Statement, []byte(`"model.sig"`)) || !bytes.Contains(out.Statement, []byte(`"model.sig.cache"`)) {
		t.Fatal("signature path not recorded in ignore_paths")
	}
	os.WriteFile(sigPath, out.Bundle, 0o644)
	os.WriteFile(sigPath+CacheSuffix, []byte("{}"), 0o644)
	if _, err := Verify(model, out.Bundle, VerifyOptions{PublicKey: &k.PublicKey, SignaturePath: sigPath}); err != nil {
		t.Fatal(err)
	}
}

func TestPythonEscapes(t *testing.T) {
	if got := pyString("😀é\x7f\x01\"\\/"); got != `"\ud83d\ude00\u00e9\u007f\u0001\"\\/"` {
		t.Errorf("pyString: %s", got)
	}
	if got := pyBytesRepr([]byte("a'b\"\n\x00\xff\\")); got != `b'a\'b"\n\x00\xff\\'` {
		t.Errorf("repr: %s", got)
	}
	if got := pyBytesRepr([]byte("it's")); got != `b"it's"` {
		t.Errorf("repr: %s", got)
	}
}

func TestComparePaths(t *testing.T) {
	// Component-wise: "tokenizer/vocab.txt" < "tokenizer-config.json".
	if comparePaths("tokenizer/vocab.txt", "tokenizer-config.json") >= 0 {
		t.Error("component order")
	}
	if comparePaths("a", "a/b") >= 0 || comparePaths("a/b", "a") <= 0 || comparePaths("a/b", "a/b") != 0 {
		t.Error("prefix order")
	}
}

func TestShardSizeAsIntOrFloat(t *testing.T) {
	_, p := refPayload(t, "model-a.shards.sig")
	for _, v := range []string{"1024", "1024.0", "1.024e3"} {
		m, err := ParseStatement(bytes.Replace(p, []byte(`"shard_size": 1024.0`), []byte(`"shard_size": `+v), 1))
		if err != nil || m.Serialization.ShardSize != 1024 {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"1024.5", "0", "-1", `"1024"`, "1e300"} {
		if _, err := ParseStatement(bytes.Replace(p, []byte(`"shard_size": 1024.0`), []byte(`"shard_size": `+v), 1)); err == nil {
			t.Errorf("%s accepted", v)
		}
	}
}

func TestEmptyAndSingleFileModels(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty-model")
	os.Mkdir(empty, 0o755)
	out, pub := signModel(t, empty, HashConfig{})
	if !bytes.Contains(out.Statement, []byte(`"resources": []`)) {
		t.Fatalf("empty model statement:\n%s", out.Statement)
	}
	if _, err := Verify(empty, out.Bundle, VerifyOptions{PublicKey: pub}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(empty, "new.bin"), nil, 0o644)
	if _, err := Verify(empty, out.Bundle, VerifyOptions{PublicKey: pub}); !isKind(err, KindAdded) {
		t.Fatalf("file added to empty model: %v", err)
	}
	single := filepath.Join(makeModel(t), "config.json")
	out, pub = signModel(t, single, HashConfig{Method: MethodShards, ShardSize: 16})
	if out.Manifest.ModelName != "config.json" || out.Manifest.Resources[0].Name != ".:0:16" {
		t.Fatalf("single file: %q %q", out.Manifest.ModelName, out.Manifest.Resources[0].Name)
	}
	if _, err := Verify(single, out.Bundle, VerifyOptions{PublicKey: pub}); err != nil {
		t.Fatal(err)
	}
	os.Truncate(single, 70)
	if _, err := Verify(single, out.Bundle, VerifyOptions{PublicKey: pub}); !isKind(err, KindTruncated) {
		t.Fatalf("truncated single file: %v", err)
	}
}

// A signature made with another key (say, forged and shipped next to the
// model with a matching cache) is never a source of reused digests.
func TestReuseRefusesAForeignSignature(t *testing.T) {
	model := makeModel(t)
	mine, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	theirs, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sigPath := filepath.Join(t.TempDir(), "m.sig")
	out, err := Sign(model, SignOptions{Signer: theirs, SignaturePath: sigPath})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(sigPath, out.Bundle, 0o644)
	if err := WriteCache(sigPath+CacheSuffix, out.Manifest, out.Files); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadReuse(sigPath, VerifyOptions{PublicKey: &mine.PublicKey}); err == nil {
		t.Fatal("digests of a signature by another key were accepted for reuse")
	}
	if _, err := LoadReuse(sigPath, VerifyOptions{PublicKey: &theirs.PublicKey}); err != nil {
		t.Fatalf("own signature refused: %v", err)
	}
}
