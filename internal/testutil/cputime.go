// Package testutil holds helpers shared by tests.
package testutil

import (
	"syscall"
	"time"
)

// CPUTime is the process's user plus system CPU time so far. Scaling tests
// compare CPU time rather than wall time: it does not grow when other
// processes load the machine, so their ratios stay meaningful on a busy
// CI runner.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
