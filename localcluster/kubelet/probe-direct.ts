// Probe primitives run in the current network namespace: an HTTP(S) GET returning the status and a
// TCP connect. Used directly when no netns is involved and by probe-helper.ts inside a netns.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { probeTimeout } from './errors.ts';

export function httpGet(spec: { host: string; port: number; path: string; scheme: 'HTTP' | 'HTTPS'; headers: Record<string, string>; timeoutMs: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const mod = spec.scheme === 'HTTPS' ? https : http;
    const req = mod.request({
      host: spec.host, port: spec.port, path: spec.path || '/', method: 'GET',
      headers: { 'user-agent': 'kube-probe/1.34', ...spec.headers }, rejectUnauthorized: false, agent: false,
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(spec.timeoutMs, () => req.destroy(probeTimeout('http', spec.timeoutMs)));
    req.on('error', reject);
    req.end();
  });
}

export function tcpConnect(spec: { host: string; port: number; timeoutMs: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: spec.host, port: spec.port });
    sock.setTimeout(spec.timeoutMs, () => sock.destroy(probeTimeout('tcp', spec.timeoutMs)));
    sock.once('connect', () => { sock.destroy(); resolve(); });
    sock.once('error', reject);
  });
}
