#!/usr/bin/env bash
# The test command (npm test): setup, typecheck, then every jest suite (test/**/*.test.ts,
# including the pack test). Arguments go to jest (e.g. a path pattern).
# The last line is always `tests: N passed, M failed`: N and M are jest's numPassedTests and
# numFailedTests, plus one failure for each suite that failed without running a test (a syntax
# error, a failing beforeAll), for a failed typecheck, and for a failed setup. Exit 1 when M > 0.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! bash scripts/setup.sh; then
  echo "test: setup failed (see above)" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

typecheck_failed=0
if ! npm run --silent typecheck; then
  echo "test: typecheck failed (see above)" >&2
  typecheck_failed=1
fi

report="$(mktemp -t signin-jest-XXXXXX.json)"
trap 'rm -f "$report"' EXIT
npx --no-install jest --ci --json --outputFile="$report" -w 2 "$@"
jest_rc=$?

node - "$report" "$typecheck_failed" "$jest_rc" <<'JS'
const fs = require('node:fs');
const [file, typecheckFailed, jestRc] = process.argv.slice(2);
let passed = 0;
let failed = Number(typecheckFailed);
let r = null;
try { r = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { /* jest crashed before writing */ }
if (r) {
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  const empty = r.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0);
  for (const s of empty) console.error(`test: suite failed without running a test: ${s.name}`);
  failed += empty.length;
}
// jest failed in a way no count shows (no report, a crash, an unmatched pattern): still a failure.
if (Number(jestRc) !== 0 && failed === Number(typecheckFailed)) failed += 1;
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
JS
