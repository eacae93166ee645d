package provenance

import (
	"strings"
	"time"
)

// Build types this package writes. GitHub Actions runs use the build type
// GitHub's own artifact attestations use, so that policy engines that know
// it read mlgate's provenance unchanged; GitLab CI and local runs use
// build types defined by mlgate (documented in docs/provenance.md).
const (
	BuildTypeGitHubActions = "https://actions.github.io/buildtypes/workflow/v1"
	BuildTypeGitLabCI      = "https://github.com/mlgate/mlgate/blob/main/docs/provenance.md#gitlab-ci-v1"
	BuildTypeLocal         = "https://github.com/mlgate/mlgate/blob/main/docs/provenance.md#local-v1"
)

// Platform names returned in BuildInfo.Platform.
const (
	PlatformGitHubActions = "github-actions"
	PlatformGitLabCI      = "gitlab-ci"
	PlatformLocal         = "local"
)

// BuildInfo is what the build environment says about the run. Detect fills
// it; callers may override any field before calling New.
type BuildInfo struct {
	// Platform is PlatformGitHubActions, PlatformGitLabCI or PlatformLocal.
	Platform string
	// BuildType is the SLSA buildType URI.
	BuildType string
	// BuilderID is runDetails.builder.id (seed field "builder").
	BuilderID string
	// InvocationID is runDetails.metadata.invocationId, a URL of the run
	// when the platform has one (seed field "run_id").
	InvocationID string
	// Repository is the source repository URL (https://host/owner/repo).
	Repository string
	// Ref is the git ref that was built (refs/heads/x, refs/tags/v1).
	Ref string
	// Commit is the git commit SHA that was built (seed field "commit").
	Commit string
	// WorkflowPath is the pipeline definition file in the repository
	// (seed field "pipeline").
	WorkflowPath string
	// Internal holds platform details for buildDefinition.internalParameters
	// (workflow name, runner name — seed field "runner" —, run ids).
	Internal map[string]any
	// StartedOn is when the run started, if the platform says.
	StartedOn *time.Time
}

// LookupFunc reads an environment variable; os.LookupEnv fits.
type LookupFunc func(string) (string, bool)

// Local describes the machine for local runs; the CLI fills it from
// os.Hostname, the current user and the git checkout around the model.
type Local struct {
	Hostname string
	User     string
	// Git is what ReadGit found, or the zero value.
	Git GitInfo
}

// Detect reads the CI environment through lookup and returns the build
// information: GitHub Actions when GITHUB_ACTIONS=true, GitLab CI when
// GITLAB_CI=true, otherwise a local build described by local.
func Detect(lookup LookupFunc, local Local) BuildInfo {
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	switch {
	case get("GITHUB_ACTIONS") == "true":
		return github(get)
	case get("GITLAB_CI") == "true":
		return gitlab(get)
	}
	return localInfo(local)
}

func github(get func(string) string) BuildInfo {
	server := strings.TrimRight(get("GITHUB_SERVER_URL"), "/")
	if server == "" {
		server = "https://github.com"
	}
	repo := get("GITHUB_REPOSITORY")
	b := BuildInfo{
		Platform:  PlatformGitHubActions,
		BuildType: BuildTypeGitHubActions,
		Ref:       get("GITHUB_REF"),
		Commit:    get("GITHUB_SHA"),
	}
	if repo != "" {
		b.Repository = server + "/" + repo
	}
	// GITHUB_WORKFLOW_REF is "owner/repo/.github/workflows/f.yml@refs/heads/main".
	if wr := get("GITHUB_WORKFLOW_REF"); wr != "" {
		p := wr
		if i := strings.LastIndex(p, "@"); i >= 0 {
			p = p[:i]
		}
		if repo != "" {
			p = strings.TrimPrefix(p, repo+"/")
		}
		b.WorkflowPath = p
	}
	switch env := get("RUNNER_ENVIRONMENT"); env {
	case "github-hosted", "self-hosted":
		b.BuilderID = "https://github.com/actions/runner/" + env
	default:
		b.BuilderID = "https://github.com/actions/runner"
	}
	if id := get("GITHUB_RUN_ID"); id != "" && repo != "" {
		b.InvocationID = server + "/" + repo + "/actions/runs/" + id
		if a := get("GITHUB_RUN_ATTEMPT"); a != "" {
			b.InvocationID += "/attempts/" + a
		}
	}
	gh := map[string]any{}
	put(gh, "event_name", get("GITHUB_EVENT_NAME"))
	put(gh, "repository_id", get("GITHUB_REPOSITORY_ID"))
	put(gh, "repository_owner_id", get("GITHUB_REPOSITORY_OWNER_ID"))
	put(gh, "runner_environment", get("RUNNER_ENVIRONMENT"))
	put(gh, "workflow_name", get("GITHUB_WORKFLOW"))
	put(gh, "run_id", get("GITHUB_RUN_ID"))
	put(gh, "run_attempt", get("GITHUB_RUN_ATTEMPT"))
	put(gh, "job", get("GITHUB_JOB"))
	put(gh, "runner_name", get("RUNNER_NAME"))
	put(gh, "runner_os", get("RUNNER_OS"))
	put(gh, "runner_arch", get("RUNNER_ARCH"))
	b.Internal = map[string]any{"github": gh}
	return b
}

func gitlab(get func(string) string) BuildInfo {
	server := strings.TrimRight(get("CI_SERVER_URL"), "/")
	project := get("CI_PROJECT_PATH")
	b := BuildInfo{
		Platform:     PlatformGitLabCI,
		BuildType:    BuildTypeGitLabCI,
		Commit:       get("CI_COMMIT_SHA"),
		Repository:   strings.TrimRight(get("CI_PROJECT_URL"), "/"),
		WorkflowPath: get("CI_CONFIG_PATH"),
	}
	if b.Repository == "" && server != "" && project != "" {
		b.Repository = server + "/" + project
	}
	if b.WorkflowPath == "" {
		b.WorkflowPath = ".gitlab-ci.yml"
	}
	if tag := get("CI_COMMIT_TAG"); tag != "" {
		b.Ref = "refs/tags/" + tag
	} else if br := get("CI_COMMIT_REF_NAME"); br != "" {
		b.Ref = "refs/heads/" + br
	}
	switch {
	case server != "" && project != "" && get("CI_RUNNER_ID") != "":
		b.BuilderID = server + "/" + project + "/-/runners/" + get("CI_RUNNER_ID")
	case server != "":
		b.BuilderID = server + "/gitlab-runner"
	default:
		b.BuilderID = "https://gitlab.com/gitlab-org/gitlab-runner"
	}
	b.InvocationID = get("CI_JOB_URL")
	if b.InvocationID == "" && server != "" && project != "" && get("CI_JOB_ID") != "" {
		b.InvocationID = server + "/" + project + "/-/jobs/" + get("CI_JOB_ID")
	}
	if t, err := time.Parse(time.RFC3339, get("CI_JOB_STARTED_AT")); err == nil {
		t = t.UTC()
		b.StartedOn = &t
	}
	gl := map[string]any{}
	put(gl, "pipeline_id", get("CI_PIPELINE_ID"))
	put(gl, "pipeline_url", get("CI_PIPELINE_URL"))
	put(gl, "pipeline_source", get("CI_PIPELINE_SOURCE"))
	put(gl, "job_id", get("CI_JOB_ID"))
	put(gl, "job_name", get("CI_JOB_NAME"))
	put(gl, "runner_id", get("CI_RUNNER_ID"))
	put(gl, "runner_description", get("CI_RUNNER_DESCRIPTION"))
	put(gl, "project_id", get("CI_PROJECT_ID"))
	b.Internal = map[string]any{"gitlab": gl}
	return b
}

func localInfo(l Local) BuildInfo {
	b := BuildInfo{
		Platform:   PlatformLocal,
		BuildType:  BuildTypeLocal,
		Commit:     l.Git.Commit,
		Ref:        l.Git.Ref,
		Repository: l.Git.Remote,
	}
	user, host := l.User, l.Hostname
	if user == "" {
		user = "unknown"
	}
	if host == "" {
		host = "unknown"
	}
	b.BuilderID = "local://" + user + "@" + host
	loc := map[string]any{}
	put(loc, "hostname", l.Hostname)
	put(loc, "user", l.User)
	b.Internal = map[string]any{"local": loc}
	return b
}

func put(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// New builds the provenance statement for files (the model's digests) from
// info. finishedOn is the time the model was produced (seed field
// "timestamp"); it is recorded in UTC with second precision.
func New(files []FileDigest, info BuildInfo, finishedOn time.Time) *Statement {
	wf := map[string]any{}
	put(wf, "ref", info.Ref)
	put(wf, "repository", info.Repository)
	put(wf, "path", info.WorkflowPath)
	ext := map[string]any{}
	if len(wf) > 0 {
		ext["workflow"] = wf
	}
	var deps []ResourceDescriptor
	if info.Commit != "" || info.Repository != "" {
		d := ResourceDescriptor{}
		if info.Repository != "" {
			d.URI = "git+" + info.Repository
			if info.Ref != "" {
				d.URI += "@" + info.Ref
			}
		}
		if info.Commit != "" {
			d.Digest = map[string]string{"gitCommit": info.Commit}
		}
		deps = append(deps, d)
	}
	fin := finishedOn.UTC().Truncate(time.Second)
	var started *time.Time
	if info.StartedOn != nil {
		s := info.StartedOn.UTC().Truncate(time.Second)
		started = &s
	}
	return &Statement{
		Type:          StatementType,
		Subject:       Subjects(files),
		PredicateType: PredicateType,
		Predicate: Provenance{
			BuildDefinition: BuildDefinition{
				BuildType:            info.BuildType,
				ExternalParameters:   ext,
				InternalParameters:   info.Internal,
				ResolvedDependencies: deps,
			},
			RunDetails: RunDetails{
				Builder:  Builder{ID: info.BuilderID},
				Metadata: Metadata{InvocationID: info.InvocationID, StartedOn: started, FinishedOn: &fin},
			},
		},
	}
}
