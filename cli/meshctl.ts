// meshctl: the command-line face of the project. Each command is a small function; this file
// parses the command line, dispatches, and turns errors into one clear line and an exit code.
import { parseCommandArgs, kubeFlags, str, bool, strs, UsageError, type FlagSpec, type Parsed } from './args.ts';
import { loadKubeConfig } from './kube/client.ts';
import { apply, deleteFromFile, get, label } from './commands/objects.ts';
import { logs } from './commands/logs.ts';
import { clusterUp, clusterDown, clusterStatus, kubeconfigPath } from './commands/cluster.ts';
import { execInPod } from './commands/exec.ts';
import { demo } from './commands/demo.ts';
import { ztunnelConfig } from './commands/ztunnel-config.ts';
import { runWaypoint, waypointFlags, waypointUsage } from './commands/waypoint.ts';
import { clusterPaths } from '../localcluster/paths.ts';
import { MeshError } from '../shared/errors.ts';

const help = `meshctl — the ambient mesh and its local cluster

Local cluster:
  up [--nodes N] [--pod-netns named|anonymous]
                                 start the local cluster (default 2 nodes); returns when ready; anonymous: pod
                                 network namespaces have no ip-netns name, only a holder process (like a pause container)
  down                           remove everything the local cluster made (also after a crash)
  status                         show the cluster, its nodes and pods
  kubeconfig                     print the kubeconfig path (last line)
  demo                           start the cluster and show sample apps talking

Objects (any cluster, by kubeconfig):
  apply -f FILE|DIR|- [-n NS] [--dry-run=server]
  delete -f FILE|DIR|- [-n NS] [--ignore-not-found]
  get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o yaml|json|wide|name]
  label KIND NAME k=v k2- … [-n NS] [--overwrite]
  logs [-n NS] POD [-c CONTAINER] [-f] [--tail N]
  exec [-n NS] POD -- CMD …      run CMD in the pod's network namespace, with its DNS (local cluster)

Mesh:
  ztunnel-config workloads|services|policies|certificates|connections|pods [--node node-N] [-o json] [--controller URL]
                                 what the controller serves to ztunnels (from its debug endpoint)
${waypointUsage}
Global: --kubeconfig PATH (else $KUBECONFIG, else the local cluster's), MESHCTL_HOME (state dir)
`;

type Command = { flags: FlagSpec; run: (p: Parsed) => Promise<number | void> };

const out = { write: (s: string) => void process.stdout.write(s) };
const kube = (p: Parsed) => loadKubeConfig(str(p, 'kubeconfig'), clusterPaths().kubeconfig);

const commands: Record<string, Command> = {
  up: { flags: { nodes: { type: 'string' }, 'pod-netns': { type: 'string' } }, run: (p) => clusterUp(Number(str(p, 'nodes') ?? 2), str(p, 'pod-netns') ?? 'named') },
  down: { flags: {}, run: () => clusterDown() },
  status: { flags: {}, run: () => clusterStatus() },
  kubeconfig: { flags: {}, run: async () => kubeconfigPath() },
  demo: { flags: {}, run: () => demo() },
  apply: {
    flags: { ...kubeFlags, filename: { type: 'string', short: 'f', multiple: true }, 'dry-run': { type: 'string' } },
    run: async (p) => {
      const files = needFiles(p);
      const dry = str(p, 'dry-run');
      if (dry !== undefined && dry !== 'server' && dry !== 'none') throw new UsageError('--dry-run takes server or none');
      for (const f of files) await apply(kube(p), f, str(p, 'namespace'), out, dry === 'server');
    },
  },
  delete: {
    flags: { ...kubeFlags, filename: { type: 'string', short: 'f', multiple: true }, 'ignore-not-found': { type: 'boolean' } },
    run: async (p) => {
      let failures = 0;
      for (const f of needFiles(p)) failures += await deleteFromFile(kube(p), f, str(p, 'namespace'), out, bool(p, 'ignore-not-found'));
      return failures ? 1 : 0;
    },
  },
  get: {
    flags: { ...kubeFlags, 'all-namespaces': { type: 'boolean', short: 'A' }, output: { type: 'string', short: 'o' }, selector: { type: 'string', short: 'l' } },
    run: async (p) => {
      const [kind, name] = p.positionals;
      if (!kind) throw new UsageError('get needs a KIND, e.g. meshctl get pods -A');
      await get(kube(p), { kind, name, namespace: str(p, 'namespace'), allNamespaces: bool(p, 'all-namespaces'), output: str(p, 'output'), selector: str(p, 'selector') }, out);
    },
  },
  label: {
    flags: { ...kubeFlags, overwrite: { type: 'boolean' } },
    run: async (p) => {
      const [kind, name, ...changes] = p.positionals;
      if (!kind || !name) throw new UsageError('label needs KIND NAME key=value…');
      await label(kube(p), kind, name, changes, str(p, 'namespace'), bool(p, 'overwrite'), out);
    },
  },
  logs: {
    flags: { ...kubeFlags, container: { type: 'string', short: 'c' }, follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' } },
    run: async (p) => {
      const [pod] = p.positionals;
      if (!pod) throw new UsageError('logs needs a POD');
      const tail = str(p, 'tail');
      await logs(kube(p), str(p, 'namespace') ?? 'default', pod, { container: str(p, 'container'), follow: bool(p, 'follow'), tail: tail === undefined ? undefined : Number(tail) }, process.stdout);
    },
  },
  'ztunnel-config': {
    flags: { output: { type: 'string', short: 'o' }, controller: { type: 'string' }, node: { type: 'string' } },
    run: (p) => ztunnelConfig(p.positionals[0], str(p, 'output'), str(p, 'controller'), str(p, 'node'), () => kube(p)),
  },
  waypoint: { flags: waypointFlags, run: (p) => runWaypoint(() => kube(p), p) },
  exec: {
    flags: { ...kubeFlags, container: { type: 'string', short: 'c' } },
    run: async (p) => {
      const [pod] = p.positionals;
      if (!pod || p.rest.length === 0) throw new UsageError('exec needs POD -- CMD…');
      return await execInPod(kube(p), str(p, 'namespace') ?? 'default', pod, p.rest);
    },
  },
};

function needFiles(p: Parsed): string[] {
  const files = strs(p, 'filename');
  if (files.length === 0) throw new UsageError('-f FILE|DIR|- is required');
  return files;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help);
    return name ? 0 : 1;
  }
  const cmd = commands[name];
  if (!cmd) throw new UsageError(`unknown command ${name}; see meshctl --help`);
  const code = await cmd.run(parseCommandArgs(rest, cmd.flags));
  return typeof code === 'number' ? code : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof MeshError) process.stderr.write(`error: ${err.message}\n`);
    else process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
