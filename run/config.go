package run

// childConfig is what the supervisor hands to the init process (over a
// pipe, as JSON) and what init hands to the exec shim. It is produced by
// this package and read only by it.
type childConfig struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir,omitempty"`
	// Network is NetworkNone or NetworkAllow.
	Network string `json:"network"`
	// RW and RO are absolute, cleaned paths.
	RW []string `json:"rw,omitempty"`
	RO []string `json:"ro,omitempty"`
	// Hide are credential paths to cover in the mount namespace.
	Hide []string `json:"hide,omitempty"`
	// UserNS says the init runs in a new user namespace (else as real root).
	UserNS bool `json:"userns"`
	// Monitor installs the seccomp user-notification filter.
	Monitor bool `json:"monitor"`
	// MonitorWrites also reports opens for writing, renames, links and
	// truncations (only with Monitor).
	MonitorWrites bool `json:"monitor_writes,omitempty"`
	// MonitorDatagrams also reports sendmsg and sendmmsg, whose
	// destinations are in memory so every call is held (only with
	// Monitor; used with the host network, where a datagram can leave).
	// The listener then cannot be handed over with sendmsg: the shim
	// sends its descriptor number and the supervisor takes it with
	// pidfd_getfd.
	MonitorDatagrams bool `json:"monitor_datagrams,omitempty"`
	// ProxyConfigured: fd 5 is an O_PATH directory holding proxy.sock.
	Proxy bool `json:"proxy"`
}

// Network modes.
const (
	NetworkNone  = "none"
	NetworkAllow = "allow"
	NetworkHost  = "host"
)

// Modes.
const (
	ModeAudit   = "audit"
	ModeEnforce = "enforce"
)

// statusMsg is one line the init writes to the supervisor.
type statusMsg struct {
	// Kind is "layer", "started", "exited" or "error".
	Kind   string `json:"kind"`
	Layer  *Layer `json:"layer,omitempty"`
	PID    int    `json:"pid,omitempty"`
	Status int    `json:"status,omitempty"`
	Signal string `json:"signal,omitempty"`
	Error  string `json:"error,omitempty"`
	Port   int    `json:"port,omitempty"`
}

const (
	envMode   = "MLGATE_RUN_CHILD"
	envConfig = "MLGATE_RUN_CONFIG"
	modeInit  = "init-7c1f"
	modeShim  = "shim-7c1f"
	modeProbe = "probe-7c1f"
)
