//go:build !linux || !(amd64 || arm64)

package run

import (
	"context"
	"errors"
	"runtime"
)

// Machine is what Probe found out about the kernel and the caller.
type Machine struct {
	Kernel string `json:"kernel"`
	UserNS Layer  `json:"user_namespaces"`
}

// Probe reports that nothing is available off Linux.
func Probe() Machine {
	return Machine{Kernel: runtime.GOOS, UserNS: Layer{Name: "user-namespaces", Reason: "mlgate run needs Linux"}}
}

// Run is only implemented on Linux.
func Run(ctx context.Context, o Options) (*Result, error) {
	return nil, errors.New("mlgate run needs Linux (namespaces, landlock, seccomp)")
}
