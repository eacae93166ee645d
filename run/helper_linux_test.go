//go:build linux && (amd64 || arm64)

package run

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The test binary doubles as the stage's helper program: with
// MLGATE_TESTHELPER set it performs one action named by its arguments and
// exits, so tests need no compiler and no network.
const envHelper = "MLGATE_TESTHELPER"

func TestMain(m *testing.M) {
	if os.Getenv(envHelper) != "" {
		os.Exit(helperMain(os.Args[1:]))
	}
	os.Exit(testMain(m))
}

// helperBin is a copy of the test binary outside /tmp (which the stage
// sees as a fresh tmpfs), readable by every user. It is made on first use
// (fuzz workers never need it) and removed when the tests end.
var (
	helperBin  string
	helperDir  string
	helperOnce sync.Once
)

func ensureHelper() string {
	helperOnce.Do(func() {
		dir, err := os.MkdirTemp("/var/tmp", "mlgate-run-test-")
		if err != nil {
			return
		}
		helperDir = dir
		_ = os.Chmod(dir, 0o755)
		self, _ := os.Executable()
		if b, err := os.ReadFile(self); err == nil && os.WriteFile(dir+"/helper", b, 0o755) == nil {
			helperBin = dir + "/helper"
		}
	})
	return helperBin
}

func testMain(m *testing.M) int {
	defer func() {
		if helperDir != "" {
			os.RemoveAll(helperDir)
		}
	}()
	return m.Run()
}

func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no action")
		return 2
	}
	switch args[0] {
	case "connect": // connect ADDR
		c, err := net.Dial("tcp", args[1])
		if err != nil {
			fmt.Println("connect failed:", err)
			return 1
		}
		c.Close()
		fmt.Println("connected")
		return 0
	case "connectn": // connectn ADDR N — N connect attempts, whatever their outcome
		n, _ := strconv.Atoi(args[2])
		ok := 0
		for i := 0; i < n; i++ {
			if c, err := net.Dial("tcp", args[1]); err == nil {
				ok++
				c.Close()
			}
		}
		fmt.Printf("connected %d of %d\n", ok, n)
		return 0
	case "proxy": // proxy HOST:PORT... — CONNECT through $HTTPS_PROXY, expect an echo
		code := 0
		for _, target := range args[1:] {
			status, err := proxyConnect(os.Getenv("HTTPS_PROXY"), target)
			fmt.Printf("%s %d %v\n", target, status, err)
			if err != nil {
				code = 1
			}
		}
		return code
	case "revshell": // a shell whose stdin/stdout is a TCP connection to a local listener
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println(err)
			return 1
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "echo shell-ran\nexit\n")
			io.Copy(os.Stdout, c)
			c.Close()
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			fmt.Println(err)
			return 1
		}
		f, _ := c.(*net.TCPConn).File()
		cmd := exec.Command("/bin/sh", "-i")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = f, f, io.Discard
		err = cmd.Run()
		f.Close()
		c.Close()
		<-done
		fmt.Println("shell done:", err)
		if err != nil {
			return 1
		}
		return 0
	case "read": // read PATH
		b, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Println("read failed:", err)
			return 1
		}
		fmt.Printf("read ok: %s\n", b)
		return 0
	case "write": // write PATH
		if err := os.WriteFile(args[1], []byte("written by the stage\n"), 0o644); err != nil {
			fmt.Println("write failed:", err)
			return 1
		}
		fmt.Println("write ok")
		return 0
	case "memexec": // copy /bin/true into a memfd and execute it from there
		fd, err := unix.MemfdCreate("payload", 0)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		b, err := os.ReadFile("/bin/true")
		if err != nil {
			fmt.Println(err)
			return 1
		}
		unix.Write(fd, b)
		empty := []byte{0}
		argv := []*byte{&[]byte("payload\x00")[0], nil}
		envp := []*byte{nil}
		_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(&empty[0])),
			uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
		fmt.Println("execveat:", errno)
		return 1
	case "udp": // udp ADDR — one unconnected datagram (sendto with a destination)
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer c.Close()
		dst, err := net.ResolveUDPAddr("udp4", args[1])
		if err != nil {
			fmt.Println(err)
			return 1
		}
		_, err = c.WriteToUDP([]byte("x"), dst)
		fmt.Println("sendto:", err)
		return 0
	case "sendmsg": // sendmsg IP PORT named|connected — one datagram through sendmsg(2)
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			fmt.Println(err)
			return 1
		}
		defer unix.Close(fd)
		port, _ := strconv.Atoi(args[2])
		to := &unix.SockaddrInet4{Port: port}
		copy(to.Addr[:], net.ParseIP(args[1]).To4())
		var dst unix.Sockaddr = to
		if args[3] == "connected" {
			if err := unix.Connect(fd, to); err != nil {
				fmt.Println(err)
				return 1
			}
			dst = nil
		}
		err = unix.Sendmsg(fd, []byte("x"), nil, dst, 0)
		fmt.Println("sendmsg:", err)
		return 0
	case "writemodel": // writemodel MODELDIR OTHERDIR: the stage itself and helpers write
		dir, other := args[1], args[2]
		if err := os.WriteFile(dir+"/model.bin", []byte("weights"), 0o644); err != nil {
			fmt.Println("own write failed:", err)
			return 1
		}
		// openat2: one read-only open (never reported) and one for writing.
		how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC}
		if fd, err := unix.Openat2(unix.AT_FDCWD, dir+"/model.bin", &how); err == nil {
			unix.Close(fd)
		}
		how = unix.OpenHow{Flags: unix.O_WRONLY | unix.O_CREAT | unix.O_CLOEXEC, Mode: 0o644}
		if fd, err := unix.Openat2(unix.AT_FDCWD, dir+"/by-openat2.bin", &how); err == nil {
			unix.Close(fd)
		} else {
			fmt.Println("openat2:", err)
		}
		for _, c := range [][]string{
			{"sh", "-c", "echo x > " + dir + "/model.bin"},
			{"sh", "-c", "echo y > " + other + "/log"},
			{"cat", dir + "/model.bin"},
			{"sh", "-c", "echo staged > " + other + "/staged && mv " + other + "/staged " + dir + "/swapped"},
			{"sh", "-c", "ln -s " + dir + " /tmp/via && echo z > /tmp/via/evil"},
		} {
			cmd := exec.Command(c[0], c[1:]...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Println(c, err)
				return 1
			}
		}
		return 0
	case "miner":
		fmt.Println("pretending to mine", strings.Join(args[1:], " "))
		return 0
	case "unshare-user":
		runtimeLockAndUnshare()
		return 0
	}
	fmt.Fprintln(os.Stderr, "helper: unknown action", args[0])
	return 2
}

// runtimeLockAndUnshare tries clone(CLONE_NEWUSER) through a child process
// and reports the outcome.
func runtimeLockAndUnshare() {
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
	err := cmd.Run()
	fmt.Println("clone newuser:", err)
}

// proxyConnect asks the proxy for a tunnel to target and, when it is
// granted, checks that the far end echoes.
func proxyConnect(proxyURL, target string) (int, error) {
	addr := strings.TrimPrefix(proxyURL, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil
	}
	io.WriteString(c, "ping\n")
	line, err := br.ReadString('\n')
	if err != nil {
		return resp.StatusCode, err
	}
	if line != "echo:ping\n" {
		return resp.StatusCode, fmt.Errorf("unexpected echo %q", line)
	}
	return resp.StatusCode, nil
}
