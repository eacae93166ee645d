package provenance

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlgate/mlgate/sign/cosign"
	"github.com/mlgate/mlgate/sign/dsse"
)

func digestOf(s string) string {
	d := sha256.Sum256([]byte(s))
	return hex.EncodeToString(d[:])
}

var modelFiles = []FileDigest{
	{Name: "config.json", SHA256: digestOf(`{"layers":2}`)},
	{Name: "weights/model-00001.safetensors", SHA256: digestOf("w1")},
	{Name: "weights/model-00002.safetensors", SHA256: digestOf("w2")},
}

func githubEnv() map[string]string {
	return map[string]string{
		"GITHUB_ACTIONS":             "true",
		"GITHUB_SERVER_URL":          "https://github.com",
		"GITHUB_REPOSITORY":          "acme/fraud-model",
		"GITHUB_SHA":                 "0123456789abcdef0123456789abcdef01234567",
		"GITHUB_REF":                 "refs/heads/main",
		"GITHUB_RUN_ID":              "987654321",
		"GITHUB_RUN_ATTEMPT":         "2",
		"GITHUB_WORKFLOW":            "train",
		"GITHUB_WORKFLOW_REF":        "acme/fraud-model/.github/workflows/train.yml@refs/heads/main",
		"GITHUB_EVENT_NAME":          "push",
		"GITHUB_REPOSITORY_ID":       "42",
		"GITHUB_REPOSITORY_OWNER_ID": "7",
		"RUNNER_NAME":                "GitHub Actions 12",
		"RUNNER_ENVIRONMENT":         "github-hosted",
	}
}

func lookupIn(m map[string]string) LookupFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signed(t *testing.T, s crypto.Signer, st *Statement) []byte {
	t.Helper()
	env, err := Sign(s, st)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kinds(r *Result) []Kind {
	var out []Kind
	for _, f := range r.Failures {
		out = append(out, f.Kind)
	}
	return out
}

func TestGitHubActionsStatement(t *testing.T) {
	fin := time.Date(2026, 11, 24, 17, 30, 0, 123, time.UTC)
	st := New(modelFiles, Detect(lookupIn(githubEnv()), Local{}), fin)
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"_type":                               StatementType,
		"predicateType":                       PredicateType,
		"predicate.buildDefinition.buildType": BuildTypeGitHubActions,
		"predicate.buildDefinition.externalParameters.workflow.repository":  "https://github.com/acme/fraud-model",
		"predicate.buildDefinition.externalParameters.workflow.ref":         "refs/heads/main",
		"predicate.buildDefinition.externalParameters.workflow.path":        ".github/workflows/train.yml",
		"predicate.buildDefinition.internalParameters.github.runner_name":   "GitHub Actions 12",
		"predicate.buildDefinition.internalParameters.github.workflow_name": "train",
		"predicate.runDetails.builder.id":                                   "https://github.com/actions/runner/github-hosted",
		"predicate.runDetails.metadata.invocationId":                        "https://github.com/acme/fraud-model/actions/runs/987654321/attempts/2",
		"predicate.runDetails.metadata.finishedOn":                          "2026-11-24T17:30:00Z",
	}
	for path, w := range want {
		if g := lookupPath(got, path); g != w {
			t.Errorf("%s = %v, want %q", path, g, w)
		}
	}
	deps := lookupPathAny(got, "predicate.buildDefinition.resolvedDependencies").([]any)
	dep := deps[0].(map[string]any)
	if dep["uri"] != "git+https://github.com/acme/fraud-model@refs/heads/main" ||
		dep["digest"].(map[string]any)["gitCommit"] != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("resolvedDependencies[0] = %v", dep)
	}
	if len(st.Subject) != 3 || st.Subject[0].Name != "config.json" || st.Subject[0].Digest["sha256"] != modelFiles[0].SHA256 {
		t.Errorf("subjects = %+v", st.Subject)
	}
	if _, err := ParseStatement(b); err != nil {
		t.Fatalf("own statement does not parse: %v", err)
	}
	// Self-hosted runners get their own builder id.
	env := githubEnv()
	env["RUNNER_ENVIRONMENT"] = "self-hosted"
	if id := Detect(lookupIn(env), Local{}).BuilderID; id != "https://github.com/actions/runner/self-hosted" {
		t.Errorf("self-hosted builder id = %q", id)
	}
}

func lookupPathAny(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func lookupPath(m map[string]any, path string) string {
	s, _ := lookupPathAny(m, path).(string)
	return s
}

func TestGitLabStatement(t *testing.T) {
	env := map[string]string{
		"GITLAB_CI":             "true",
		"CI_SERVER_URL":         "https://gitlab.example.com",
		"CI_PROJECT_PATH":       "ml/team/ranker",
		"CI_PROJECT_URL":        "https://gitlab.example.com/ml/team/ranker",
		"CI_COMMIT_SHA":         "89abcdef0123456789abcdef0123456789abcdef",
		"CI_COMMIT_REF_NAME":    "release",
		"CI_PIPELINE_ID":        "555",
		"CI_JOB_ID":             "777",
		"CI_JOB_URL":            "https://gitlab.example.com/ml/team/ranker/-/jobs/777",
		"CI_RUNNER_ID":          "12",
		"CI_RUNNER_DESCRIPTION": "gpu-runner-3",
		"CI_CONFIG_PATH":        "ci/train.gitlab-ci.yml",
		"CI_JOB_STARTED_AT":     "2026-11-24T16:00:00Z",
	}
	info := Detect(lookupIn(env), Local{Hostname: "ignored"})
	if info.Platform != PlatformGitLabCI || info.Ref != "refs/heads/release" ||
		info.BuilderID != "https://gitlab.example.com/ml/team/ranker/-/runners/12" ||
		info.InvocationID != "https://gitlab.example.com/ml/team/ranker/-/jobs/777" ||
		info.WorkflowPath != "ci/train.gitlab-ci.yml" || info.Commit != env["CI_COMMIT_SHA"] ||
		info.StartedOn == nil || !info.StartedOn.Equal(time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("gitlab info = %+v", info)
	}
	gl := info.Internal["gitlab"].(map[string]any)
	if gl["runner_description"] != "gpu-runner-3" || gl["pipeline_id"] != "555" {
		t.Errorf("internal = %v", gl)
	}
	env["CI_COMMIT_TAG"] = "v2.0"
	if r := Detect(lookupIn(env), Local{}).Ref; r != "refs/tags/v2.0" {
		t.Errorf("tag pipeline ref = %q", r)
	}
	st := New(modelFiles, info, time.Now())
	if !repoMatches(st.Repository(), "ml/team/ranker") || st.Commit() != env["CI_COMMIT_SHA"] {
		t.Errorf("repository %q commit %q", st.Repository(), st.Commit())
	}
}

func TestLocalGit(t *testing.T) {
	root := t.TempDir()
	gd := filepath.Join(root, ".git")
	write := func(rel, s string) {
		p := filepath.Join(gd, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commit := "fedcba9876543210fedcba9876543210fedcba98"
	write("HEAD", "ref: refs/heads/train\n")
	write("packed-refs", "# pack-refs with: peeled\n"+commit+" refs/heads/train\n")
	write("config", "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://x.invalid/other\n[remote \"origin\"]\n\turl = https://user:s3cret@GitHub.com/acme/fraud-model.git\n")
	model := filepath.Join(root, "models", "m1")
	if err := os.MkdirAll(model, 0o755); err != nil {
		t.Fatal(err)
	}
	g := ReadGit(model)
	if g.Commit != commit || g.Ref != "refs/heads/train" || g.Remote != "https://github.com/acme/fraud-model" {
		t.Fatalf("ReadGit = %+v", g)
	}
	// A loose ref wins over packed-refs.
	loose := "1111111111111111111111111111111111111111"
	write("refs/heads/train", loose+"\n")
	if g := ReadGit(model); g.Commit != loose {
		t.Fatalf("loose ref: %+v", g)
	}
	// Detached HEAD.
	write("HEAD", commit+"\n")
	if g := ReadGit(model); g.Commit != commit || g.Ref != "" {
		t.Fatalf("detached: %+v", g)
	}
	info := Detect(lookupIn(nil), Local{Hostname: "ws1", User: "alice", Git: ReadGit(model)})
	if info.Platform != PlatformLocal || info.BuilderID != "local://alice@ws1" || info.Commit != commit {
		t.Fatalf("local info = %+v", info)
	}
}

func TestNormalizeRepoURL(t *testing.T) {
	cases := map[string]string{
		"git@github.com:acme/m.git":              "https://github.com/acme/m",
		"ssh://git@gitlab.com/g/sub/p.git":       "https://gitlab.com/g/sub/p",
		"https://tok:x@github.com/acme/m/":       "https://github.com/acme/m",
		"/srv/git/repo":                          "",
		"file:///srv/git/repo":                   "",
		"https://github.com/acme/m":              "https://github.com/acme/m",
		"http://internal.example:8080/team/repo": "https://internal.example/team/repo",
	}
	for in, want := range cases {
		if got := NormalizeRepoURL(in); got != want {
			t.Errorf("NormalizeRepoURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	ec := mustKey(t)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	st := New(modelFiles, Detect(lookupIn(githubEnv()), Local{}), time.Now())
	pol := Policy{Repository: "acme/fraud-model", BuilderID: "https://github.com/actions/runner/github-hosted", Ref: "main"}
	for name, s := range map[string]crypto.Signer{"ecdsa": ec, "ed25519": ed} {
		data := signed(t, s, st)
		r, err := Verify(data, VerifyOptions{PublicKey: s.Public(), Files: modelFiles, Policy: pol})
		if err != nil || !r.OK() {
			t.Fatalf("%s: err=%v failures=%v", name, err, r.Failures)
		}
		env, _ := dsse.Parse(data)
		if env.PayloadType != PayloadType {
			t.Fatalf("payloadType %q", env.PayloadType)
		}
	}
	// Full-URL and full-ref forms of the policy match too.
	data := signed(t, ec, st)
	r, _ := Verify(data, VerifyOptions{PublicKey: ec.Public(), Files: modelFiles,
		Policy: Policy{Repository: "https://GitHub.com/acme/fraud-model.git", Ref: "refs/heads/main"}})
	if !r.OK() {
		t.Fatalf("URL policy: %v", r.Failures)
	}
}

func TestVerifyFailures(t *testing.T) {
	key := mustKey(t)
	st := New(modelFiles, Detect(lookupIn(githubEnv()), Local{}), time.Now())
	data := signed(t, key, st)

	check := func(name string, data []byte, o VerifyOptions, want ...Kind) {
		t.Helper()
		if o.PublicKey == nil {
			o.PublicKey = key.Public()
		}
		r, err := Verify(data, o)
		if err != nil {
			t.Fatalf("%s: unexpected error %v", name, err)
		}
		got := kinds(r)
		if len(got) != len(want) {
			t.Fatalf("%s: failures %v, want kinds %v", name, r.Failures, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: failures %v, want kinds %v", name, r.Failures, want)
			}
		}
	}

	check("wrong key", data, VerifyOptions{PublicKey: mustKey(t).Public(), Files: modelFiles}, KindBadSignature)

	env, _ := dsse.Parse(data)
	env.Payload = bytes.Replace(env.Payload, []byte("acme/fraud-model"), []byte("evil/fraud-model"), -1)
	tampered, _ := env.MarshalJSON()
	check("tampered payload", tampered, VerifyOptions{Files: modelFiles}, KindBadSignature)

	other, _ := dsse.Sign(key, "", "application/json", mustMarshal(t, st))
	otherB, _ := other.MarshalJSON()
	check("payload type", otherB, VerifyOptions{Files: modelFiles}, KindPayloadType)

	check("garbage", []byte("{not json"), VerifyOptions{Files: modelFiles}, KindMalformed)
	check("bare statement", mustMarshal(t, st), VerifyOptions{Files: modelFiles}, KindUnsigned)

	wrongPred := *st
	wrongPred.PredicateType = "https://model_signing/signature/v1.0"
	check("other predicate", signed(t, key, &wrongPred), VerifyOptions{Files: modelFiles}, KindNotProvenance)

	changed := append([]FileDigest(nil), modelFiles...)
	changed[1].SHA256 = digestOf("poisoned")
	check("digest mismatch", data, VerifyOptions{Files: changed}, KindDigestMismatch)
	check("missing file", data, VerifyOptions{Files: modelFiles[:2]}, KindMissingFile)
	added := append(append([]FileDigest(nil), modelFiles...), FileDigest{Name: "backdoor.pkl", SHA256: digestOf("x")})
	check("added file", data, VerifyOptions{Files: added}, KindUnexpectedFile)

	check("repo", data, VerifyOptions{Files: modelFiles, Policy: Policy{Repository: "acme/other"}}, KindRepoMismatch)
	check("repo prefix look-alike", data, VerifyOptions{Files: modelFiles, Policy: Policy{Repository: "acme/fraud"}}, KindRepoMismatch)
	check("repo other host", data, VerifyOptions{Files: modelFiles, Policy: Policy{Repository: "https://gitlab.com/acme/fraud-model"}}, KindRepoMismatch)
	check("builder", data, VerifyOptions{Files: modelFiles, Policy: Policy{BuilderID: "https://github.com/actions/runner/self-hosted"}}, KindBuilderMismatch)
	check("ref", data, VerifyOptions{Files: modelFiles, Policy: Policy{Ref: "release"}}, KindRefMismatch)
	check("ref tag vs branch", data, VerifyOptions{Files: modelFiles, Policy: Policy{Ref: "refs/tags/main"}}, KindRefMismatch)
	check("all policy fields", data, VerifyOptions{Files: modelFiles,
		Policy: Policy{Repository: "x/y", BuilderID: "b", Ref: "r"}}, KindRepoMismatch, KindBuilderMismatch, KindRefMismatch)

	// A local statement has no repository: the policy must fail, not pass.
	local := New(modelFiles, Detect(lookupIn(nil), Local{Hostname: "h", User: "u"}), time.Now())
	r, _ := Verify(signed(t, key, local), VerifyOptions{PublicKey: key.Public(), Files: modelFiles, Policy: Policy{Repository: "acme/fraud-model", Ref: "main"}})
	if got := kinds(r); len(got) != 2 || !strings.Contains(r.Failures[0].Msg, "absent") {
		t.Fatalf("absent fields: %v", r.Failures)
	}

	if _, err := Verify(data, VerifyOptions{}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
}

func TestDetachedCosignSignature(t *testing.T) {
	key := mustKey(t)
	st := New(modelFiles, Detect(lookupIn(githubEnv()), Local{}), time.Now())
	data := mustMarshal(t, st)
	raw, err := cosign.SignBlob(key, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sig := cosign.EncodeSignature(raw)
	r, err := Verify(data, VerifyOptions{PublicKey: key.Public(), DetachedSignature: sig, Files: modelFiles, Policy: Policy{Ref: "main"}})
	if err != nil || !r.OK() {
		t.Fatalf("detached: %v %v", err, r.Failures)
	}
	data2 := bytes.Replace(data, []byte("refs/heads/main"), []byte("refs/heads/evil"), 1)
	r, _ = Verify(data2, VerifyOptions{PublicKey: key.Public(), DetachedSignature: sig, Files: modelFiles})
	if k := kinds(r); len(k) != 1 || k[0] != KindBadSignature {
		t.Fatalf("tampered detached: %v", r.Failures)
	}
}

func mustMarshal(t *testing.T, st *Statement) []byte {
	t.Helper()
	b, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStatementRejects(t *testing.T) {
	st := New(modelFiles, Detect(lookupIn(githubEnv()), Local{}), time.Now())
	good := string(mustMarshal(t, st))
	cases := map[string]string{
		"no subjects":  strings.Replace(good, `"subject":[`, `"subject":[],"x":[`, 1),
		"bad hex":      strings.Replace(good, modelFiles[0].SHA256, "ZZ", 1),
		"upper hex":    strings.Replace(good, modelFiles[0].SHA256, strings.ToUpper(modelFiles[0].SHA256), 1),
		"short sha256": strings.Replace(good, modelFiles[0].SHA256, "abcd", 1),
		"dup subject":  strings.Replace(good, `"weights/model-00002.safetensors"`, `"weights/model-00001.safetensors"`, 1),
		"no builder":   strings.Replace(good, `"id":"https://github.com/actions/runner/github-hosted"`, `"id":""`, 1),
		"deep":         strings.Repeat("[", 100) + strings.Repeat("]", 100),
		"trailing":     good + "{}",
		"wrong _type":  strings.Replace(good, StatementType, "https://in-toto.io/Statement/v9", 1),
	}
	for name, in := range cases {
		if _, err := ParseStatement([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPolicyFallsBackToResolvedDependencies(t *testing.T) {
	key := mustKey(t)
	st := New(modelFiles, BuildInfo{BuildType: "https://example.com/other-builder/v1", BuilderID: "https://example.com/builder"}, time.Now())
	st.Predicate.BuildDefinition.ResolvedDependencies = []ResourceDescriptor{{
		URI:    "git+https://github.com/acme/fraud-model@refs/tags/v1.2",
		Digest: map[string]string{"gitCommit": "0123456789abcdef0123456789abcdef01234567"},
	}}
	if st.Repository() != "https://github.com/acme/fraud-model" || st.Ref() != "refs/tags/v1.2" || st.Commit() == "" {
		t.Fatalf("repository %q ref %q commit %q", st.Repository(), st.Ref(), st.Commit())
	}
	r, err := Verify(signed(t, key, st), VerifyOptions{PublicKey: key.Public(), Files: modelFiles,
		Policy: Policy{Repository: "acme/fraud-model", Ref: "v1.2", BuilderID: "https://example.com/builder"}})
	if err != nil || !r.OK() {
		t.Fatalf("%v %v", err, r.Failures)
	}
	r, _ = Verify(signed(t, key, st), VerifyOptions{PublicKey: key.Public(), Files: modelFiles, Policy: Policy{Ref: "refs/heads/v1.2"}})
	if k := kinds(r); len(k) != 1 || k[0] != KindRefMismatch {
		t.Fatalf("tag vs branch: %v", r.Failures)
	}
}
