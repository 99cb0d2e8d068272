/**
 * The addon builds and runs against a libtorch 2.x as well as Debian's 1.13 (issue 16): where a
 * torch 2.x wheel is reachable (PIP_FIND_LINKS or SIGNIN_TORCH2_WHEEL), scripts/libtorch2-check.sh
 * --quick unpacks its libtorch, runs scripts/gpu-check.sh's configure, build, smoke and tests steps
 * against it (the suites of the version-dependent native code: dispatcher schemas, the CPU
 * allocator, autocast, c10d, sdpa) and parses the CUDA-only code against its headers. Elsewhere the
 * suite is skipped with the reason in its title. The full subset is a separate command (see
 * docs/architecture.md, "libtorch 2.x"): it takes longer than CI allows.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'libtorch2-check.sh');

const found = spawnSync('bash', [SCRIPT, '--find'], { cwd: ROOT, encoding: 'utf8' });
const wheel = found.status === 0 ? found.stdout.trim() : undefined;
const title = 'scripts/libtorch2-check.sh --quick: the addon against a libtorch 2.x';

(wheel ? describe : describe.skip)(wheel ? `${title} (${path.basename(wheel)})` : `${title} [skipped: ${found.stderr.trim()}]`, () => {
  let out: string;
  let result: ReturnType<typeof spawnSync>;
  let summary: Map<string, string>;

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'signin-libtorch2-'));
    result = spawnSync('bash', [SCRIPT, '--quick'], { cwd: ROOT, encoding: 'utf8', timeout: 1_800_000, env: { ...process.env, OUT: out } });
    const rows = fs.readFileSync(path.join(out, 'summary.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    summary = new Map(rows.map(([step, status]) => [step, status]));
  }, 1_800_000);

  afterAll(() => {
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('configures against the wheel\'s libtorch 2.x and builds, loads and tests the addon', () => {
    expect(['configure', 'build', 'smoke', 'tests'].map((s) => `${s}: ${summary.get(s)}`)).toEqual(
      ['configure: ok', 'build: ok', 'smoke: ok', 'tests: ok']);
    expect(fs.readFileSync(path.join(out, 'logs', 'configure.log'), 'utf8')).toMatch(/signin-torch: libtorch 2\.\d+/);
    // The addon the tests loaded reports the wheel's libtorch, not Debian's.
    expect(fs.readFileSync(path.join(out, 'logs', 'smoke.log'), 'utf8')).toMatch(/"torch":"2\.\d+/);
    const jest = JSON.parse(fs.readFileSync(path.join(out, 'jest.json'), 'utf8')) as { success: boolean; numPassedTests: number };
    expect(jest.success).toBe(true);
    expect(jest.numPassedTests).toBeGreaterThan(50);
    expect(result.status).toBe(0);
  });

  it('parses the CUDA-only code against the 2.x headers, or says why not', () => {
    expect(summary.get('cuda-syntax')).toMatch(/^(ok|skipped \(no CUDA toolkit headers\))$/);
  });
});
