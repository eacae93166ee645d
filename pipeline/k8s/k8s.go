// Package k8s holds what the Kubernetes-based pipeline adapters (Kubeflow
// Pipelines IR in pipeline/kfp and Argo Workflows in pipeline/argo) share:
// the per-stage pod facts they record in Graph.Doc, image-reference and GPU
// helpers, a position mapper for quoted YAML scalars, and the rules that
// apply to both formats (IDs pipeline/k8s-...).
package k8s

import (
	"strconv"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
	"go.yaml.in/yaml/v3"
)

// Format names of the two adapters, kept here so the shared rules need not
// import them.
const (
	FormatKFP  = "kubeflow-ir"
	FormatArgo = "argo-workflows"
)

// IsK8sFormat reports whether a graph comes from one of the two adapters.
func IsK8sFormat(f string) bool { return f == FormatKFP || f == FormatArgo }

// Doc is the Graph.Doc of both adapters: pod facts per stage, plus the
// adapter's own data in Extra.
type Doc struct {
	Pods map[*pipeline.Stage]*Pod
	Text *Text
	// StepNodes are the YAML scalars steps' Run texts came from.
	StepNodes map[StepKey]*yaml.Node
	Extra     any

	located int // source bytes walked by StepPos so far
}

// maxLocated bounds the source bytes StepPos walks for one graph; past it,
// positions fall back to Step.PosAt (the scalar's first line).
const maxLocated = 256 << 20

// DocOf returns g's Doc when g comes from a Kubernetes adapter, else nil.
func DocOf(g *pipeline.Graph) *Doc {
	if !IsK8sFormat(g.Format) {
		return nil
	}
	d, _ := g.Doc.(*Doc)
	return d
}

// DocExtra returns the document of a graph of the given format and its
// adapter-specific Extra as *T; nil, nil for other formats.
func DocExtra[T any](g *pipeline.Graph, format string) (*Doc, *T) {
	if g.Format != format {
		return nil, nil
	}
	d := DocOf(g)
	if d == nil {
		return nil, nil
	}
	x, _ := d.Extra.(*T)
	return d, x
}

// Pod returns the pod facts of s, or an empty Pod.
func (d *Doc) Pod(s *pipeline.Stage) *Pod {
	if d != nil {
		if p := d.Pods[s]; p != nil {
			return p
		}
	}
	return &Pod{}
}

// Flag is a setting found in the source, with where it was written.
type Flag struct {
	Set   bool
	Value string
	Pos   pipeline.Pos
}

// Mark sets f once (the first, most specific, setting wins).
func (f *Flag) Mark(value string, pos pipeline.Pos) {
	if !f.Set {
		*f = Flag{Set: true, Value: value, Pos: pos}
	}
}

// Named is a name with its position (a capability, a secret).
type Named struct {
	Name string
	Pos  pipeline.Pos
}

// Fetch is an input the stage downloads from outside the pipeline: an Argo
// http/git/s3 input artifact or a KFP importer URI.
type Fetch struct {
	Kind string // "http", "git", "s3", "gcs", "importer", ...
	URL  string
	Pos  pipeline.Pos
}

// Pod is what the adapters learned about the pod a stage runs in.
type Pod struct {
	Privileged               Flag // securityContext.privileged: true
	RunAsRoot                Flag // runAsUser: 0 or runAsNonRoot: false
	AllowPrivilegeEscalation Flag
	HostNetwork              Flag
	HostPID                  Flag
	HostIPC                  Flag
	PodSpecPatch             Flag // podSpecPatch: cannot be evaluated offline
	AddedCapabilities        []Named
	// ServiceAccount is the service account the pod runs as ("" for the
	// namespace default); AutomountToken says whether its token is mounted
	// (Unknown when neither the workflow nor the template says).
	ServiceAccount    string
	ServiceAccountPos pipeline.Pos
	AutomountToken    pipeline.Tri
	AutomountPos      pipeline.Pos
	// SecretEnv are secrets exposed as environment variables (secretKeyRef,
	// envFrom secretRef, KFP secretAsEnv).
	SecretEnv []Named
	// Fetches are inputs downloaded from outside the pipeline.
	Fetches []Fetch
	// Script is true when the stage runs inline source (an Argo script
	// template, a KFP lightweight Python component).
	Script bool
}

// ImagePinned reports whether an image reference names a digest.
func ImagePinned(ref string) bool {
	return strings.Contains(ref, "@sha256:") || strings.Contains(ref, "@sha512:")
}

// ImageTemplated reports whether an image reference is filled in at run time
// ({{inputs.parameters.image}}, $(VAR)); such references cannot be judged.
func ImageTemplated(ref string) bool {
	return strings.Contains(ref, "{{") || strings.Contains(ref, "$(") || strings.Contains(ref, "${")
}

// PlaceholderImage reports whether an image reference is a placeholder the
// Kubeflow backend replaces before anything runs: the
// `argostub/createpvc`-style stubs of PVC operations and the executor
// image `.../should-be-overridden-during-runtime` of KFP-compiled Argo
// workflows.
func PlaceholderImage(ref string) bool {
	return strings.HasPrefix(ref, "argostub/") || strings.HasSuffix(ImageName(ref), "/should-be-overridden-during-runtime")
}

// ImageName returns an image reference without tag and digest.
func ImageName(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndexByte(ref, '/')
	if i := strings.LastIndexByte(ref, ':'); i > slash {
		ref = ref[:i]
	}
	return ref
}

// ImageTag returns the tag of an image reference ("" when it has none).
func ImageTag(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndexByte(ref, '/')
	if i := strings.LastIndexByte(ref, ':'); i > slash {
		return ref[i+1:]
	}
	return ""
}

// gpuResources are extended resource names that schedule accelerators.
var gpuResourcePrefixes = []string{"nvidia.com/", "amd.com/gpu", "gpu.intel.com/", "google.com/tpu", "habana.ai/", "aws.amazon.com/neuron", "cloud-tpus.google.com/"}

// IsGPUResource reports whether a resource name requests an accelerator
// (nvidia.com/gpu, nvidia.com/mig-1g.5gb, amd.com/gpu, google.com/tpu...).
func IsGPUResource(name string) bool {
	name = strings.ToLower(name)
	for _, p := range gpuResourcePrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// IsGPUNodeLabel reports whether a node-selector or affinity label key
// selects accelerator nodes.
func IsGPUNodeLabel(key string) bool {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "accelerator"), strings.HasPrefix(k, "nvidia.com/gpu"),
		strings.Contains(k, "gpu"), strings.Contains(k, "tpu"):
		return true
	}
	return false
}

// sensitiveHostPaths are host directories whose mount gives control over
// the node or other workloads.
var sensitiveHostPaths = []string{
	"/var/run/docker.sock", "/run/docker.sock", "/var/run/containerd", "/run/containerd",
	"/var/run/crio", "/var/lib/kubelet", "/var/lib/docker", "/etc", "/proc", "/sys", "/root", "/home",
	"/var/run", "/run", "/var/log", "/dev", "/boot", "/usr", "/bin", "/lib",
}

// SensitiveHostPath reports whether mounting host path p exposes the node:
// the root, a container-runtime socket, /proc, /etc, kubelet state and the
// like (a path is sensitive when it is one of them or contains one).
func SensitiveHostPath(p string) bool {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return true // "/"
	}
	for _, s := range sensitiveHostPaths {
		if p == s || strings.HasPrefix(p, s+"/") || strings.HasPrefix(s, p+"/") {
			return true
		}
	}
	return false
}

// ExternalScheme returns the scheme of a URI that points outside the
// pipeline (gs, s3, hf, http, https, git, oci...), or "".
func ExternalScheme(uri string) string {
	i := strings.Index(uri, "://")
	if i <= 0 || i > 16 {
		return ""
	}
	s := strings.ToLower(uri[:i])
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return s
}

// Seen remembers what a rule already reported, so a template or executor
// shared by several stages is reported once, at its own position.
type Seen map[string]bool

// First reports whether (pos, key) is new, and records it.
func (s Seen) First(pos pipeline.Pos, key string) bool {
	k := pos.File + ":" + strconv.Itoa(pos.Line) + ":" + strconv.Itoa(pos.Column) + ":" + key
	if s[k] {
		return false
	}
	s[k] = true
	return true
}

// StepPos returns the exact source position of byte off of step i of
// stage s: through the scalar node the adapter recorded when there is one
// (also inside quoted, folded scalars), else Step.PosAt.
func (d *Doc) StepPos(s *pipeline.Stage, i, off int) pipeline.Pos {
	if i < 0 || i >= len(s.Steps) {
		return s.Pos
	}
	if d != nil && d.Text != nil && d.located < maxLocated {
		if n := d.StepNodes[StepKey{s, i}]; n != nil {
			d.located += off + 1
			if p := d.Text.Locate(n, off); p.Line > 0 {
				return p
			}
		}
	}
	return s.Steps[i].PosAt(off)
}

// StepKey identifies a step of a stage.
type StepKey struct {
	Stage *pipeline.Stage
	Index int
}
