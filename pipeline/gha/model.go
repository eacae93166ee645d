package gha

import "github.com/mlgate/mlgate/pipeline"

// Workflow is a parsed GitHub Actions workflow or action (Graph.Doc).
// Everything keeps its source position; unknown keys are ignored.
type Workflow struct {
	Name string
	// Action is true for an action definition (action.yml with runs:),
	// whose steps become one stage named after the file.
	Action bool
	// Using is runs.using of an action ("composite", "docker", "node20").
	Using string
	// Triggers are the events of `on:`, in source order.
	Triggers []Trigger
	OnPos    pipeline.Pos
	// Permissions is the top-level permissions block; nil when absent.
	Permissions *Permissions
	Env         []pipeline.EnvVar
	// Shell is defaults.run.shell.
	Shell string
	Jobs  []*Job
}

// Trigger is one event under `on:`.
type Trigger struct {
	Event string
	Pos   pipeline.Pos
	// Types are the activity types (`types:`), Branches and Tags the
	// push/pull_request filters, Workflows the workflow_run sources.
	Types, Branches, Tags, Workflows []string
}

// Permissions is a `permissions:` block.
type Permissions struct {
	Pos pipeline.Pos
	// All is "read-all", "write-all" or "" for a mapping; a mapping `{}`
	// grants nothing.
	All string
	// Scopes maps a scope (contents, packages, id-token...) to read,
	// write or none.
	Scopes map[string]string
	// ScopePos holds where each scope was written.
	ScopePos map[string]pipeline.Pos
}

// Writes returns the scopes the block grants write access to ("*" for
// write-all).
func (p *Permissions) Writes() []string {
	if p == nil {
		return nil
	}
	if p.All == "write-all" {
		return []string{"*"}
	}
	var out []string
	for _, s := range permissionScopes {
		if p.Scopes[s] == "write" {
			out = append(out, s)
		}
	}
	return out
}

// permissionScopes lists the token scopes in a stable order.
var permissionScopes = []string{"actions", "attestations", "checks", "contents", "deployments", "discussions",
	"id-token", "issues", "models", "packages", "pages", "pull-requests", "repository-projects",
	"security-events", "statuses"}

// Container is a job container or a service container.
type Container struct {
	Name       string // service name; "" for the job container
	Image      string
	Pos        pipeline.Pos // of the image value
	Options    string
	OptionsPos pipeline.Pos
	Volumes    []Mount
	// NoNetwork is --network none; GPUs is --gpus; Privileged is
	// --privileged.
	NoNetwork, GPUs, Privileged bool
	Env                         []pipeline.EnvVar
}

// Mount is one volume of a container ("src:dst[:ro]").
type Mount struct {
	Source, Target string
	ReadOnly       bool
	Pos            pipeline.Pos
}

// Step is one step of a job: pipeline.Step plus the GitHub-specific bits.
type Step struct {
	pipeline.Step
	ID string
	// Index is the step's position in the job (0-based).
	Index int
	// Ref is the part of Uses after '@' ("" when there is none).
	Ref string
}

// SecretRef is one `secrets.NAME` read in a job.
type SecretRef struct {
	Name string
	Pos  pipeline.Pos
	// Step is the index of the step that reads it, -1 for job level (env,
	// with/secrets of a reusable workflow call, container credentials).
	Step int
	// Where says how it is read: "env NAME", "with NAME", "run", "if",
	// "secrets NAME".
	Where string
	// Guard is what the surrounding conditions exclude (the `cond && secrets.X || ''`
	// idiom, step and job `if:`).
	Guard Guard
	// Expr is the text of the expression that reads it.
	Expr string
	// Serialized is true when the expression serialises a context
	// (toJSON).
	Serialized bool
}

// Runner is one runner the job may be scheduled on: the labels that all
// must match.
type Runner struct {
	Labels []string
	// Group is a runner group (`runs-on: {group: ...}`).
	Group string
}

// Job is one entry of `jobs:`.
type Job struct {
	ID   string
	Name string
	Pos  pipeline.Pos
	// Runners are the candidate runners after following matrix values
	// and the string literals of expressions; RunsOnUnresolved is true
	// when part of runs-on could not be evaluated (inputs, vars,
	// fromJSON...).
	Runners          []Runner
	RunsOnPos        pipeline.Pos
	RunsOnUnresolved bool
	Container        *Container
	Services         []*Container
	Needs            []string
	If               string
	IfPos            pipeline.Pos
	Environment      string
	Permissions      *Permissions
	Env              []pipeline.EnvVar
	Shell            string
	Steps            []*Step
	// Uses is the reusable workflow a job calls; With its inputs.
	Uses    string
	UsesPos pipeline.Pos
	With    map[string]pipeline.StepInput
	// SecretsInherit is `secrets: inherit`.
	SecretsInherit bool
	SecretsPos     pipeline.Pos
	// Secrets are every secrets.* read in the job, in source order.
	Secrets []SecretRef
	// Exprs are every ${{ }} expression of the job with where it is, for
	// rules that read expressions (injection, unsound contains).
	Exprs  []Expr
	matrix *matrix
	info   *Analysis
}

// Expr is one ${{ }} expression found in a job or workflow.
type Expr struct {
	Inner string // text between ${{ and }}
	Pos   pipeline.Pos
	// Step is the step index, -1 for job level.
	Step int
	// Where is "run", "if", "with NAME", "env NAME", "runs-on", ...
	Where string
}
