// Package run isolates one pipeline stage and watches it while it runs.
//
// A stage runs in new user, mount, PID, IPC, UTS and network namespaces,
// with a landlock file-system policy, a seccomp filter, no_new_privs, no
// capabilities and a scrubbed environment. Every execve, execveat and
// connect the stage makes is reported to the supervisor by seccomp user
// notification before the kernel carries it out, so no process is too
// short-lived to be seen. Egress, when allowed at all, goes through an
// HTTP(S) CONNECT proxy with a host allow-list that runs outside the
// namespaces and is relayed into them over a unix socket.
//
// The mlgate binary re-executes itself to set the sandbox up: the process
// started in the new namespaces is mlgate again (the "init", PID 1 of the
// stage), recognised by an environment variable checked in this package's
// init function. Programs that use this package must therefore import it
// from their main package (directly or through another package) and must
// not run anything else in init functions that depends on being the
// ordinary program. See docs/run.md for the threat model.
package run
