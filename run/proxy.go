package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// HostRule is one egress allow-list entry: a host name (or IP literal)
// and a port. A name starting with "*." matches every subdomain of the
// rest (not the domain itself).
type HostRule struct {
	Host string
	Port int
}

// ParseHostRule parses "host:port" or "*.domain:port".
func ParseHostRule(s string) (HostRule, error) {
	host, portStr, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return HostRule{}, fmt.Errorf("allow-host %q: want host:port: %v", s, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return HostRule{}, fmt.Errorf("allow-host %q: bad port", s)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	name := strings.TrimPrefix(host, "*.")
	if name == "" || strings.ContainsAny(name, "*/ \t") || len(host) > 253 {
		return HostRule{}, fmt.Errorf("allow-host %q: bad host (wildcards only as a leading \"*.\")", s)
	}
	return HostRule{Host: host, Port: port}, nil
}

// String renders the rule as host:port.
func (r HostRule) String() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// Match reports whether host:port is allowed by r.
func (r HostRule) Match(host string, port int) bool {
	if port != r.Port {
		return false
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if suffix, ok := strings.CutPrefix(r.Host, "*."); ok {
		return strings.HasSuffix(host, "."+suffix)
	}
	return host == r.Host
}

// proxy is the egress proxy: it accepts HTTP CONNECT and absolute-form
// HTTP requests, checks them against the allow-list, and logs each one.
type proxy struct {
	allow []HostRule
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	// decide is called for every request; false blocks it even if allowed
	// (enforce mode halting the run).
	decide func(ev Event) bool
	wg     sync.WaitGroup
}

const (
	proxyHeaderLimit = 64 << 10
	proxyIdle        = 5 * time.Minute
)

func (p *proxy) allowed(host string, port int) (bool, string) {
	for _, r := range p.allow {
		if r.Match(host, port) {
			return true, "allowed by " + r.String()
		}
	}
	return false, "not in the allow-list"
}

func (p *proxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			p.handle(c)
		}()
	}
}

// cappedReader limits how much the header phase may read.
type cappedReader struct {
	r   io.Reader
	n   int64
	cap bool
}

func (c *cappedReader) Read(b []byte) (int, error) {
	if !c.cap {
		return c.r.Read(b)
	}
	if c.n <= 0 {
		return 0, errors.New("request header too large")
	}
	if int64(len(b)) > c.n {
		b = b[:c.n]
	}
	n, err := c.r.Read(b)
	c.n -= int64(n)
	return n, err
}

func (p *proxy) handle(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	cr := &cappedReader{r: c, n: proxyHeaderLimit, cap: true}
	br := bufio.NewReader(cr)
	req, err := http.ReadRequest(br)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
		return
	}
	cr.cap = false
	var host string
	var port int
	if req.Method == http.MethodConnect {
		h, ps, err := net.SplitHostPort(req.RequestURI)
		if err != nil {
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
			return
		}
		host = h
		port, _ = strconv.Atoi(ps)
	} else {
		if req.URL == nil || req.URL.Host == "" || req.URL.Scheme != "http" {
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
			return
		}
		host = req.URL.Hostname()
		port = 80
		if ps := req.URL.Port(); ps != "" {
			port, _ = strconv.Atoi(ps)
		}
	}
	ok, reason := p.allowed(host, port)
	ev := Event{Kind: EventEgress, Host: strings.ToLower(host), Port: port, Method: req.Method, Reason: reason}
	if a, err := netip.ParseAddr(host); err == nil {
		ev.Addr = a.String()
	}
	ev.Allowed = &ok
	if !p.decide(ev) {
		ok = false
	}
	if !ok {
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nmlgate run: egress to "+net.JoinHostPort(host, strconv.Itoa(port))+" denied: "+reason+"\n")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	up, err := p.dial(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	cancel()
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n")
		return
	}
	defer up.Close()
	_ = c.SetDeadline(time.Time{})
	if req.Method == http.MethodConnect {
		if _, err := io.WriteString(c, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
			return
		}
		if n := br.Buffered(); n > 0 {
			b, _ := br.Peek(n)
			if _, err := up.Write(b); err != nil {
				return
			}
		}
		relay(c, up)
		return
	}
	for k := range req.Header {
		if strings.HasPrefix(strings.ToLower(k), "proxy-") {
			req.Header.Del(k)
		}
	}
	req.Header.Set("Connection", "close")
	req.Close = true
	if err := req.Write(up); err != nil {
		return
	}
	_, _ = io.Copy(c, up)
}

// relay copies both ways until both directions end.
func relay(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
}

// safeDialer dials out for the proxy and refuses addresses a stage has no
// business reaching through it even when a name is allowed: loopback,
// link-local and the other cloud metadata addresses (fd00:ec2::254,
// Alibaba's 100.100.100.200), unspecified and multicast, so that a name
// that resolves there (DNS rebinding) does not open a way in. Private
// ranges stay reachable: allowed internal mirrors live there.
func safeDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{
		Timeout: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			a := ap.Addr().Unmap()
			if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified() || a.IsMulticast() ||
				a == netip.MustParseAddr("fd00:ec2::254") || a == netip.MustParseAddr("100.100.100.200") {
				return fmt.Errorf("refusing to proxy to %s", a)
			}
			return nil
		},
	}
	return d.DialContext
}
