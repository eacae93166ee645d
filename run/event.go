package run

import "time"

// Event kinds.
const (
	EventExec    = "exec"
	EventConnect = "connect"
	EventEgress  = "egress"
	// EventSendto is a datagram sent with an explicit destination
	// (sendto without connect).
	EventSendto = "sendto"
	// EventWrite is a file opened for writing (or created, truncated,
	// renamed, linked or symlinked) under a watched tree or the model
	// output.
	EventWrite = "write"
)

// Write operations (Event.Op).
const (
	OpOpen     = "open"
	OpCreat    = "creat"
	OpRename   = "rename"
	OpLink     = "link"
	OpSymlink  = "symlink"
	OpTruncate = "truncate"
)

// Event is one thing the stage did, captured as it happened.
type Event struct {
	// Seq numbers events in the order the supervisor saw them.
	Seq int `json:"seq"`
	// At is the time since the stage started.
	At   time.Duration `json:"at_ns"`
	Kind string        `json:"kind"`
	// PID and PPID are as seen inside the stage's PID namespace (0 when
	// unknown); Comm and Exe describe the process that made the call
	// (for an exec: the image being replaced).
	PID  int    `json:"pid,omitempty"`
	PPID int    `json:"ppid,omitempty"`
	Comm string `json:"comm,omitempty"`
	Exe  string `json:"exe,omitempty"`

	// Exec: the path or, for execveat, the file the descriptor names.
	// Write: the file written, absolute, as the stage sees it, with
	// symbolic links resolved where they exist. For a write, Argv is the
	// command line of the process's last exec seen by the monitor (empty
	// for a process that has not executed anything since it was forked
	// from the stage's first process).
	Path string   `json:"path,omitempty"`
	Argv []string `json:"argv,omitempty"`
	// Op is the write operation: open, creat, rename, link, symlink or
	// truncate. From is the source of a rename or link.
	Op   string `json:"op,omitempty"`
	From string `json:"from,omitempty"`
	// FromFD is set for execveat(fd, "", AT_EMPTY_PATH) and for paths
	// under /proc/*/fd: the program was executed from a descriptor.
	FromFD bool `json:"from_fd,omitempty"`
	// Stdio classifies descriptors 0, 1, 2: tcp, socket, pipe, tty,
	// null, file, or "" when closed or unknown. It is read only for the
	// programs a rule needs it for (shells, env, printenv).
	Stdio []string `json:"stdio,omitempty"`

	// Connect and egress: destination. Family is inet, inet6 or unix.
	Family string `json:"family,omitempty"`
	Addr   string `json:"addr,omitempty"`
	Port   int    `json:"port,omitempty"`
	// Egress: the host name asked of the proxy, the method, whether the
	// allow-list let it through, and why not.
	Host    string `json:"host,omitempty"`
	Method  string `json:"method,omitempty"`
	Allowed *bool  `json:"allowed,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// AddrClass is set when the proxy refused an allowed name because it
	// resolved only to addresses it does not dial: the class of the
	// first (loopback, private (10.0.0.0/8), link-local, cloud metadata...).
	AddrClass string `json:"addr_class,omitempty"`

	// Blocked is set when enforce mode refused the call.
	Blocked bool `json:"blocked,omitempty"`
	// Truncated is set when an argument was cut at a limit.
	Truncated bool `json:"truncated,omitempty"`
}

// FileChange is one difference between the before and after snapshots of
// a watched tree.
type FileChange struct {
	Path string `json:"path"`
	// Change is added, modified or removed.
	Change string `json:"change"`
	// Root is the watched tree the file is in.
	Root string `json:"root"`
	// SHA256 is the content hash after the run (added, modified regular
	// files up to 1 GiB; larger ones are not hashed here).
	SHA256 string `json:"sha256,omitempty"`
	// Type is file, symlink or other (after the run; before it for a
	// removed file).
	Type string `json:"type,omitempty"`
	// Target is a symbolic link's target (added, modified).
	Target string `json:"target,omitempty"`
	// Nlink is the link count of an added regular file with more than
	// one, and NamesSeen how many of its names are inside the watched
	// trees: fewer means a hard link from elsewhere.
	Nlink     uint64 `json:"nlink,omitempty"`
	NamesSeen int    `json:"names_seen,omitempty"`
}

// File types of a FileChange.
const (
	FileTypeRegular = "file"
	FileTypeSymlink = "symlink"
	FileTypeOther   = "other"
	FileTypeDir     = "directory"
)

// File change kinds.
const (
	ChangeAdded    = "added"
	ChangeModified = "modified"
	ChangeRemoved  = "removed"
	// ChangeUnreadable: a directory mlgate could read before the run (or
	// that did not exist) cannot be read after it, so the files under it
	// were not compared (a stage can chmod a directory in its outputs).
	ChangeUnreadable = "unreadable"
)
