// Builds the optional native SM2 addon during `npm ci`. If it cannot be built (no compiler, no headers),
// installation still succeeds: the pure-TypeScript engine is used and `yizheng engines` says why.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
if (process.env.YIZHENG_SKIP_NATIVE === '1') {
  console.warn('[@yizheng/gm] YIZHENG_SKIP_NATIVE=1: native addon not built; the TypeScript engine will be used.');
  process.exit(0);
}
if (!fs.existsSync(path.join(root, 'binding.gyp'))) process.exit(0);

const gyp = process.env.npm_config_node_gyp;
const cmd = gyp ? process.execPath : 'node-gyp';
const args = gyp ? [gyp, 'rebuild'] : ['rebuild'];
const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: !gyp });
if (r.status !== 0) {
  console.warn(
    '[@yizheng/gm] WARNING: the native SM2 addon could not be built; the TypeScript engine will be used. ' +
      'Install python3, make and a C compiler, then run `npm run build:native -w packages/gm`.',
  );
}
process.exit(0);
