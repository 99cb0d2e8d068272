#!/usr/bin/env bash
# Quick start: prepare the checkout (scripts/setup.sh), then train on Fashion-MNIST.
# Arguments go to the example: bash scripts/main.sh --help
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec npx --no-install tsx examples/fashion-mnist.ts "$@"
