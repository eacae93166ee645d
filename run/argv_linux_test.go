//go:build linux && (amd64 || arm64)

package run

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// guarded maps n read-write pages followed by one inaccessible page.
func guarded(t *testing.T, n int) []byte {
	t.Helper()
	m, err := unix.Mmap(-1, 0, (n+1)*4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	if err := unix.Mprotect(m[n*4096:], unix.PROT_NONE); err != nil {
		t.Skip(err)
	}
	return m[:n*4096]
}

func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

// putArgs writes strs at the given offsets of mem and a pointer array
// (NULL-terminated unless open) at arrOff; it returns the array address.
func putArgs(mem []byte, arrOff int, offs []int, strs []string, open bool) uint64 {
	for i, s := range strs {
		copy(mem[offs[i]:], s)
		if offs[i]+len(s) < len(mem) {
			mem[offs[i]+len(s)] = 0
		}
		binary.LittleEndian.PutUint64(mem[arrOff+8*i:], addrOf(mem)+uint64(offs[i]))
	}
	if !open {
		binary.LittleEndian.PutUint64(mem[arrOff+8*len(strs):], 0)
	}
	return addrOf(mem) + uint64(arrOff)
}

func TestReadExecArgs(t *testing.T) {
	pid := os.Getpid()
	long := strings.Repeat("x", 3000)
	mem := guarded(t, 5)
	// Strings: a short one, one ending on the last byte before the guard
	// page, one longer than the batched peek and a page, an empty one.
	edge := "edge-of-mapping"
	offs := []int{100, 5*4096 - len(edge) - 1, 2*4096 - 1000, 300}
	strs := []string{"sh", edge, long, ""}
	arr := putArgs(mem, 4096-16, offs, strs, false) // the array crosses a page
	copy(mem[3*4096+100:], "/bin/sh\x00")
	path, argv, trunc := readExecArgs(pid, addrOf(mem)+3*4096+100, arr)
	if path != "/bin/sh" || trunc || strings.Join(argv, "|") != strings.Join(strs, "|") {
		t.Errorf("path %q trunc %v argv %q", path, trunc, argv)
	}
	if a, tr := readArgv(pid, arr); strings.Join(a, "|") != strings.Join(strs, "|") || tr {
		t.Errorf("readArgv: %q %v", a, tr)
	}

	// A pointer into the guard page reads as empty; the others still
	// arrive.
	mem2 := guarded(t, 1)
	arr2 := putArgs(mem2, 0, []int{200, 300}, []string{"a", "b"}, false)
	binary.LittleEndian.PutUint64(mem2[16:], 0)
	binary.LittleEndian.PutUint64(mem2[8:], addrOf(mem2)+4096+8) // unreadable
	binary.LittleEndian.PutUint64(mem2[16:], addrOf(mem2)+300)
	binary.LittleEndian.PutUint64(mem2[24:], 0)
	if a, _ := readArgv(pid, arr2); strings.Join(a, "|") != "a||b" {
		t.Errorf("unreadable argument: %q", a)
	}

	// An array that runs into the guard page without a NULL is truncated.
	mem3 := guarded(t, 1)
	arr3 := putArgs(mem3, 4096-16, []int{10, 20}, []string{"p", "q"}, true)
	if a, tr := readArgv(pid, arr3); strings.Join(a, "|") != "p|q" || !tr {
		t.Errorf("open array: %q truncated=%v", a, tr)
	}

	// More than maxArgs pointers: cut and marked.
	mem4 := guarded(t, 2)
	n := maxArgs + 10
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint64(mem4[8*i:], addrOf(mem4)+uint64(8000))
	}
	copy(mem4[8000:], "z\x00")
	if a, tr := readArgv(pid, addrOf(mem4)); len(a) != maxArgs || !tr {
		t.Errorf("%d args, truncated=%v", len(a), tr)
	}
	// A path without a terminator before the guard page is cut, not an error.
	mem5 := guarded(t, 1)
	for i := range mem5 {
		mem5[i] = 'p'
	}
	if p, _, _ := readExecArgs(pid, addrOf(mem5)+4000, arr); len(p) != 96 {
		t.Errorf("unterminated path: %d bytes", len(p))
	}
}
