package gitlab

import (
	"path"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
)

// Doc is the adapter's view of one GitLab pipeline, kept in Graph.Doc for
// the GitLab-specific rules.
type Doc struct {
	// Includes are every include entry met, local or not, in the order
	// they were read.
	Includes []*Include
	// Jobs are the visible jobs, in the order of Graph.Stages.
	Jobs []*Job
	// Variables are the global `variables:`.
	Variables []Variable
	// Stages is the `stages:` list (GitLab's default when absent).
	Stages []string
	// WorkflowMR says whether workflow:rules let merge-request pipelines be
	// created: True, False, or Unknown when the rules are too complex. It is
	// True when there are no workflow rules (jobs then decide).
	WorkflowMR pipeline.Tri
	// HasWorkflowRules is true when the file has workflow:rules.
	HasWorkflowRules bool
	// Partial is true when parts of the configuration could not be read
	// (remote, project, template or component includes; wildcard or
	// variable local includes; extends or !reference targets defined in
	// them). Properties that depend on them are unknown.
	Partial bool
	// Notes say what could not be resolved and why.
	Notes []Note
	// Parent is the trigger job that starts this pipeline when it is a
	// local child pipeline, else "".
	Parent string

	comments       []string
	unknownExtends []string
	extPRs         bool
}

// Note is something the adapter could not resolve.
type Note struct {
	Pos pipeline.Pos
	Msg string
}

// Include is one `include:` entry.
type Include struct {
	// Kind is local, remote, project, template or component.
	Kind string
	// Target is the file, URL, project path, template or component
	// reference as written.
	Target    string
	Pos       pipeline.Pos
	TargetPos pipeline.Pos
	// Ref and RefPos are include:project's `ref` ("" when absent: the
	// project's default branch).
	Ref    string
	RefPos pipeline.Pos
	// Files are include:project's `file` entries.
	Files []string
	// Integrity is include:remote's `integrity` (sha256-<base64>).
	Integrity string
	// Resolved is true when a local file was read and merged; File is then
	// its path as shown in findings.
	Resolved bool
	File     string
	// Skipped is true when the include's rules exclude it.
	Skipped bool
	// Reason says why the include was not read.
	Reason string
}

// Variable is a CI/CD variable defined in the file.
type Variable struct {
	Name  string
	Value string
	Pos   pipeline.Pos // the key
	// ValuePos is where the value is written.
	ValuePos pipeline.Pos
	// Literal is true when the value is plain text, not only references to
	// other variables.
	Literal bool
	// Scope is "global", "default" or "job".
	Scope string
}

// Service is a job's `services:` entry.
type Service struct {
	Name  string
	Alias string
	// Command and Entrypoint are the service's command words.
	Command []string
	Pos     pipeline.Pos
}

// Cache is one `cache:` entry.
type Cache struct {
	// Key is the cache key as written ("default" when absent; for
	// key:files the files joined with commas, prefixed "files:").
	Key    string
	Paths  []string
	Policy string // pull, push or pull-push (the default)
	// Unprotect is cache:unprotect: protected and unprotected branches
	// then share the cache.
	Unprotect bool
	Pos       pipeline.Pos
}

// Reads reports whether the cache is downloaded before the job.
func (c Cache) Reads() bool { return c.Policy != "push" }

// Writes reports whether the cache is uploaded after the job.
func (c Cache) Writes() bool { return c.Policy != "pull" }

// Need is one `needs:` or `dependencies:` entry.
type Need struct {
	Job       string
	Artifacts bool
	// Project, Ref and Pipeline are set for cross-project or
	// cross-pipeline needs.
	Project, Ref, Pipeline string
	Pos                    pipeline.Pos
}

// Job is one visible job after includes, extends, !reference and defaults.
type Job struct {
	Name  string
	Stage *pipeline.Stage
	// StageName is the job's `stage:` ("test" by default).
	StageName string
	// Variables are the job's own variables (with `default:` and global
	// ones it inherits listed in Doc.Variables).
	Variables []Variable
	// Inherited are the global variables the job inherits.
	Inherited []Variable
	Services  []Service
	// ImageUser is image:docker:user, the user the job's container runs as
	// ("" when the image decides).
	ImageUser string
	Caches    []Cache
	Needs     []Need
	// HasNeeds and HasDependencies say whether the keys were given.
	HasNeeds, HasDependencies bool
	Dependencies              []Need
	// ArtifactPaths are artifacts:paths; HasArtifacts is true for any
	// artifacts (paths, untracked, reports).
	ArtifactPaths []string
	HasArtifacts  bool
	AllowFailure  bool
	// AllowFailurePos is where allow_failure is written.
	AllowFailurePos pipeline.Pos
	When            string
	Environment     string
	ResourceGroup   string
	// Trigger is the project a trigger job starts, or "local" for child
	// pipelines; ChildIncludes are the local files of a child pipeline.
	Trigger       string
	ChildIncludes []string
	// SecretsKeyword are the names under `secrets:` and IDTokens those
	// under `id_tokens:`.
	SecretsKeyword []string
	IDTokens       []string
	// MR is whether the job runs in merge-request pipelines (see
	// docs/adapters/gitlab-ci.md); MRReason explains the verdict.
	MR       pipeline.Tri
	MRReason string
	// Matrix holds every value each parallel:matrix variable takes.
	Matrix map[string][]string
	// Tags are the runner tags after variables and matrix values are
	// substituted.
	Tags []string
}

// JobByName returns the visible job called name, or nil.
func (d *Doc) JobByName(name string) *Job {
	for _, j := range d.Jobs {
		if j.Name == name {
			return j
		}
	}
	return nil
}

// Options are the adapter's configurable defaults.
type Options struct {
	// GPUTags are runner tags (shell-style patterns, case-insensitive)
	// that select GPU runners.
	GPUTags []string
	// HostedTags are tag patterns of GitLab-hosted runners (ephemeral
	// VMs); every other tag selects a self-managed runner.
	HostedTags []string
}

// DefaultOptions returns the default tag patterns.
func DefaultOptions() Options {
	return Options{
		GPUTags: []string{"*gpu*", "cuda*", "nvidia", "nvidia-*",
			"a100*", "h100*", "h200*", "v100*", "t4", "l4", "l40*", "a10", "a10g", "rtx*", "tesla*", "saas-linux-*-gpu*"},
		HostedTags: []string{"saas-linux-*", "saas-macos-*", "saas-windows-*"},
	}
}

// matchAny reports whether tag matches one of the patterns.
func matchAny(patterns []string, tag string) bool {
	t := strings.ToLower(tag)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), t); ok {
			return true
		}
	}
	return false
}
