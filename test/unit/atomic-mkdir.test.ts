/**
 * A folder that cannot be made where mkdir answers ENOENT for good (/proc, sysfs): Node 20's
 * recursive mkdirSync loops forever there (it makes the parent, which exists, and retries), so
 * `train --runs-dir /proc/x` hung at full CPU instead of failing. makeDir must fail, naming the file.
 * In a child process, since the failure mode is a hang.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ATOMIC = path.join(__dirname, '..', '..', 'src', 'atomic.ts');

(fs.existsSync('/proc/self') ? test : test.skip)('writeJsonAtomic under /proc fails with ERR_IO instead of hanging', () => {
  const script = `const { writeJsonAtomic } = require(${JSON.stringify(ATOMIC)});
try { writeJsonAtomic('/proc/signin-no-such/run/config.json', {}); console.log('written'); }
catch (e) { console.log(e.code + ': ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--import', require.resolve('tsx'), '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect({ signal: r.signal, status: r.status }).toEqual({ signal: null, status: 0 });
  expect(r.stdout.trim()).toMatch(/^ERR_IO: Cannot write \/proc\/signin-no-such\/run\/config\.json: ENOENT: no such file or directory, mkdir '\/proc\/signin-no-such'/);
});
