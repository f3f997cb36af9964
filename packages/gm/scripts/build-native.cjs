// Builds the optional native SM2 addons (binding.gyp: our own engine in native/sm2p256.c and the OpenSSL-backed
// native/sm2_addon.c) during `npm ci`. If it cannot be
// built (no compiler, no headers), installation still succeeds: the pure-TypeScript engine is used and
// `yizheng engines` says why.
//
// Offline: node-gyp needs Node's headers. When no nodedir is configured, the headers installed with this very
// Node (<prefix>/include/node, where <prefix>/bin/node is process.execPath) are used if their version matches,
// so node-gyp never tries to download them.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const TAG = '[@yizheng/gm]';
if (process.env.YIZHENG_SKIP_NATIVE === '1') {
  console.warn(`${TAG} YIZHENG_SKIP_NATIVE=1: native addon not built; the TypeScript engine will be used.`);
  process.exit(0);
}
if (!fs.existsSync(path.join(root, 'binding.gyp'))) process.exit(0);

/** node-gyp: the one npm passes to lifecycle scripts, else npm's bundled copy, else `node-gyp` on PATH. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return { cmd: process.execPath, args: [c] };
  return { cmd: 'node-gyp', args: [] };
}

/** <prefix> if <prefix>/include/node holds the headers of the running Node, else undefined. */
function localNodedir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const include = path.join(prefix, 'include', 'node');
  try {
    const h = fs.readFileSync(path.join(include, 'node_version.h'), 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map(
      (p) => (new RegExp(`#define NODE_${p}_VERSION (\\d+)`).exec(h) || [])[1],
    );
    if (v.join('.') !== process.versions.node) return undefined;
    if (
      !fs.existsSync(path.join(include, 'common.gypi')) ||
      !fs.existsSync(path.join(include, 'node_api.h'))
    ) {
      return undefined;
    }
    return prefix;
  } catch {
    return undefined;
  }
}

const gyp = findNodeGyp();
const args = [...gyp.args, 'rebuild'];
if (!process.env.npm_config_nodedir) {
  const nodedir = localNodedir();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
}
const r = spawnSync(gyp.cmd, args, { cwd: root, stdio: 'inherit' });

let problem;
if (r.error) problem = `node-gyp could not be started (${r.error.message})`;
else if (r.status !== 0) problem = `node-gyp exited with status ${r.status}`;
else {
  // Built: make sure both addons load into this Node — our own engine (yizheng_sm2_native) and the
  // OpenSSL-backed one (yizheng_sm2, which resolves OpenSSL's symbols from the node binary).
  for (const name of ['yizheng_sm2_native', 'yizheng_sm2']) {
    const addon = path.join(root, 'build', 'Release', `${name}.node`);
    const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)}).createContext(0)`], {
      encoding: 'utf8',
    });
    if (check.status !== 0) {
      problem = `${name} was built but does not load: ${(check.stderr || '').trim()}`;
      break;
    }
  }
}
if (problem) {
  console.warn(
    `${TAG} WARNING: the native SM2 addon is not available (${problem}); the TypeScript engine will be used. ` +
      'Install python3, make and a C compiler, then run `npm run build:native -w packages/gm`.',
  );
}
process.exit(0);
