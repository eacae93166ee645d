package run

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// testProxy serves p on a loopback listener and returns its address.
func testProxy(t *testing.T, p *proxy) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	go p.serve(ln)
	return ln.Addr().String()
}

func TestProxyPlainHTTPAndLimits(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "" {
			t.Error("proxy header forwarded upstream")
		}
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	})}
	go srv.Serve(up)
	defer srv.Close()

	var mu sync.Mutex
	var events []Event
	rule, _ := ParseHostRule("models.example:80")
	p := &proxy{
		allow: []HostRule{rule},
		dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != "models.example:80" {
				return nil, errors.New("dial to a host that was not allowed: " + addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, up.Addr().String())
		},
		decide: func(ev Event) bool { mu.Lock(); events = append(events, ev); mu.Unlock(); return true },
	}
	addr := testProxy(t, p)
	do := func(raw string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, raw)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "error: " + err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, b)
	}
	if got := do("GET http://models.example/w.bin HTTP/1.1\r\nHost: models.example\r\nProxy-Authorization: x\r\n\r\n"); got != "200 hello /w.bin" {
		t.Errorf("allowed GET: %q", got)
	}
	if got := do("GET http://other.example/ HTTP/1.1\r\nHost: other.example\r\n\r\n"); !strings.HasPrefix(got, "403 ") {
		t.Errorf("denied GET: %q", got)
	}
	if got := do("GET /relative HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(got, "400 ") {
		t.Errorf("origin-form request: %q", got)
	}
	if got := do("GET http://models.example/ HTTP/1.1\r\nX: " + strings.Repeat("a", proxyHeaderLimit) + "\r\n\r\n"); !strings.HasPrefix(got, "400 ") {
		t.Errorf("oversized header: %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || !*events[0].Allowed || *events[1].Allowed || events[1].Host != "other.example" {
		t.Errorf("events: %+v", events)
	}
}

func TestProxyEnforceDecision(t *testing.T) {
	rule, _ := ParseHostRule("ok.example:443")
	dialed := false
	p := &proxy{
		allow:  []HostRule{rule},
		dial:   func(ctx context.Context, n, a string) (net.Conn, error) { dialed = true; return nil, errors.New("no") },
		decide: func(ev Event) bool { return false }, // the supervisor halted the stage
	}
	addr := testProxy(t, p)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "CONNECT ok.example:443 HTTP/1.1\r\nHost: ok.example:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 403 || dialed {
		t.Errorf("status %v err %v dialed %v", resp, err, dialed)
	}
}

func TestSafeDialerRefusesInternal(t *testing.T) {
	dial := safeDialer()
	for _, a := range []string{"127.0.0.1:9", "169.254.169.254:80", "[::1]:9", "0.0.0.0:9"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := dial(ctx, "tcp", a)
		cancel()
		if err == nil {
			c.Close()
			t.Errorf("dialed %s", a)
		} else if !strings.Contains(err.Error(), "refusing") {
			t.Errorf("%s: %v", a, err)
		}
	}
}

// FuzzProxyRequest feeds arbitrary bytes to the proxy: it must not panic
// or hang, and must never dial a destination the allow-list does not name.
func FuzzProxyRequest(f *testing.F) {
	f.Add([]byte("CONNECT ok.example:443 HTTP/1.1\r\nHost: ok.example:443\r\n\r\n"))
	f.Add([]byte("GET http://ok.example:443/x HTTP/1.1\r\nHost: ok.example\r\n\r\n"))
	f.Add([]byte("CONNECT OK.EXAMPLE.:443 HTTP/1.0\r\n\r\n"))
	f.Add([]byte("CONNECT [::1]:443 HTTP/1.1\r\n\r\n"))
	rule, _ := ParseHostRule("ok.example:443")
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &proxy{
			allow: []HostRule{rule},
			dial: func(ctx context.Context, n, a string) (net.Conn, error) {
				host, port, _ := net.SplitHostPort(a)
				if port != "443" || !rule.Match(host, 443) {
					t.Fatalf("dialed %q", a)
				}
				return nil, errors.New("test: no upstream")
			},
			decide: func(Event) bool { return true },
		}
		done := make(chan struct{})
		go func() { p.handle(&fakeConn{r: bytes.NewReader(b)}); close(done) }()
		select {
		case <-done:
		case <-time.After(40 * time.Second):
			t.Fatal("proxy hung")
		}
	})
}

// fakeConn reads from r and discards writes.
type fakeConn struct{ r *bytes.Reader }

func (c *fakeConn) Read(b []byte) (int, error)         { return c.r.Read(b) }
func (c *fakeConn) Write(b []byte) (int, error)        { return len(b), nil }
func (c *fakeConn) Close() error                       { return nil }
func (c *fakeConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *fakeConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (c *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *fakeConn) SetWriteDeadline(t time.Time) error { return nil }
