package run

import (
	"strconv"
	"strings"
	"unsafe"
)

func itoa(n int) string { return strconv.Itoa(n) }

func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	if dir == "/" {
		return true
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// underAny reports whether p is inside one of dirs.
func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if under(p, d) {
			return true
		}
	}
	return false
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
