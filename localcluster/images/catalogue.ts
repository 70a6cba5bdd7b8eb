// The sample-image catalogue: maps container image references (ignoring registry and tag) to the
// TypeScript sample apps in ./apps, run with this project's Node (process.execPath), or, for client
// images that only need to stay up for `meshctl exec`, to `sleep infinity` (a Node process per idle
// client pod would make pod start-up CPU-bound: 100 pods took 14.7 s with one, see bench/). The kubelet
// uses it when a container has no `command`: `argv` plays the image's ENTRYPOINT, `defaultArgs`
// its CMD (replaced by the container's `args`), `defaultEnv` its ENV (overridden by the pod's env).
// The mesh's own images (ztunnel, controller, waypoint) run this checkout's entry points with the repo's Node 24, so the
// real Kubernetes manifests in deploy/ run unchanged on the local cluster.
import { fileURLToPath } from 'node:url';

export interface ImageEntry {
  argv: string[];
  defaultArgs?: string[];
  defaultEnv?: Record<string, string>;
}

interface CatalogueApp {
  /** A sample app in ./apps, run with this project's Node … */
  app?: string;
  /** … or a plain command from the host … */
  command?: string[];
  /** … or an entry point of this repository (relative path), run with `<repo>/node_modules/.bin/node`. */
  repoScript?: string;
  defaultArgs?: string[];
  defaultEnv?: Record<string, string>;
}

const appsDir = fileURLToPath(new URL('./apps/', import.meta.url));
const repoDir = fileURLToPath(new URL('../../', import.meta.url));

const idle = ['sleep', 'infinity'];

/** Image repository (no registry, no tag) → sample app. */
const images: Record<string, CatalogueApp> = {
  'ambient-mesh/http-echo': { app: 'http-echo.ts' },
  'kennethreitz/httpbin': { app: 'http-echo.ts', defaultEnv: { PORT: '80' } },
  'mccutchen/go-httpbin': { app: 'http-echo.ts' },
  'ambient-mesh/versioned': { app: 'versioned.ts' },
  'istio/examples-helloworld-v1': { app: 'versioned.ts', defaultEnv: { VERSION: 'v1', PORT: '5000' } },
  'istio/examples-helloworld-v2': { app: 'versioned.ts', defaultEnv: { VERSION: 'v2', PORT: '5000' } },
  'ambient-mesh/tcp-echo': { app: 'tcp-echo.ts' },
  'istio/tcp-echo-server': { app: 'tcp-echo.ts', defaultArgs: ['9000', 'hello'] },
  'ambient-mesh/curl': { command: idle },
  'curlimages/curl': { command: idle },
  'busybox': { command: idle },
  'alpine': { command: idle },
  // The one image of deploy/ and the Dockerfile: `args: [controller|ztunnel|waypoint, …]` picks the component.
  'ambient-mesh/ambient-mesh': { repoScript: 'bin/ambient-mesh.ts' },
};

/**
 * Strip registry, tag and digest: `docker.io/istio/tcp-echo-server:1.3` → `istio/tcp-echo-server`,
 * `library/busybox` → `busybox`. The first path segment is a registry when it holds a `.` or `:`
 * or is `localhost` (Docker's own rule).
 */
export function imageRepository(image: string): string {
  let ref = image.trim();
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const parts = ref.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) parts.shift();
  const last = parts.length - 1;
  const colon = (parts[last] ?? '').indexOf(':');
  if (colon >= 0) parts[last] = (parts[last] ?? '').slice(0, colon);
  if (parts.length === 2 && parts[0] === 'library') parts.shift();
  return parts.join('/').toLowerCase();
}

/** The entry for an image, or undefined when the catalogue does not know it. */
export function resolveImage(image: string): ImageEntry | undefined {
  const found = images[imageRepository(image)];
  if (!found) return undefined;
  const entry: ImageEntry = {
    argv: found.command ? [...found.command]
      : found.repoScript ? [repoDir + 'node_modules/.bin/node', repoDir + found.repoScript]
      : [process.execPath, appsDir + found.app],
  };
  if (found.defaultArgs) entry.defaultArgs = [...found.defaultArgs];
  if (found.defaultEnv) entry.defaultEnv = { ...found.defaultEnv };
  return entry;
}

/** Every image name the catalogue knows, for "unknown image" messages. */
export function knownImages(): string[] {
  return Object.keys(images).sort();
}
