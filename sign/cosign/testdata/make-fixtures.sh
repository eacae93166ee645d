#!/bin/sh
# Regenerates the cosign interop fixtures in this directory. Run once by hand
# (tests never run it): it needs a cosign binary (COSIGN, built with
#   GOBIN=/tmp/cosign-bin GOFLAGS=-mod=mod go install github.com/sigstore/cosign/v2/cmd/cosign@v2.4.1)
# and an mlgate binary (MLGATE, go build -o /tmp/mlgate ./cmd/mlgate).
# Keys are throwaway test keys; the password is public.
set -eu
COSIGN=${COSIGN:-/tmp/cosign-bin/cosign}
MLGATE=${MLGATE:-/tmp/mlgate}
export COSIGN_PASSWORD=mlgate-test-password
cd "$(dirname "$0")"
rm -rf cosign.key cosign.pub cosign-ed25519.key cosign-ed25519.pub model.bin ./*.sig model.bin.signatures

# Keys: an ECDSA P-256 pair from cosign itself, an Ed25519 pair imported.
"$COSIGN" generate-key-pair
openssl genpkey -algorithm ed25519 -out /tmp/ed25519-plain.pem
"$COSIGN" import-key-pair --key /tmp/ed25519-plain.pem --output-key-prefix cosign-ed25519
rm /tmp/ed25519-plain.pem

# The artifact: 64 KiB of deterministic bytes.
python3 -c '
import hashlib
out = b""
i = 0
while len(out) < 65536:
    out += hashlib.sha256(b"mlgate-cosign-fixture-%d" % i).digest()
    i += 1
open("model.bin", "wb").write(out)'

# cosign signs, mlgate verifies (tests).
"$COSIGN" sign-blob --yes --tlog-upload=false --key cosign.key --output-signature artifact.sig model.bin
"$COSIGN" sign-blob --yes --tlog-upload=false --key cosign-ed25519.key --output-signature artifact.ed25519.sig model.bin
COSIGN_PRIVATE_KEY="$(cat cosign.key)" "$COSIGN" sign-blob --yes --tlog-upload=false \
  --key env://COSIGN_PRIVATE_KEY --output-signature artifact.envkey.sig model.bin

# mlgate signs, cosign verifies (here).
"$MLGATE" sign --format cosign model.bin --key cosign.key --output mlgate-artifact.sig
"$MLGATE" sign --format cosign model.bin --key cosign-ed25519.key --output mlgate-artifact.ed25519.sig
"$COSIGN" verify-blob --insecure-ignore-tlog=true --key cosign.pub --signature mlgate-artifact.sig model.bin
"$COSIGN" verify-blob --insecure-ignore-tlog=true --key cosign-ed25519.pub --signature mlgate-artifact.ed25519.sig model.bin

# The seed script's layout: ARTIFACT.signatures/{artifact.sig,provenance.json,provenance.sig}.
# provenance.json comes from mlgate in a simulated GitHub Actions run and is
# signed by cosign (mlgate verifies it in the tests); mlgate's own signature
# of the same file (mlgate-provenance.sig) is checked by cosign here.
mkdir model.bin.signatures
cp artifact.sig model.bin.signatures/artifact.sig
env GITHUB_ACTIONS=true GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/fraud-model \
  GITHUB_SHA=0123456789abcdef0123456789abcdef01234567 GITHUB_REF=refs/heads/main \
  GITHUB_RUN_ID=987654321 GITHUB_RUN_ATTEMPT=1 GITHUB_WORKFLOW=train \
  GITHUB_WORKFLOW_REF=acme/fraud-model/.github/workflows/train.yml@refs/heads/main \
  RUNNER_NAME="GitHub Actions 2" RUNNER_ENVIRONMENT=github-hosted \
  COSIGN_PRIVATE_KEY="$(cat cosign.key)" \
  "$MLGATE" provenance model.bin --key env://COSIGN_PRIVATE_KEY \
    --output model.bin.signatures/provenance.json --signature-output model.bin.signatures/mlgate-provenance.sig
"$COSIGN" sign-blob --yes --tlog-upload=false --key cosign.key \
  --output-signature model.bin.signatures/provenance.sig model.bin.signatures/provenance.json
"$COSIGN" verify-blob --insecure-ignore-tlog=true --key cosign.pub \
  --signature model.bin.signatures/mlgate-provenance.sig model.bin.signatures/provenance.json
"$COSIGN" verify-blob --insecure-ignore-tlog=true --key cosign.pub \
  --signature model.bin.signatures/artifact.sig model.bin
"$MLGATE" verify model.bin --signature model.bin.signatures/artifact.sig --key cosign.pub
"$MLGATE" verify model.bin --provenance model.bin.signatures/provenance.json \
  --provenance-signature model.bin.signatures/provenance.sig --key cosign.pub \
  --expect-repo acme/fraud-model --expect-ref main --expect-builder https://github.com/actions/runner/github-hosted
