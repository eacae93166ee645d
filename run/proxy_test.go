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
	"net/netip"
	"sort"
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
		resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
			if host != "models.example" {
				return nil, errors.New("looked up a name that was not allowed: " + host)
			}
			return []netip.Addr{netip.MustParseAddr("192.0.2.10")}, nil
		},
		dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr != "192.0.2.10:80" {
				return nil, errors.New("dial to an address that was not resolved: " + addr)
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	local := ln.Addr().String()
	dialOK := func(allowPrivate bool, a string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := safeDialer(allowPrivate)(ctx, "tcp", a)
		if err == nil {
			c.Close()
		}
		return err
	}
	// Refused before any packet is sent: the check runs on the socket's
	// address before connect.
	for _, a := range []string{local, "169.254.169.254:80", "[::1]:9", "0.0.0.0:9", "10.1.2.3:443", "192.168.0.1:443", "[::ffff:127.0.0.1]:9"} {
		if err := dialOK(false, a); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("default dialer, %s: %v", a, err)
		}
	}
	if err := dialOK(true, local); err != nil {
		t.Errorf("--allow-private-egress: loopback listener not reached: %v", err)
	}
	for _, a := range []string{"169.254.169.254:80", "0.0.0.0:9", "[fe80::1]:9"} {
		if err := dialOK(true, a); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("--allow-private-egress must still refuse %s: %v", a, err)
		}
	}
}

func TestRefusedAddr(t *testing.T) {
	cases := []struct {
		addr    string
		def     string // class refused by default ("" allowed)
		private bool   // still refused with allowPrivate
	}{
		{"203.0.113.7", "", false},
		{"8.8.8.8", "", false},
		{"2001:db8::1", "", false},
		{"172.32.0.1", "", false}, // just outside 172.16.0.0/12
		{"100.128.0.1", "", false},
		{"127.0.0.1", "loopback", false},
		{"127.255.0.9", "loopback", false},
		{"::1", "loopback", false},
		{"::ffff:127.0.0.1", "loopback", false},
		{"10.20.30.40", "private (10.0.0.0/8)", false},
		{"::ffff:10.0.0.1", "private (10.0.0.0/8)", false},
		{"64:ff9b::a00:1", "private (10.0.0.0/8)", false}, // NAT64 of 10.0.0.1
		{"172.16.0.1", "private (172.16.0.0/12)", false},
		{"172.31.255.254", "private (172.16.0.0/12)", false},
		{"192.168.1.1", "private (192.168.0.0/16)", false},
		{"100.64.0.1", "shared address space (100.64.0.0/10, CGNAT)", false},
		{"fd12:3456::1", "unique local (fc00::/7)", false},
		{"169.254.169.254", "cloud metadata", true},
		{"::ffff:169.254.169.254", "cloud metadata", true},
		{"100.100.100.200", "cloud metadata", true},
		{"fd00:ec2::254", "cloud metadata", true},
		{"169.254.1.1", "link-local", true},
		{"fe80::1%eth0", "link-local", true},
		{"0.0.0.0", "unspecified (0.0.0.0/8)", true},
		{"::", "unspecified", true},
		{"224.0.0.251", "multicast", true},
		{"ff02::1", "multicast", true},
		{"255.255.255.255", "broadcast", true},
	}
	for _, c := range cases {
		a := netip.MustParseAddr(c.addr)
		if got := refusedAddr(a, false); got != c.def {
			t.Errorf("%s: refused as %q, want %q", c.addr, got, c.def)
		}
		if got := refusedAddr(a, true); (got != "") != c.private {
			t.Errorf("%s with allowPrivate: %q, want refused=%v", c.addr, got, c.private)
		}
	}
}

// TestProxyResolvesOnceAndDialsTheAddress: an allowed name is looked up
// once; a private answer is refused (and reported), a public one is
// dialled as an IP literal, and a mixed answer keeps only public ones.
func TestProxyResolvesOnceAndDialsTheAddress(t *testing.T) {
	answers := map[string][]string{
		"rebind.example": {"127.0.0.1"},
		"mirror.example": {"10.0.0.5"},
		"cgnat.example":  {"100.64.1.1"},
		"meta.example":   {"169.254.169.254"},
		"mapped.example": {"::ffff:192.168.0.10"},
		"public.example": {"203.0.113.9"},
		"mixed.example":  {"10.0.0.6", "203.0.113.10"},
		"two.example":    {"203.0.113.20", "203.0.113.21"}, // the first fails: the second is tried
	}
	var mu sync.Mutex
	lookups := map[string]int{}
	var dialed []string
	var events []Event
	mk := func(allowPrivate bool) *proxy {
		var rules []HostRule
		for h := range answers {
			r, _ := ParseHostRule(h + ":443")
			rules = append(rules, r)
		}
		lit, _ := ParseHostRule("[::1]:443") // an allowed literal is checked too
		rules = append(rules, lit)
		return &proxy{
			allow:        rules,
			allowPrivate: allowPrivate,
			resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
				mu.Lock()
				defer mu.Unlock()
				lookups[host]++
				var out []netip.Addr
				for _, a := range answers[host] {
					out = append(out, netip.MustParseAddr(a))
				}
				return out, nil
			},
			dial: func(ctx context.Context, n, a string) (net.Conn, error) {
				mu.Lock()
				dialed = append(dialed, a)
				mu.Unlock()
				return nil, errors.New("test: no upstream")
			},
			decide: func(ev Event) bool { mu.Lock(); events = append(events, ev); mu.Unlock(); return true },
		}
	}
	status := func(addr, target string) int {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	addr := testProxy(t, mk(false))
	want := map[string]int{"rebind.example:443": 403, "mirror.example:443": 403, "cgnat.example:443": 403, "meta.example:443": 403,
		"mapped.example:443": 403, "public.example:443": 502, "mixed.example:443": 502, "two.example:443": 502, "[::1]:443": 403, "notlisted.example:443": 403}
	for target, code := range want {
		if got := status(addr, target); got != code {
			t.Errorf("%s: status %d, want %d", target, got, code)
		}
	}
	mu.Lock()
	sort.Strings(dialed)
	if strings.Join(dialed, ",") != "203.0.113.10:443,203.0.113.20:443,203.0.113.21:443,203.0.113.9:443" {
		t.Errorf("dialed %v, want only the public addresses, as literals", dialed)
	}
	for h, n := range lookups {
		if n != 1 {
			t.Errorf("%s looked up %d times", h, n)
		}
	}
	if lookups["notlisted.example"] != 0 {
		t.Error("a name outside the allow-list was looked up")
	}
	classes := map[string]string{}
	for _, ev := range events {
		classes[ev.Host] = ev.AddrClass
		if ev.AddrClass != "" && (*ev.Allowed || !strings.Contains(ev.Reason, ev.AddrClass) || ev.Addr == "") {
			t.Errorf("refused event: %+v", ev)
		}
	}
	if classes["rebind.example"] != "loopback" || classes["mapped.example"] != "private (192.168.0.0/16)" || classes["meta.example"] != "cloud metadata" ||
		classes["public.example"] != "" || classes["mixed.example"] != "" || classes["::1"] != "loopback" {
		t.Errorf("classes: %v", classes)
	}
	dialed, events = nil, nil
	mu.Unlock()

	// --allow-private-egress: the mirror is dialled, metadata still refused.
	addr = testProxy(t, mk(true))
	if got := status(addr, "mirror.example:443"); got != 502 {
		t.Errorf("allowed private mirror: %d", got)
	}
	if got := status(addr, "meta.example:443"); got != 403 {
		t.Errorf("metadata with --allow-private-egress: %d", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(dialed, ",") != "10.0.0.5:443" {
		t.Errorf("dialed %v", dialed)
	}
	ids := map[string]bool{}
	d := newDetector(&Options{Network: NetworkAllow})
	for _, ev := range events {
		for _, f := range d.event(&ev) {
			ids[f.RuleID] = true
		}
	}
	if !ids["run/cloud-metadata"] || !ids["run/egress-private-address"] {
		t.Errorf("findings for a name resolving to the metadata address: %v", ids)
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
			resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
				if !rule.Match(host, 443) {
					t.Fatalf("looked up %q", host)
				}
				return []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("10.0.0.1")}, nil
			},
			dial: func(ctx context.Context, n, a string) (net.Conn, error) {
				if a != "192.0.2.1:443" {
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
