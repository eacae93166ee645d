package gitlab_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

// FuzzParse feeds arbitrary bytes to the adapter as the root pipeline and
// as a locally included file, then builds and analyses what parses.
// Nothing may panic (the adapter's own recover turns a panic into an
// "internal error", which fails here), hang, or return an unpositioned
// error, and every rule must run on every graph.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"include: [inc.yml]\nstages: [build, deploy]\nbuild:\n  extends: .t\n  script: [make]\n  artifacts: {paths: [dist/]}\n  cache: {key: k, paths: [c]}\n" + mrRule +
			"deploy:\n  stage: deploy\n  environment: prod\n  needs: [build]\n  script: ['echo $CI_JOB_TOKEN | base64']\n  cache: {key: k, paths: [c]}\n",
		".a: &a {tags: [gpu], image: python}\njob:\n  <<: *a\n  script: [!reference [.a, tags]]\n  parallel: {matrix: [{T: [x, y]}]}\n",
		"workflow:\n  rules:\n    - if: $CI_MERGE_REQUEST_IID && ($X =~ /a(b/ || $Y != null)\n      when: always\njob: {script: x, only: {refs: [merge_requests], variables: [$Z == \"1\"]}}\n",
		"include:\n  - remote: http://x/y.yml\n  - project: p\n  - component: c@~latest\nt:\n  trigger:\n    include: inc.yml\n",
		"job:\n  services: [docker:dind]\n  tags: [box]\n  variables: {HF_TOKEN: hf_aaaaaaaaaaaaaaaaaaaa, CI_DEBUG_TRACE: 'true'}\n  secrets: {DB: {vault: a/b@c}}\n  id_tokens: {T: {aud: x}}\n  script: [x]\n  allow_failure: true\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), []byte(".t:\n  tags: [a100]\n  image: img:latest\ninc-job: {script: [y]}\n"))
	}
	f.Add([]byte("include: inc.yml\njob: {script: [x]}\n"), []byte("include: .gitlab-ci.yml\n"))
	f.Fuzz(func(t *testing.T, root, inc []byte) {
		files := map[string]string{".gitlab-ci.yml": string(root), "inc.yml": string(inc)}
		gs, err := gitlab.Parse(&pipeline.Source{File: ".gitlab-ci.yml", Rel: ".gitlab-ci.yml", Src: root, ReadFile: fsReader(memFS(files))})
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("panic: %v", err)
			}
			var list pipeline.SourceErrors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error without positions: %v", err)
			}
			for _, e := range list {
				if e.File == "" || e.Msg == "" {
					t.Fatalf("bad error %+v", e)
				}
			}
			if gs != nil {
				t.Fatal("graphs returned with an error")
			}
			return
		}
		for _, g := range gs {
			if err := g.Build(); err != nil {
				var ce *pipeline.CycleError
				if !errors.As(err, &ce) {
					t.Fatalf("build: %v", err)
				}
				continue
			}
			if _, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}); err != nil {
				t.Fatalf("analyze: %v", err)
			}
		}
	})
}
