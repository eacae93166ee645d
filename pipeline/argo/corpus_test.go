package argo_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/argo"
	"github.com/mlgate/mlgate/pipeline/k8s/k8stest"
)

// TestCorpus parses every Argo file of the shared corpus
// (../shared/corpora/pipelines/argo/examples and argo/kfp-compiled): each
// must be sniffed, parse without error into at least one stage (except
// the documents listed in noStages, which are checked to really have no
// templates) and pass every rule without a panic.
var (
	kindLine      = regexp.MustCompile(`(?m)^kind:\s*(\w+)`)
	workflowKinds = map[string]bool{"Workflow": true, "WorkflowTemplate": true, "ClusterWorkflowTemplate": true, "CronWorkflow": true}
)

func TestCorpus(t *testing.T) {
	a := pipeline.AdapterFor(argo.Format)
	total, stages, graphs := 0, 0, 0
	var all []k8stest.Result
	var empty, others []string
	for _, sub := range []string{"examples", "kfp-compiled"} {
		dir := k8stest.SharedDir(filepath.Join("corpora", "pipelines", "argo", sub))
		if dir == "" {
			t.Skip("shared corpus not present")
		}
		for _, f := range k8stest.Files(t, dir) {
			total++
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			head := src
			if len(head) > pipeline.SniffSize {
				head = head[:pipeline.SniffSize]
			}
			if !argo.Sniff(head) {
				// Other Kubernetes kinds shipped with the examples
				// (ConfigMap, PVC, ResourceQuota, WorkflowEventBinding)
				// are not workflows and must not be claimed.
				if m := kindLine.FindSubmatch(src); m != nil && workflowKinds[string(m[1])] {
					t.Errorf("%s: a %s not sniffed as Argo", f, m[1])
				}
				others = append(others, filepath.Base(f))
				continue
			}
			r := k8stest.Run(t, a, f)
			if r.Err != nil {
				t.Errorf("%s: %v", f, r.Err)
				continue
			}
			graphs += len(r.Graphs)
			for _, g := range r.Graphs {
				if len(g.Stages) > 0 {
					continue
				}
				// Only a document that defines no template (it runs a
				// WorkflowTemplate from elsewhere via workflowTemplateRef)
				// may give no stages.
				if _, x := argo.ExtraOf(g); x == nil || x.TemplateCount > 0 {
					t.Errorf("%s: a workflow document with templates gave no stages", f)
				}
				empty = append(empty, filepath.Base(f))
			}
			stages += r.Stages
			all = append(all, r)
		}
	}
	t.Logf("Argo corpus: %d files, %d workflow documents, %d stages; documents without templates (workflowTemplateRef only): %v; other Kubernetes kinds skipped: %v\nfindings per rule:\n%s",
		total, graphs, stages, empty, others, k8stest.Summary(all))
	if testing.Verbose() {
		for _, r := range all {
			for _, f := range r.Findings {
				if strings.HasPrefix(f.RuleID, "pipeline/argo-") || strings.HasPrefix(f.RuleID, "pipeline/k8s-") {
					t.Logf("%s:%d:%d %s %s", filepath.Base(r.File), f.Location.Line, f.Location.Column, f.RuleID, f.Message)
				}
			}
		}
	}
}
