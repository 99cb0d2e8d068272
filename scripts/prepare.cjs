#!/usr/bin/env node
/**
 * npm's `prepare`: what a git checkout lacks to be installed as a dependency. npm runs it after
 * `npm install` in a checkout, and when installing from a git URL it clones, runs `npm install`
 * there (whose `install` script, node-gyp-build, compiles the addon into build/ because a
 * checkout has no prebuilds/), runs this, and packs the result. So this makes sure of:
 *   1. dist/ (tsc), when missing or older than src/;
 *   2. prebuilds/<platform>-<arch>/signin-torch.node, the file node-gyp-build loads in the
 *      installed package: the build/ that the install step just compiled, copied under
 *      prebuildify's name, or else `npm run prebuild`. A prebuild or build older than a native
 *      source is not used.
 * Quick when both are up to date (`npm pack` runs it too).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function files(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  });
}

const mtime = (f) => fs.statSync(f).mtimeMs;
const newest = (list) => Math.max(0, ...list.map(mtime));

function npmRun(script, env = process.env) {
  const r = spawnSync('npm', ['run', script], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`prepare: npm run ${script} failed`);
    process.exit(r.status ?? 1);
  }
}

if (fs.existsSync(path.join(root, 'src', 'index.ts'))) {
  const entry = path.join(root, 'dist', 'index.js');
  const sources = [...files(path.join(root, 'src')), path.join(root, 'tsconfig.build.json')];
  if (!fs.existsSync(entry) || mtime(entry) < newest(sources)) npmRun('build:ts');
}

const nativeSources = [...files(path.join(root, 'native')), path.join(root, 'binding.gyp')];
const fresh = (f) => fs.existsSync(f) && mtime(f) >= newest(nativeSources);
const platformDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const prebuilt = files(platformDir).filter((f) => f.endsWith('.node'));
if (!(prebuilt.length > 0 && prebuilt.every(fresh))) {
  const built = path.join(root, 'build', 'Release', 'signin_torch.node');
  fs.rmSync(platformDir, { recursive: true, force: true });
  if (fresh(built)) {
    fs.mkdirSync(platformDir, { recursive: true });
    fs.copyFileSync(built, path.join(platformDir, `${pkg.name}.node`));
  } else {
    const env = { ...process.env };
    if (!env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr';
    npmRun('prebuild', env);
  }
}
