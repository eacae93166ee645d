package run

import (
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy([]byte(`
version: 1
mode: enforce
network: allow
allow_hosts: ["huggingface.co:443", "*.hf.co:443"]
allow_private_egress: true
rw: [./out]
secrets: [HF_TOKEN]
timeout: 2h
executables: [/usr/bin/python3]
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeEnforce || p.Network != NetworkAllow || len(p.AllowHosts) != 2 || p.Secrets[0] != "HF_TOKEN" || p.Timeout != "2h" || !p.AllowPrivateEgress {
		t.Errorf("%+v", p)
	}
	if p, err := ParsePolicy(nil); err != nil || p.Mode != "" {
		t.Errorf("empty policy: %+v %v", p, err)
	}
	for _, bad := range []string{
		"mode: permissive",
		"network: bridge",
		"allow_hosts: [huggingface.co]",
		"allow_hosts: ['h*.co:443']",
		"secrets: ['A=B']",
		"timeout: soon",
		"netwrok: none", // unknown key: a typo must not weaken the policy silently
		"version: 2",
		"rw: ['']",
		"- a list",
	} {
		if _, err := ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, err := ParsePolicy([]byte(strings.Repeat("#", maxPolicyBytes+1))); err == nil {
		t.Error("accepted an oversized policy")
	}
}

func TestLearnRoundTrip(t *testing.T) {
	o := &Options{RW: []string{"/out", "/unused"}, Secrets: []string{"HF_TOKEN"}}
	res := &Result{
		Events: []Event{
			{Kind: EventExec, Path: "/usr/bin/python3"},
			{Kind: EventExec, Path: "/usr/bin/python3"},
			{Kind: EventExec, Path: "/memfd:x", FromFD: true},
			{Kind: EventEgress, Host: "huggingface.co", Port: 443, Allowed: bptr(false)},
		},
		FileChanges: []FileChange{{Path: "/out/model.bin", Change: ChangeAdded, Root: "/out"}},
	}
	p := Learn(o, res)
	if p.Network != NetworkAllow || strings.Join(p.AllowHosts, ",") != "huggingface.co:443" ||
		strings.Join(p.Executables, ",") != "/usr/bin/python3" || strings.Join(p.RW, ",") != "/out" {
		t.Errorf("learned %+v", p)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParsePolicy(b)
	if err != nil {
		t.Fatalf("learned policy does not parse: %v\n%s", err, b)
	}
	if strings.Join(q.Executables, ",") != "/usr/bin/python3" || q.Secrets[0] != "HF_TOKEN" || q.AllowPrivateEgress {
		t.Errorf("round trip: %+v", q)
	}
	// A run allowed to reach private addresses keeps that in what it learns,
	// as long as it used the network at all.
	o.AllowPrivateEgress = true
	if p := Learn(o, res); !p.AllowPrivateEgress {
		t.Error("allow_private_egress not learned")
	}
	if p := Learn(o, &Result{}); p.AllowPrivateEgress {
		t.Error("allow_private_egress learned for a run without egress")
	}
}

func TestLearnModelWriters(t *testing.T) {
	o := &Options{ModelOutput: "/out"}
	res := &Result{Events: []Event{
		{Kind: EventWrite, Op: OpOpen, Path: "/out/model.bin", Exe: "/usr/bin/python3.11"},
		{Kind: EventWrite, Op: OpRename, Path: "/out/model.safetensors", From: "/tmp/x", Exe: "/usr/bin/mv"},
		{Kind: EventWrite, Op: OpOpen, Path: "/logs/train.log", Exe: "/usr/bin/tee"},
		{Kind: EventWrite, Op: OpOpen, Path: "/out/x", Exe: ""},
	}}
	p := Learn(o, res)
	if p.ModelOutput == nil || p.ModelOutput.Path != "/out" || strings.Join(p.ModelOutput.Writers, ",") != "/usr/bin/mv,/usr/bin/python3.11" {
		t.Fatalf("learned %+v", p.ModelOutput)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParsePolicy(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if q.ModelOutput == nil || q.ModelOutput.Path != "/out" || strings.Join(q.ModelOutput.Writers, ",") != "/usr/bin/mv,/usr/bin/python3.11" {
		t.Errorf("round trip %+v\n%s", q.ModelOutput, b)
	}
	if Learn(&Options{}, res).ModelOutput != nil {
		t.Error("model_output learned without a model output")
	}
	for _, bad := range []string{"model_output: {writers: [python]}\n", "model_output: {path: /out, writers: ['[']}\n", "model_output: {path: /out, writer: [x]}\n"} {
		if _, err := ParsePolicy([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestParseHistory(t *testing.T) {
	ds, err := ParseHistory(strings.NewReader("# stage train\n1m30s\n\n90.5\n  2m \n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{90 * time.Second, 90500 * time.Millisecond, 2 * time.Minute}
	if len(ds) != len(want) {
		t.Fatalf("%v", ds)
	}
	for i := range want {
		if ds[i] != want[i] {
			t.Errorf("%d: %v want %v", i, ds[i], want[i])
		}
	}
	for _, bad := range []string{"-5s\n", "soon\n", "NaN\n", "1e300\n", strings.Repeat("9", 5000) + "\n"} {
		if _, err := ParseHistory(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %.20q", bad)
		}
	}
	if d, _ := ParseHistory(strings.NewReader(FormatHistoryEntry(1234567 * time.Microsecond))); len(d) != 1 || d[0] != 1235*time.Millisecond {
		t.Errorf("format/parse round trip: %v", d)
	}
}

func TestHostRule(t *testing.T) {
	r, err := ParseHostRule("*.HF.co:443")
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"cdn.hf.co": true, "a.b.hf.co": true, "hf.co": false, "evilhf.co": false, "hf.co.evil": false} {
		if r.Match(host, 443) != want {
			t.Errorf("%s: want %v", host, want)
		}
	}
	if r.Match("cdn.hf.co", 80) {
		t.Error("port ignored")
	}
	e, _ := ParseHostRule("huggingface.co:443")
	if !e.Match("HuggingFace.co.", 443) || e.Match("x.huggingface.co", 443) {
		t.Error("exact rule")
	}
	for _, bad := range []string{"huggingface.co", "*:443", "a*.b:443", "h:0", "h:70000", ":443"} {
		if _, err := ParseHostRule(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestProcParsers(t *testing.T) {
	st := parseStatus([]byte("Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t4120\nNSpid:\t4127\t7\n"))
	if st.Name != "python3" || st.PPid != 4120 || st.NSpid != 7 {
		t.Errorf("%+v", st)
	}
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 98765 1 0000000000000000 20 4 30 10 -1\n"
	if !tcpTableHasInode([]byte(table), 98765) || tcpTableHasInode([]byte(table), 9876) || tcpTableHasInode([]byte(table), 0) {
		t.Error("tcp table inode lookup")
	}
	in4 := []byte{2, 0, 0x1f, 0x90, 169, 254, 169, 254, 0, 0, 0, 0, 0, 0, 0, 0}
	if f, a, p, ok := parseSockaddr(in4); !ok || f != "inet" || a != "169.254.169.254" || p != 8080 {
		t.Errorf("inet: %s %s %d %v", f, a, p, ok)
	}
	in6 := make([]byte, 28)
	in6[0] = 10
	in6[2], in6[3] = 0, 80
	copy(in6[8:], []byte{0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x54})
	if f, a, p, ok := parseSockaddr(in6); !ok || f != "inet6" || a != "fd00:ec2::254" || p != 80 {
		t.Errorf("inet6: %s %s %d %v", f, a, p, ok)
	}
	un := append([]byte{1, 0}, []byte("/run/nscd/socket\x00junk")...)
	if f, a, _, ok := parseSockaddr(un); !ok || f != "unix" || a != "/run/nscd/socket" {
		t.Errorf("unix: %s %q", f, a)
	}
	if _, _, _, ok := parseSockaddr([]byte{2, 0, 1}); ok {
		t.Error("short inet accepted")
	}
	if classifyFD("socket:[12]") != "socket" || classifyFD("pipe:[3]") != "pipe" || classifyFD("/dev/pts/0") != "tty" || classifyFD("/etc/passwd") != "file" {
		t.Error("classifyFD")
	}
	if n, ok := socketInode("socket:[4026]"); !ok || n != 4026 {
		t.Error("socketInode")
	}
	if _, ok := socketInode("socket:[x]"); ok {
		t.Error("socketInode accepted junk")
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("mode: enforce\nnetwork: allow\nallow_hosts: ['*.hf.co:443']\nrw: [out]\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("executables: [x, y]\ntimeout: 1h\nhistory: h.txt\n"))
	f.Add([]byte("model_output:\n  path: ./out\n  writers: [/usr/bin/python3*, cp]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		// What parses must survive a round trip.
		out, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParsePolicy(out); err != nil {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
	})
}

func FuzzParseHistory(f *testing.F) {
	f.Add("# h\n1m\n2.5\n")
	f.Add("1h2m3.5s\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ParseHistory(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(ds) > maxHistoryEntries {
			t.Fatalf("%d entries", len(ds))
		}
		for _, d := range ds {
			if d < 0 {
				t.Fatalf("negative %v", d)
			}
		}
	})
}

func FuzzProcParsers(f *testing.F) {
	f.Add([]byte("Name:\tsh\nPPid:\t1\nNSpid:\t9 2\n"), uint64(2))
	f.Add([]byte("Name:\tpython3\nTgid:\t40\nPPid:\t1\nNStgid:\t40\t3\nNSpid:\t41\t4\n"), uint64(3))
	f.Add([]byte("sl local\n 0: 0100007F:1 0:0 01 0:0 0:0 0 0 0 77 1\n"), uint64(77))
	f.Add([]byte{2, 0, 0, 80, 10, 0, 0, 1}, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, ino uint64) {
		st := parseStatus(b)
		if st.PPid < 0 || st.NSpid < 0 || st.Tgid < 0 || st.NStgid < 0 || len(st.Name) > 64 {
			t.Fatalf("%+v", st)
		}
		_ = tcpTableHasInode(b, ino)
		if fam, _, port, ok := parseSockaddr(b); ok && (port < 0 || port > 65535 || fam == "") {
			t.Fatalf("%s %d", fam, port)
		}
		_ = classifyFD(string(b))
		_, _ = socketInode(string(b))
	})
}
