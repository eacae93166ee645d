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
	// resolve turns an allowed name into addresses, once per request; the
	// proxy then dials one of those addresses itself, so what was checked
	// is what is connected to (no second lookup a rebinding DNS server
	// could answer differently). nil: the system resolver.
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// allowPrivate lets allowed names reach private, loopback and shared
	// (CGNAT) addresses: internal mirrors.
	allowPrivate bool
	// dial connects to an address (an IP literal and port).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Only names the allow-list lets through are looked up: a refused
	// name must not leave the runner as a DNS query either.
	var targets []netip.Addr
	var resolveErr error
	if ok {
		targets, resolveErr = p.destinations(ctx, host, &ev)
		if ev.AddrClass != "" {
			ok = false
			reason = ev.Reason
		}
	}
	ev.Allowed = &ok
	if !p.decide(ev) {
		ok = false
	}
	if !ok {
		io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nmlgate run: egress to "+net.JoinHostPort(host, strconv.Itoa(port))+" denied: "+reason+"\n")
		return
	}
	if resolveErr != nil || len(targets) == 0 {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n")
		return
	}
	var up net.Conn
	err = errors.New("no address")
	for i, a := range targets {
		// An address that does not answer must not use up the time of
		// the ones after it.
		actx, acancel := ctx, context.CancelFunc(func() {})
		if i < len(targets)-1 {
			actx, acancel = context.WithTimeout(ctx, 10*time.Second)
		}
		up, err = p.dial(actx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		acancel()
		if err == nil {
			break
		}
	}
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

// destinations resolves host (an IP literal is its own answer) and keeps
// the addresses the proxy may dial. When none is left, ev is marked
// refused: AddrClass names the class of the first refused address and
// Reason says why. ev.Addr is the first address kept (or refused).
func (p *proxy) destinations(ctx context.Context, host string, ev *Event) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		resolve := p.resolve
		if resolve == nil {
			resolve = func(ctx context.Context, h string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", h)
			}
		}
		var err error
		if addrs, err = resolve(ctx, host); err != nil {
			ev.Reason += "; resolving it failed: " + err.Error()
			return nil, err
		}
	}
	if len(addrs) > maxResolvedAddrs {
		addrs = addrs[:maxResolvedAddrs]
	}
	var keep []netip.Addr
	var refused []string
	firstClass, firstAddr := "", ""
	for _, a := range addrs {
		a = a.WithZone("")
		if class := refusedAddr(a, p.allowPrivate); class != "" {
			if firstClass == "" {
				firstClass, firstAddr = class, a.String()
			}
			refused = append(refused, a.String()+" ("+class+")")
			continue
		}
		keep = append(keep, a)
	}
	switch {
	case len(keep) > 0:
		ev.Addr = keep[0].String()
		if len(refused) > 0 {
			ev.Reason += "; skipped " + strings.Join(refused, ", ")
		}
	case firstClass != "":
		ev.Addr, ev.AddrClass = firstAddr, firstClass
		ev.Reason = "resolves to " + strings.Join(refused, ", ") + ": the proxy does not connect to " + firstClass + " addresses"
		if !alwaysRefused(netip.MustParseAddr(firstAddr)) {
			ev.Reason += " unless --allow-private-egress is given"
		}
	}
	return keep, nil
}

// maxResolvedAddrs bounds the addresses tried for one request.
const maxResolvedAddrs = 16

var (
	metadataPrefixes = []netip.Prefix{
		netip.MustParsePrefix("169.254.169.254/32"), netip.MustParsePrefix("169.254.170.2/32"),
		netip.MustParsePrefix("100.100.100.200/32"), netip.MustParsePrefix("fd00:ec2::254/128"),
	}
	// Never dialled: there is no legitimate proxy destination here.
	alwaysPrefixes = []struct {
		p     netip.Prefix
		class string
	}{
		{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (0.0.0.0/8)"},
		{netip.MustParsePrefix("::/128"), "unspecified"},
		{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
		{netip.MustParsePrefix("fe80::/10"), "link-local"},
		{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
		{netip.MustParsePrefix("ff00::/8"), "multicast"},
		{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
		{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
	}
	// Private: refused unless allowPrivate.
	privatePrefixes = []struct {
		p     netip.Prefix
		class string
	}{
		{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
		{netip.MustParsePrefix("::1/128"), "loopback"},
		{netip.MustParsePrefix("10.0.0.0/8"), "private (10.0.0.0/8)"},
		{netip.MustParsePrefix("172.16.0.0/12"), "private (172.16.0.0/12)"},
		{netip.MustParsePrefix("192.168.0.0/16"), "private (192.168.0.0/16)"},
		{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (100.64.0.0/10, CGNAT)"},
		{netip.MustParsePrefix("fc00::/7"), "unique local (fc00::/7)"},
		{netip.MustParsePrefix("fec0::/10"), "site-local (fec0::/10)"},
	}
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
)

// embeddedV4 returns the IPv4 address inside an IPv4-mapped
// (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address, which reach that
// IPv4 address; other addresses are returned as they are.
func embeddedV4(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() && nat64Prefix.Contains(a) {
		b := a.As16()
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	return a
}

// alwaysRefused: cloud metadata, unspecified, link-local, multicast,
// broadcast and reserved addresses, refused even with allowPrivate.
func alwaysRefused(a netip.Addr) bool {
	return refusedAddr(a, true) != ""
}

// refusedAddr returns why the proxy must not dial a ("" when it may):
// the class of a private, loopback, link-local, metadata, unspecified,
// multicast or reserved address. With allowPrivate, loopback, RFC 1918,
// shared (CGNAT) and unique-local addresses are allowed; cloud metadata,
// link-local, unspecified, multicast, broadcast and reserved never are.
func refusedAddr(a netip.Addr, allowPrivate bool) string {
	a = embeddedV4(a.WithZone(""))
	if !a.IsValid() {
		return "invalid"
	}
	for _, m := range metadataPrefixes {
		if m.Contains(a) {
			return "cloud metadata"
		}
	}
	for _, r := range alwaysPrefixes {
		if r.p.Contains(a) {
			return r.class
		}
	}
	if allowPrivate {
		return ""
	}
	for _, r := range privatePrefixes {
		if r.p.Contains(a) {
			return r.class
		}
	}
	return ""
}

// safeDialer dials out for the proxy. It checks the address of every
// socket it connects (after resolution, as the kernel will use it)
// with refusedAddr, a second line behind the proxy's own check of the
// addresses it resolved.
func safeDialer(allowPrivate bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{
		Timeout: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			if class := refusedAddr(ap.Addr(), allowPrivate); class != "" {
				return fmt.Errorf("refusing to proxy to %s (%s)", ap.Addr(), class)
			}
			return nil
		},
	}
	return d.DialContext
}

// egressPrivateNote completes the egress layer's reason.
func egressPrivateNote(allowPrivate bool) string {
	if allowPrivate {
		return "; private, loopback and shared addresses allowed (--allow-private-egress)"
	}
	return "; names that resolve to private, loopback, link-local or metadata addresses are refused"
}
