package run

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
)

// procStatus is what the supervisor needs from /proc/PID/status.
type procStatus struct {
	Name string
	PPid int
	// NSpid is the PID in the innermost PID namespace (the stage's).
	NSpid int
	// Tgid is the thread-group (process) ID of a thread, NStgid the same
	// in the innermost PID namespace.
	Tgid, NStgid int
}

// parseStatus reads the Name, PPid and NSpid fields of a /proc/PID/status
// document. Unknown or malformed lines are ignored; it never fails.
func parseStatus(b []byte) procStatus {
	var s procStatus
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		key, val, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		v := strings.TrimSpace(string(val))
		switch string(key) {
		case "Name":
			if len(v) > 64 {
				v = v[:64]
			}
			s.Name = v
		case "PPid":
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				s.PPid = n
			}
		case "Tgid":
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				s.Tgid = n
			}
		case "NSpid", "NStgid":
			f := strings.Fields(v)
			if len(f) > 0 {
				if n, err := strconv.Atoi(f[len(f)-1]); err == nil && n >= 0 {
					if string(key) == "NSpid" {
						s.NSpid = n
					} else {
						s.NStgid = n
					}
				}
			}
		}
	}
	return s
}

// tcpTableHasInode reports whether a /proc/net/tcp or tcp6 table lists a
// socket with the given inode.
func tcpTableHasInode(b []byte, inode uint64) bool {
	first := true
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if first { // header
			first = false
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 10 {
			continue
		}
		if n, err := strconv.ParseUint(string(f[9]), 10, 64); err == nil && n == inode {
			return true
		}
	}
	return false
}

// parseSockaddr decodes a struct sockaddr as passed to connect(2).
func parseSockaddr(b []byte) (family, addr string, port int, ok bool) {
	if len(b) < 2 {
		return "", "", 0, false
	}
	switch binary.LittleEndian.Uint16(b) {
	case 1: // AF_UNIX
		p := b[2:]
		if len(p) > 108 {
			p = p[:108]
		}
		if len(p) > 0 && p[0] == 0 {
			return "unix", "@" + string(bytes.TrimRight(p[1:], "\x00")), 0, true
		}
		if i := bytes.IndexByte(p, 0); i >= 0 {
			p = p[:i]
		}
		return "unix", string(p), 0, true
	case 2: // AF_INET
		if len(b) < 8 {
			return "", "", 0, false
		}
		a := netip.AddrFrom4([4]byte(b[4:8]))
		return "inet", a.String(), int(binary.BigEndian.Uint16(b[2:4])), true
	case 10: // AF_INET6
		if len(b) < 24 {
			return "", "", 0, false
		}
		a := netip.AddrFrom16([16]byte(b[8:24]))
		if a.Is4In6() {
			a = a.Unmap()
		}
		return "inet6", a.String(), int(binary.BigEndian.Uint16(b[2:4])), true
	}
	return "", "", 0, false
}

// classifyFD names what a /proc/PID/fd link points at.
func classifyFD(link string) string {
	switch {
	case link == "":
		return ""
	case strings.HasPrefix(link, "socket:["):
		return "socket"
	case strings.HasPrefix(link, "pipe:["):
		return "pipe"
	case link == "/dev/null":
		return "null"
	case strings.HasPrefix(link, "/dev/pts/"), link == "/dev/tty", link == "/dev/console":
		return "tty"
	}
	return "file"
}

// socketInode extracts N from "socket:[N]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
