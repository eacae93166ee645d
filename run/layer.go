package run

// Layer is one isolation or monitoring mechanism and whether it was in
// force for the run. A layer is never silently skipped: when it could not
// be applied, Active is false and Reason says why.
type Layer struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Reason string `json:"reason,omitempty"`
}

// Layer names, in the order reports list them.
const (
	LayerUserNS        = "user-namespace"
	LayerMountNS       = "mount-namespace"
	LayerPIDNS         = "pid-namespace"
	LayerIPCNS         = "ipc-namespace"
	LayerUTSNS         = "uts-namespace"
	LayerNetNS         = "network-namespace"
	LayerEgressProxy   = "egress-proxy"
	LayerPrivateTmp    = "private-tmp"
	LayerCredentials   = "credential-files-hidden"
	LayerReadOnlyBinds = "read-only-binds"
	LayerLandlock      = "landlock"
	LayerSeccomp       = "seccomp-filter"
	LayerNoNewPrivs    = "no-new-privs"
	LayerCapabilities  = "capabilities-dropped"
	LayerEnvScrub      = "environment-scrubbed"
	LayerExecMonitor   = "exec-monitor"
	LayerConnectMon    = "connect-monitor"
	LayerWriteMonitor  = "write-monitor"
	LayerFileIntegrity = "file-integrity"
	LayerCgroup        = "cgroup"
)

// allLayers is every layer a run reports.
var allLayers = []string{
	LayerUserNS, LayerMountNS, LayerPIDNS, LayerIPCNS, LayerUTSNS, LayerNetNS, LayerEgressProxy,
	LayerPrivateTmp, LayerCredentials, LayerReadOnlyBinds, LayerLandlock, LayerSeccomp, LayerNoNewPrivs,
	LayerCapabilities, LayerEnvScrub, LayerExecMonitor, LayerConnectMon, LayerWriteMonitor, LayerFileIntegrity, LayerCgroup,
}

func setLayer(ls []Layer, name string, active bool, reason string) []Layer {
	for i := range ls {
		if ls[i].Name == name {
			ls[i].Active, ls[i].Reason = active, reason
			return ls
		}
	}
	return append(ls, Layer{Name: name, Active: active, Reason: reason})
}

func layerIsActive(ls []Layer, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return l.Active
		}
	}
	return false
}
