#!/usr/bin/env bash
# Quick start: prepare the checkout (scripts/setup.sh), then train on Fashion-MNIST.
# Arguments go to the example: bash scripts/main.sh --help
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# node with tsx as a loader, not `npx tsx`: both wrappers relay a Ctrl-C the terminal already
# sent to the job, and a second SIGINT ends it before it can checkpoint (docs/checkpoints.md).
exec node --import tsx examples/fashion-mnist.ts "$@"
