// Package keylesstest makes keyless Sigstore bundles and matching trusted
// roots for tests, with sigstore-go's in-process test CA (a Fulcio-like
// certificate authority, a Rekor-like log and a timestamp authority with
// throwaway keys). Nothing touches the network. Only tests import it.
package keylesstest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
)

// Sigstore is one throwaway Sigstore deployment.
type Sigstore struct {
	vs *ca.VirtualSigstore
}

// New creates a deployment with fresh keys.
func New() (*Sigstore, error) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		return nil, err
	}
	return &Sigstore{vs: vs}, nil
}

// TrustedRootJSON returns the deployment's trusted_root.json (Fulcio CA,
// Rekor log, timestamp authority; no CT log, so SCTs are not required).
func (s *Sigstore) TrustedRootJSON() ([]byte, error) { return s.trustedRoot(false) }

// TrustedRootWithCTJSON is TrustedRootJSON plus a CT log, so verifiers
// require SCTs (which this deployment's certificates do not have).
func (s *Sigstore) TrustedRootWithCTJSON() ([]byte, error) { return s.trustedRoot(true) }

func (s *Sigstore) trustedRoot(withCT bool) ([]byte, error) {
	// The test CA keys its logs by the hex log ID but records the hex
	// text itself as the ID; a real trusted root records the raw bytes.
	logs := s.vs.RekorLogs()
	for k, tl := range logs {
		raw, err := hex.DecodeString(k)
		if err != nil {
			return nil, err
		}
		tl.ID = raw
	}
	var ct map[string]*root.TransparencyLog
	if withCT {
		ct = s.vs.CTLogs()
		for k, tl := range ct {
			raw, err := hex.DecodeString(k)
			if err != nil {
				return nil, err
			}
			tl.ID = raw
		}
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		s.vs.FulcioCertificateAuthorities(), ct, s.vs.TimestampingAuthorities(), logs)
	if err != nil {
		return nil, err
	}
	return tr.MarshalJSON()
}

// Bundle signs payload (an in-toto statement) as identity/issuer and
// returns a v0.3 Sigstore bundle in JSON: the Fulcio certificate, the DSSE
// envelope, a Rekor entry with inclusion proof and signed entry timestamp,
// and an RFC 3161 timestamp.
func (s *Sigstore) Bundle(identity, issuer string, payload []byte) ([]byte, error) {
	integrated := time.Now().Add(5 * time.Minute)
	ent, err := s.vs.AttestAtTime(identity, issuer, payload, integrated, true)
	if err != nil {
		return nil, err
	}
	vc, err := ent.VerificationContent()
	if err != nil {
		return nil, err
	}
	cert := vc.Certificate()
	sc, err := ent.SignatureContent()
	if err != nil {
		return nil, err
	}
	env, ok := sc.(*bundle.Envelope)
	if !ok {
		return nil, fmt.Errorf("unexpected signature content %T", sc)
	}
	entries, err := ent.TlogEntries()
	if err != nil || len(entries) != 1 {
		return nil, fmt.Errorf("tlog entries: %v", err)
	}
	tle := entries[0].TransparencyLogEntry()
	logID, err := s.vs.RekorLogID()
	if err != nil {
		return nil, err
	}
	set, err := s.vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          logID,
	})
	if err != nil {
		return nil, err
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	tss, err := ent.Timestamps()
	if err != nil {
		return nil, err
	}
	var rfc []*protocommon.RFC3161SignedTimestamp
	for _, t := range tss {
		rfc = append(rfc, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: t})
	}
	sigs := make([]*protodsse.Signature, 0, len(env.Signatures))
	for _, sg := range env.Signatures {
		raw, err := base64.StdEncoding.DecodeString(sg.Sig)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, &protodsse.Signature{Sig: raw, Keyid: sg.KeyID})
	}
	pl, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, err
	}
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
			TlogEntries:               []*protorekor.TransparencyLogEntry{tle},
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: rfc},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: pl, PayloadType: env.PayloadType, Signatures: sigs,
		}},
	}
	out, err := protojson.Marshal(pb)
	if err != nil {
		return nil, err
	}
	// Re-indent for readability of test failures; content is unchanged.
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, err
	}
	return json.MarshalIndent(v, "", "  ")
}
