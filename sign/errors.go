package sign

import "fmt"

// Kind classifies a verification failure. Each kind has its own message,
// and callers (the CLI) map every Failure to "verification failed" (exit 1);
// any other error means verification could not be carried out (exit 2).
type Kind string

// Failure kinds.
const (
	// KindWrongKey: the bundle names a different key (publicKey.hint) or
	// certificate than the one given.
	KindWrongKey Kind = "wrong-key"
	// KindBadSignature: the DSSE signature does not verify with the key.
	KindBadSignature Kind = "bad-signature"
	// KindCorruptBundle: the signature file is not a well-formed OMS bundle.
	KindCorruptBundle Kind = "corrupt-bundle"
	// KindUnknownPredicate: the statement is not a model signature.
	KindUnknownPredicate Kind = "unknown-predicate"
	// KindInconsistent: the resources do not hash to the subject digest.
	KindInconsistent Kind = "inconsistent-manifest"
	// KindUntrustedCert: the signing certificate does not chain to the
	// given trust anchors or may not sign.
	KindUntrustedCert Kind = "untrusted-certificate"
	// KindChanged: a file's content differs from the signed digest.
	KindChanged Kind = "file-changed"
	// KindAdded: a file is present that the signature does not cover.
	KindAdded Kind = "file-added"
	// KindMissing: a signed file is absent.
	KindMissing Kind = "file-missing"
	// KindTruncated: a file is shorter than the signed shards cover.
	KindTruncated Kind = "file-truncated"
	// KindSymlink: a symbolic link where links are not allowed, or a
	// dangling one.
	KindSymlink Kind = "symlink"
	// KindSymlinkEscape: a symbolic link that leaves the model directory.
	KindSymlinkEscape Kind = "symlink-escape"
	// KindSpecialFile: a FIFO, socket or device inside the model.
	KindSpecialFile Kind = "special-file"
)

// Failure is a verification failure (as opposed to an error that kept the
// verification from running). Path names the file concerned, if any.
type Failure struct {
	Kind Kind
	Path string
	Msg  string
}

func (f *Failure) Error() string { return f.Msg }

func failf(k Kind, path, format string, args ...any) *Failure {
	return &Failure{Kind: k, Path: path, Msg: fmt.Sprintf(format, args...)}
}
