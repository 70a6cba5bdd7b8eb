// Test support for this folder's tests: an API server on loopback port 0 in a fresh temp stateDir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silent } from '../../shared/log.ts';
import { startApiServer, type ApiServer, type ApiServerOptions } from './index.ts';

export function tempStateDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'apiserver-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startTestServer(dir: string, extra: Partial<ApiServerOptions> = {}): Promise<ApiServer> {
  return startApiServer({ stateDir: dir, port: 0, host: '127.0.0.1', logger: silent, ...extra });
}

export interface Reply { status: number; body: any; text: string }

/** One HTTPS request to the server as admin (client cert), or with `auth` as a bearer token, or none (`false`). */
export async function call(server: ApiServer, dir: string, method: string, path: string,
  opts: { body?: unknown; contentType?: string; auth?: string | false; accept?: string } = {}): Promise<Reply> {
  const { request } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  const useCert = opts.auth === undefined;
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method, ca: server.caCertPem,
      ...(useCert ? { cert: readFileSync(join(dir, 'admin.crt')), key: readFileSync(join(dir, 'admin.key')) } : {}),
      headers: {
        ...(payload !== undefined ? { 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        ...(typeof opts.auth === 'string' ? { Authorization: `Bearer ${opts.auth}` } : {}),
        ...(opts.accept ? { Accept: opts.accept } : {}),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => {
        let body: any;
        try { body = JSON.parse(text); } catch { body = undefined; }
        resolve({ status: res.statusCode ?? 0, body, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
