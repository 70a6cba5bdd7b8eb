// HTTP plumbing shared by the handlers: reading and decoding bodies (JSON or YAML), content negotiation
// (JSON, or a meta.k8s.io Table when asked) and writing JSON / Status responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeProtobuf } from './proto.ts';
import { ApiError, statusBody } from './status.ts';

const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new ApiError('BadRequest', `request body larger than ${MAX_BODY} bytes; split the object or shrink it`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

const JSON_TYPES = new Set(['application/json', 'application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', '']);
const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'application/apply-patch+yaml']);

/** Decode a request body by its Content-Type. */
export function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/vnd.kubernetes.protobuf' && raw.length) {
    if (process.env.APISERVER_DUMP_PROTO) process.stderr.write(`PROTO ${raw.toString('hex')}\n`);
    return decodeProtobuf(raw);
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') throw new ApiError('BadRequest', 'request body is empty; send a JSON or YAML object');
  if (JSON_TYPES.has(ct)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ApiError('BadRequest', `the request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (YAML_TYPES.has(ct)) {
    try {
      return parseYaml(text);
    } catch (err) {
      throw new ApiError('BadRequest', `the request body is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format "${ct}"; accepted: application/json, application/yaml, and the patch types`);
}

export function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((a) => /;\s*as=Table/.test(a) && /g=meta\.k8s\.io/.test(a) && /v=v1(beta1)?\b/.test(a));
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), 'Cache-Control': 'no-cache, private' });
  res.end(data);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) { res.destroy(); return; }
  sendJson(res, err.httpCode, statusBody(err));
}

/** Read and decode a body that must be an object. */
export async function readObject(req: IncomingMessage): Promise<Record<string, any>> {
  const body = decodeBody(await readBody(req), req.headers['content-type']);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('BadRequest', 'request body must be a JSON or YAML object');
  return body as Record<string, any>;
}

export function isDryRun(q: URLSearchParams): boolean {
  const d = q.getAll('dryRun');
  for (const v of d) if (v !== 'All') throw new ApiError('BadRequest', `unsupported dryRun value "${v}"; use dryRun=All`);
  return d.length > 0;
}

/** The write's fieldValidation directive (Ignore when absent); a bad value is a 400. */
export function checkFieldValidation(q: URLSearchParams): 'Ignore' | 'Warn' | 'Strict' {
  const v = q.get('fieldValidation');
  if (v && !['Ignore', 'Warn', 'Strict'].includes(v)) throw new ApiError('BadRequest', `invalid fieldValidation "${v}"; use Ignore, Warn or Strict`);
  return (v || 'Ignore') as 'Ignore' | 'Warn' | 'Strict';
}

export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new ApiError('BadRequest', `query parameter ${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}
