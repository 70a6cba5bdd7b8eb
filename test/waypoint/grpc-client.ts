// Run inside a pod (`meshctl exec … -- node test/waypoint/grpc-client.ts --target host:port --method Echo|Ping --n N`):
// N unary calls of the sample app's ambientmesh.echo.Echo service over plaintext HTTP/2 (the mesh adds mTLS), one
// JSON line out: counts by answering version and by gRPC status code, and the first errors' details.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const { values: v } = parseArgs({ options: { target: { type: 'string' }, method: { type: 'string', default: 'Echo' }, n: { type: 'string', default: '10' } } });
const def = protoLoader.loadSync(fileURLToPath(new URL('../../localcluster/images/apps/echo.proto', import.meta.url)), { keepCase: true });
const pkg = grpc.loadPackageDefinition(def) as any;
const client = new pkg.ambientmesh.echo.Echo(v.target, grpc.credentials.createInsecure());
const versions: Record<string, number> = {};
const codes: Record<string, number> = {};
const errors: string[] = [];
for (let i = 0; i < Number(v.n); i++) {
  await new Promise<void>((resolve) => {
    client[v.method!]({ message: `m${i}` }, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: { version?: string } | undefined) => {
      const code = String(err ? err.code : 0);
      codes[code] = (codes[code] ?? 0) + 1;
      if (err && errors.length < 3) errors.push(err.details || err.message);
      if (res?.version) versions[res.version] = (versions[res.version] ?? 0) + 1;
      resolve();
    });
  });
}
client.close();
console.log(JSON.stringify({ versions, codes, ...(errors.length ? { errors } : {}) }));
