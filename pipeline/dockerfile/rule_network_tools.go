package dockerfile

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/internal/shell"
)

// NetworkTools reports download and remote-shell tools a Dockerfile
// installs into its final image and never removes.
var NetworkTools = pipeline.Register(finding.Rule{
	ID:       "pipeline/dockerfile-network-tools",
	Title:    "Network tools left installed in the image",
	Severity: finding.Low,
	Doc: "The final image's build stages install curl, wget, netcat/nc/ncat, socat, nmap, telnet or an SSH " +
		"client with apt-get/apt, apk, yum, dnf, microdnf or zypper, and no later instruction of those stages " +
		"removes them (apt-get purge/remove, apk del, yum/dnf remove, or rm of the binary). Code that gets to " +
		"run in the container — a malicious pickle in a model the server loads — can then download its second " +
		"stage, open a reverse shell or reach internal services with ready-made tools. The seed's hardened " +
		"Dockerfile purges curl, wget and git and deletes nc/ncat/nmap. What the base image already contains " +
		"cannot be seen from the Dockerfile and is not reported; tools installed in a builder stage that the " +
		"final image only copies files from are not reported either.",
	Remediation: "Install download tools only in a builder stage and copy the results into the final stage, " +
		"or purge them in the same RUN instruction that used them (`apt-get purge -y --auto-remove curl`).",
}, func(p *pipeline.Pass) {
	f := fileOf(p.Graph)
	if f == nil {
		return
	}
	lin := f.lineage()
	if len(lin) == 0 {
		return
	}
	final := stageNamed(p.Graph, lin[0].Name)
	type inst struct {
		stage *pipeline.Stage
		step  *pipeline.Step
		off   int
	}
	installed := map[string]inst{}
	var order []string
	// Walk from the oldest ancestor to the final stage.
	for k := len(lin) - 1; k >= 0; k-- {
		s := stageNamed(p.Graph, lin[k].Name)
		if s == nil {
			continue
		}
		for i := range s.Steps {
			st := &s.Steps[i]
			for _, c := range shell.Parse(st.Run) {
				name, idx := c.Name()
				if idx < 0 {
					continue
				}
				args := c.Words[idx+1:]
				switch action := pkgAction(shell.Base(name), args); action {
				case "install":
					for _, a := range args {
						if tool := netTool(a.Val); tool != "" {
							if _, ok := installed[tool]; !ok {
								order = append(order, tool)
							}
							installed[tool] = inst{s, st, a.Start}
						}
					}
				case "remove":
					for _, a := range args {
						if tool := netTool(a.Val); tool != "" {
							delete(installed, tool)
						}
					}
				}
				if shell.Base(name) == "rm" {
					for _, a := range args {
						if tool := netTool(shell.Base(a.Val)); tool != "" && strings.Contains(a.Val, "/bin/") {
							delete(installed, tool)
						}
					}
				}
			}
		}
	}
	for _, tool := range order {
		in, ok := installed[tool]
		if !ok {
			continue
		}
		msg := "The image installs " + tool + " and never removes it: code that runs in the container can use it " +
			"to download payloads or open connections."
		if final != nil && final != in.stage {
			msg += " Stage '" + in.stage.Name + "' installs it and the final stage '" + final.Name + "' is built from it."
		}
		p.Report(in.stage, in.step.PosAt(in.off), msg, "tool="+tool)
	}
})

// pkgAction classifies a package-manager command: "install", "remove" or "".
func pkgAction(name string, args []shell.Word) string {
	sub := ""
	for _, a := range args {
		if !strings.HasPrefix(a.Val, "-") {
			sub = a.Val
			break
		}
	}
	switch name {
	case "apt-get", "apt", "aptitude":
		switch sub {
		case "install":
			return "install"
		case "purge", "remove", "autoremove":
			return "remove"
		}
	case "apk":
		switch sub {
		case "add":
			return "install"
		case "del":
			return "remove"
		}
	case "yum", "dnf", "microdnf", "zypper", "tdnf":
		switch sub {
		case "install", "in":
			return "install"
		case "remove", "erase", "rm", "autoremove":
			return "remove"
		}
	}
	return ""
}

// netTool maps a package or binary name to the tool it provides.
func netTool(pkg string) string {
	p := strings.ToLower(pkg)
	if i := strings.IndexAny(p, "=:<>"); i >= 0 {
		p = p[:i]
	}
	switch p {
	case "curl", "wget", "socat", "nmap", "telnet", "ncat":
		return p
	case "netcat", "netcat-openbsd", "netcat-traditional", "nc", "openbsd-netcat", "nmap-ncat", "busybox-extras":
		return "netcat"
	case "openssh-client", "openssh-clients", "ssh", "openssh":
		return "ssh"
	}
	return ""
}
