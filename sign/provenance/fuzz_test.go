package provenance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"
)

// FuzzParseStatement feeds arbitrary bytes to the statement parser, the
// verification entry point (envelope sniffing and DSSE parsing), the policy
// accessors and the git config reader. None may panic; whatever the parser
// accepts must marshal and parse again.
func FuzzParseStatement(f *testing.F) {
	st := New([]FileDigest{{Name: "a.bin", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
		Detect(func(k string) (string, bool) {
			v, ok := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}[k]
			return v, ok
		}, Local{}), time.Unix(1700000000, 0))
	seed, _ := st.Marshal()
	f.Add(seed)
	f.Add([]byte(`{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"AAAA","keyid":""}]}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"00"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"b","resolvedDependencies":[{"uri":"git+https://h/o/r@refs/tags/v1"}]},"runDetails":{"builder":{"id":"i"}}}}`))
	f.Add([]byte("[remote \"origin\"]\n\turl = git@github.com:o/r.git\n"))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	files := []FileDigest{{Name: "a.bin", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}
	pol := Policy{Repository: "o/r", BuilderID: "x", Ref: "main"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := ParseStatement(data); err == nil {
			_, _, _ = s.Repository(), s.Ref(), s.Commit()
			r := &Result{}
			checkSubjects(s, files, r)
			checkPolicy(s, pol, r)
			if b, err := s.Marshal(); err == nil {
				if _, err := ParseStatement(b); err != nil {
					t.Fatalf("accepted statement does not survive a round trip: %v\n%s", err, b)
				}
			}
		}
		if r, err := Verify(data, VerifyOptions{PublicKey: key.Public(), Files: files, Policy: pol}); err != nil || r.OK() {
			t.Fatalf("unsigned input verified: %v %+v", err, r)
		}
		if r := VerifyStatement(data, VerifyOptions{Files: files, Policy: pol}); r.OK() {
			t.Fatal("a statement satisfied an unsatisfiable policy")
		}
		_ = originURL(data)
		_ = NormalizeRepoURL(string(data))
	})
}
