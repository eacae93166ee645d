package gitlab

import (
	"bytes"
	"path"
	"strings"

	"github.com/mlgate/mlgate/pipeline"
)

func init() {
	pipeline.RegisterAdapter(&pipeline.Adapter{
		Format:    Format,
		Title:     "GitLab CI configuration",
		MatchPath: IsConfigPath,
		Sniff:     Sniff,
		Parse:     parseConfigured,
	})
}

// parseConfigured parses with the runner-tag patterns configured as
// options of pipeline/gitlab-mr-self-hosted-runner (gpu_tags,
// hosted_tags), each replacing its default list when set. A value of the
// wrong type is left to the rule, which reports it when the configuration
// is loaded.
func parseConfigured(src *pipeline.Source) ([]*pipeline.Graph, error) {
	opts := DefaultOptions()
	if src.RuleOptions != nil {
		o := src.RuleOptions(MRSelfHostedRunner.ID)
		if l, ok := pipeline.StringListValue(o["gpu_tags"]); ok {
			opts.GPUTags = l
		}
		if l, ok := pipeline.StringListValue(o["hosted_tags"]); ok {
			opts.HostedTags = l
		}
	}
	return ParseWith(src, opts)
}

// IsConfigPath reports whether a file is read as GitLab CI by its path:
// .gitlab-ci.yml/.yaml at any depth (the one at the repository root is the
// pipeline), any YAML file whose name contains "gitlab-ci"
// (build.gitlab-ci.yml, .gitlab-ci-deploy.yml), and YAML files under a
// .gitlab/ directory. Files other than the root pipeline that the root
// pipeline includes yield no graph of their own; files nobody includes are
// read leniently as possible fragments (see docs/adapters/gitlab-ci.md).
func IsConfigPath(rel string) bool {
	rel = strings.ReplaceAll(rel, "\\", "/")
	base := strings.ToLower(path.Base(rel))
	ext := path.Ext(base)
	if ext != ".yml" && ext != ".yaml" {
		return false
	}
	if strings.Contains(base, "gitlab-ci") {
		return true
	}
	lower := strings.ToLower(rel)
	return strings.HasPrefix(lower, ".gitlab/") || strings.Contains(lower, "/.gitlab/")
}

// Sniff recognises a GitLab CI configuration at a custom path: a top-level
// `stages:` or `workflow:` key together with an indented `script:` key, and
// none of the keys that mark GitHub Actions, Kubernetes manifests or
// Kubeflow IR.
func Sniff(head []byte) bool {
	var gitlabKey, script bool
	for _, line := range bytes.Split(head, []byte("\n")) {
		line = bytes.TrimRight(line, "\r ")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' && line[0] != '-' {
			switch {
			case hasKey(line, "stages"), hasKey(line, "workflow"):
				gitlabKey = true
			case hasKey(line, "on"), hasKey(line, "jobs"), hasKey(line, "apiVersion"), hasKey(line, "kind"),
				hasKey(line, "pipelineInfo"), hasKey(line, "deploymentSpec"), hasKey(line, "runs"):
				return false
			}
			continue
		}
		t := bytes.TrimLeft(line, " \t")
		if hasKey(t, "script") || hasKey(t, "before_script") {
			script = true
		}
	}
	return gitlabKey && script
}

func hasKey(line []byte, key string) bool {
	if !bytes.HasPrefix(line, []byte(key)) {
		return false
	}
	rest := line[len(key):]
	return len(rest) > 0 && rest[0] == ':' || bytes.HasPrefix(rest, []byte(" :"))
}

// credentialWords mark a variable that holds a credential.
var credentialWords = map[string]bool{
	"TOKEN": true, "PASSWORD": true, "PASSWD": true, "SECRET": true, "PASSPHRASE": true, "CREDENTIALS": true,
	"CREDENTIAL": true, "APIKEY": true, "PAT": true, "JWT": true, "KUBECONFIG": true, "CREDS": true,
}

// keyQualifiers make KEY a credential word (API_KEY, SSH_PRIVATE_KEY).
var keyQualifiers = map[string]bool{
	"API": true, "PRIVATE": true, "ACCESS": true, "SECRET": true, "SSH": true, "DEPLOY": true, "SIGNING": true,
	"GPG": true, "PGP": true, "AUTH": true, "ENCRYPTION": true, "MASTER": true, "SERVICE": true, "ACCOUNT": true,
	"LICENSE": true, "COSIGN": true, "STORAGE": true, "CLIENT": true, "APP": true,
}

// notCredentialWords mark names about a credential rather than holding one
// (TOKEN_URL, SECRET_DETECTION_DISABLED, COSIGN_PUBLIC_KEY).
var notCredentialWords = map[string]bool{
	"PUBLIC": true, "PUB": true, "ID": true, "IDS": true, "URL": true, "URI": true, "HOST": true, "HOSTNAME": true,
	"PORT": true, "PATH": true, "DIR": true, "NAME": true, "NAMES": true, "USER": true, "USERNAME": true,
	"EXPIRES": true, "EXPIRY": true, "EXPIRE": true, "TTL": true, "TYPE": true, "HEADER": true, "PREFIX": true,
	"SUFFIX": true, "REGION": true, "ENDPOINT": true, "FINGERPRINT": true, "ALGORITHM": true, "DETECTION": true,
	"DISABLED": true, "ENABLED": true, "EXCLUDED": true, "ANALYZER": true, "ANALYZERS": true, "REPORT": true,
	"VERSION": true, "IMAGE": true, "TEMPLATE": true, "LENGTH": true, "LEN": true, "COUNT": true, "SCOPE": true,
	"SCOPES": true, "DURATION": true, "TIMEOUT": true, "LIFETIME": true, "AUD": true, "AUDIENCE": true,
	"ISSUER": true, "PROVIDER": true, "METHOD": true, "ROLE": true, "VERIFY": true, "VERIFICATION": true,
	"REQUIRED": true, "ENV": true, "FILENAME": true, "LOCATION": true, "SCANNING": true, "SCAN": true,
}

// IsCredentialName reports whether a variable's name says it holds a
// credential: a word such as TOKEN, PASSWORD, SECRET, PASSPHRASE,
// CREDENTIALS or JWT, KEY qualified by API, PRIVATE, ACCESS, SSH, DEPLOY,
// SIGNING, GPG and the like, or a signing-key name
// (pipeline.IsSigningKeyName); and no word that marks a name, address,
// switch or public half (TOKEN_URL, SECRET_DETECTION_DISABLED,
// COSIGN_PUBLIC_KEY, AWS_ACCESS_KEY_ID).
func IsCredentialName(name string) bool {
	if len(name) > 128 {
		return false
	}
	ws := strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	cred := false
	for i, w := range ws {
		if notCredentialWords[w] {
			return false
		}
		if credentialWords[w] {
			cred = true
		}
		if (w == "KEY" || w == "KEYS") && i > 0 && keyQualifiers[ws[i-1]] {
			cred = true
		}
		if w == "APIKEY" || w == "PRIVATEKEY" || w == "ACCESSKEY" || w == "SECRETKEY" {
			cred = true
		}
	}
	if len(ws) == 2 && ws[0] == "DOCKER" && ws[1] == "AUTH" {
		cred = true
	}
	if strings.EqualFold(name, "DOCKER_AUTH_CONFIG") {
		cred = true
	}
	return cred || pipeline.IsSigningKeyName(name)
}
