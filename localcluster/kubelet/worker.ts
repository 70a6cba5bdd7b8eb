// One pod on this node: sets up its network, runs init containers in order then the containers,
// restarts them per restartPolicy with backoff, runs readiness/liveness probes, and publishes the
// pod status (through a coalescing StatusWriter). `terminate` stops it for good.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { Logger } from '../../shared/log.ts';
import { errorMessage } from '../../shared/errors.ts';
import type { ImageCatalogue, PodNetwork, PodNetworkInfo, Prober, ProcessRunner, RunningProcess } from './types.ts';
import { planCommand, expandVars } from './command.ts';
import { resolveEnv, type EnvLookup } from './env.ts';
import { nextCrashCount, restartDelayMs, shouldRestart } from './backoff.ts';
import { httpProbeSucceeded, initialProbeState, probeStep, probeTiming, resolvePort } from './probe.ts';
import { StatusWriter } from './status-writer.ts';
import { computePodStatus, exitCodeOf, terminatedReason, type ContainerView, type PodCondition, type PodStatusDoc } from './status.ts';
import { PodVolumes, type VolumeApi } from './volumes.ts';
import { containersWithSaMount } from './volume-plan.ts';
import { hostMountpoints, planMounts, withMounts } from './mount-plan.ts';
import { ensureHostPath, isDirectory, type Recorder } from './host-paths.ts';

/** Local cap on terminationGracePeriodSeconds (Kubernetes default 30 s): keeps `down` and tests quick. */
export const maxGraceMs = 10_000;

export interface WorkerDeps {
  network: PodNetwork;
  runner: ProcessRunner;
  prober: Prober;
  catalogue: ImageCatalogue;
  envLookup: EnvLookup;
  logsDir: string;
  log: Logger;
  /** Write the status; rejecting with `{ code: 404 }` means the pod is gone. */
  publish(pod: V1Pod, status: PodStatusDoc): Promise<void>;
  /** Volumes and mounts; without it volumes are ignored and containers see the host filesystem as is. */
  volumes?: WorkerVolumeDeps;
}

export interface WorkerVolumeDeps {
  api: VolumeApi;
  /** <stateDir>/pods */
  podsDir: string;
  /** Appends host mountpoints the kubelet creates to the cluster's creation record. */
  record: Recorder;
  /** Absolute path of mount(8). */
  mountBin: string;
  pollMs?: number;
}

interface ContainerRun {
  spec: V1Container;
  view: ContainerView;
  proc?: RunningProcess;
  init: boolean;
}

export function podLogDir(logsDir: string, ns: string, name: string, uid: string): string {
  return path.join(logsDir, `${ns}_${name}_${uid}`);
}

export function graceMs(pod: V1Pod): number {
  return Math.min(maxGraceMs, Math.max(0, (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000));
}

const isoNow = (): string => new Date().toISOString();
const isAbort = (err: unknown): boolean => err instanceof Error && err.name === 'AbortError';

export class PodWorker {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly logDir: string;
  private pod: V1Pod;
  private readonly deps: WorkerDeps;
  private readonly log: Logger;
  private readonly runs = new Map<string, ContainerRun>();
  private readonly initRuns: ContainerRun[] = [];
  private readonly abort = new AbortController();
  private net: PodNetworkInfo | undefined;
  private vols: PodVolumes | undefined;
  private setup: Promise<PodNetworkInfo> | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly startTime = isoNow();
  private conditions: PodCondition[] = [];
  private readonly status: StatusWriter<PodStatusDoc>;

  constructor(pod: V1Pod, deps: WorkerDeps) {
    this.pod = pod;
    this.deps = deps;
    this.uid = pod.metadata?.uid ?? '';
    this.namespace = pod.metadata?.namespace ?? 'default';
    this.name = pod.metadata?.name ?? '';
    this.logDir = podLogDir(deps.logsDir, this.namespace, this.name, this.uid);
    this.log = deps.log.child({ pod: `${this.namespace}/${this.name}` });
    const mk = (spec: V1Container, init: boolean): ContainerRun => ({
      spec, init,
      view: { name: spec.name, image: spec.image ?? '', state: { kind: 'waiting', reason: init ? 'PodInitializing' : 'ContainerCreating' }, restartCount: 0, ready: false, started: false },
    });
    this.status = new StatusWriter({ compute: () => this.computeStatus(), write: (doc) => deps.publish(this.pod, doc), signal: this.abort.signal, log: this.log });
    for (const c of pod.spec?.initContainers ?? []) this.initRuns.push(mk(c, true));
    for (const c of pod.spec?.containers ?? []) this.runs.set(c.name, mk(c, false));
  }

  /** Containers then init containers: the first is the default for logs. */
  containerNames(): string[] { return [...this.runs.keys(), ...this.initRuns.map((r) => r.spec.name)]; }

  /** Latest pod object from the API (labels/annotations for new env resolutions). */
  update(pod: V1Pod): void { this.pod = pod; this.vols?.update(pod); }

  start(): void {
    this.running = this.run().catch((err) => { if (!isAbort(err)) this.log.error({ err: errorMessage(err) }, 'pod worker failed'); });
  }

  private async run(): Promise<void> {
    this.changed();
    this.net = await this.setupNetwork();
    this.changed();
    if (this.deps.volumes && !(await this.setupVolumes(this.deps.volumes))) return;
    for (const r of this.initRuns) {
      if (r.view.state.kind === 'waiting') r.view.state = { kind: 'waiting', reason: 'PodInitializing' };
    }
    for (const r of this.initRuns) {
      if (!(await this.runContainer(r))) return;
    }
    await Promise.all([...this.runs.values()].map((r) => this.runContainer(r)));
  }

  /** Set up the pod network, retrying with backoff (shown as ContainerCreating with a message). */
  private async setupNetwork(): Promise<PodNetworkInfo> {
    for (let attempt = 0; ; attempt++) {
      this.setup = this.deps.network.setupPod({ uid: this.uid, namespace: this.namespace, name: this.name, hostNetwork: this.pod.spec?.hostNetwork === true });
      try {
        return await this.setup;
      } catch (err) {
        if (this.stopping) throw err;
        const message = `pod network setup failed: ${errorMessage(err)}; retrying`;
        this.log.warn({ err: errorMessage(err) }, 'pod network setup failed');
        for (const r of [...this.initRuns, ...this.runs.values()]) r.view.state = { kind: 'waiting', reason: 'ContainerCreating', message };
        this.changed();
        await sleep(restartDelayMs(attempt), undefined, { signal: this.abort.signal });
      }
    }
  }

  /**
   * Materialise the pod's volumes before any container starts, retrying with backoff while a source is missing
   * (ContainerCreating with the reason, as Kubernetes shows FailedMount). False: the pod can never start.
   */
  private async setupVolumes(deps: WorkerVolumeDeps): Promise<boolean> {
    const all = [...this.initRuns, ...this.runs.values()];
    let vols: PodVolumes;
    try {
      vols = new PodVolumes(this.pod, { api: deps.api, podsDir: deps.podsDir, record: deps.record, log: this.log, pollMs: deps.pollMs });
    } catch (err) {
      for (const r of all) r.view.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message: errorMessage(err) };
      this.changed();
      return false;
    }
    this.vols = vols;
    for (let attempt = 0; ; attempt++) {
      try {
        await vols.setup();
        break;
      } catch (err) {
        if (this.stopping) throw err;
        const message = `MountVolume.SetUp failed: ${errorMessage(err)}; retrying`;
        this.log.warn({ err: errorMessage(err) }, 'volume setup failed');
        for (const r of all) r.view.state = { kind: 'waiting', reason: r.init ? 'PodInitializing' : 'ContainerCreating', message };
        this.changed();
        await sleep(restartDelayMs(attempt), undefined, { signal: this.abort.signal });
      }
    }
    if (this.stopping) return false;
    vols.start();
    return true;
  }

  /** The container's argv wrapped in the mount shim (host mountpoints created and recorded first). */
  private mountedArgv(spec: V1Container, argv: string[], env: Record<string, string>): string[] {
    const deps = this.deps.volumes;
    const vols = this.vols;
    if (!deps || !vols) return argv;
    const [withSa] = containersWithSaMount(this.pod, [spec]);
    const plan = planMounts(withSa!, vols.plan, (v) => vols.dirOf(v), env);
    if (!plan.ok) throw new Error(plan.message);
    for (const b of hostMountpoints(plan.binds)) ensureHostPath(b.target, isDirectory(b.source) ? 'dir' : 'file', deps.record);
    return withMounts(plan.binds, argv, { ownMountNs: this.net?.netns !== undefined, mountBin: deps.mountBin });
  }

  /** Runs one container until it ends for good; returns whether its last run exited 0. */
  private async runContainer(r: ContainerRun): Promise<boolean> {
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    let crashes = 0;
    for (let attempt = 0; !this.stopping; attempt++) {
      const plan = planCommand(r.spec, this.deps.catalogue);
      if (!plan.ok) {
        r.view.state = { kind: 'waiting', reason: plan.reason, message: plan.message };
        this.changed();
        return false;
      }
      let env: Record<string, string>;
      try {
        env = await resolveEnv(r.spec, { pod: this.pod, podIP: this.net?.ip ?? '', hostIP: this.net?.hostIP ?? '', imageEnv: plan.imageEnv }, this.deps.envLookup);
      } catch (err) {
        r.view.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message: errorMessage(err) };
        this.changed();
        await sleep(restartDelayMs(crashes++), undefined, { signal: this.abort.signal });
        continue;
      }
      if (this.stopping) return false;
      let argv: string[];
      try {
        argv = this.mountedArgv(r.spec, plan.argv.map((a) => expandVars(a, env)), env);
      } catch (err) {
        r.view.state = { kind: 'waiting', reason: 'CreateContainerConfigError', message: errorMessage(err) };
        this.changed();
        await sleep(restartDelayMs(crashes++), undefined, { signal: this.abort.signal });
        continue;
      }
      if (attempt > 0) r.view.restartCount++;
      const startedAtMs = Date.now();
      const startedAt = new Date(startedAtMs).toISOString();
      const proc = this.deps.runner.start({ netns: this.net?.netns, argv, env, logFile: path.join(this.logDir, `${r.spec.name}.log`), cwd: r.spec.workingDir });
      r.proc = proc;
      r.view.pid = proc.pid;
      r.view.state = { kind: 'running', startedAt };
      r.view.started = true;
      r.view.ready = !r.init && !r.spec.readinessProbe;
      this.changed();
      this.log.info({ container: r.spec.name, pid: proc.pid, restartCount: r.view.restartCount }, 'container started');
      const probes = r.init ? undefined : this.startProbes(r, proc);
      const exit = await proc.exited;
      probes?.abort();
      r.proc = undefined;
      const exitCode = exitCodeOf(exit.code, exit.signal);
      const terminated = { kind: 'terminated' as const, exitCode, reason: terminatedReason(exitCode), startedAt, finishedAt: isoNow(), pid: proc.pid };
      r.view.ready = false;
      r.view.state = terminated;
      this.log.info({ container: r.spec.name, exitCode, signal: exit.signal }, 'container exited');
      const restart = r.init ? exitCode !== 0 && policy !== 'Never' : shouldRestart(policy, exitCode);
      if (this.stopping || !restart) {
        this.changed();
        return exitCode === 0;
      }
      crashes = nextCrashCount(crashes, Date.now() - startedAtMs);
      const delay = restartDelayMs(crashes - 1);
      r.view.lastState = terminated;
      r.view.state = { kind: 'waiting', reason: 'CrashLoopBackOff', message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${r.spec.name} pod=${this.name}` };
      this.changed();
      await sleep(delay, undefined, { signal: this.abort.signal });
    }
    return false;
  }

  private startProbes(r: ContainerRun, proc: RunningProcess): AbortController {
    const ctl = new AbortController();
    const signal = AbortSignal.any([ctl.signal, this.abort.signal]);
    const loop = async (probe: V1Probe, kind: 'readiness' | 'liveness'): Promise<void> => {
      const t = probeTiming(probe);
      let state = initialProbeState(kind);
      await sleep(t.initialDelayMs, undefined, { signal });
      for (;;) {
        const ok = await this.probeOnce(probe, r.spec, t.timeoutMs);
        if (signal.aborted) return;
        state = probeStep(state, ok, t);
        if (kind === 'readiness' && r.view.ready !== state.ok) {
          r.view.ready = state.ok;
          this.changed();
        }
        if (kind === 'liveness' && !state.ok) {
          this.log.info({ container: r.spec.name }, 'liveness probe failed; restarting container');
          await this.killProcess(proc);
          return;
        }
        // While not ready, probe every second at most: pods become Ready promptly even with
        // Kubernetes' 10 s default period (thresholds still apply).
        const wait = kind === 'readiness' && !state.ok ? Math.min(t.periodMs, 1000) : t.periodMs;
        await sleep(wait, undefined, { signal });
      }
    };
    const guard = (p: Promise<void>): void => { p.catch((err) => { if (!isAbort(err)) this.log.warn({ err: errorMessage(err) }, 'probe loop failed'); }); };
    if (r.spec.readinessProbe) guard(loop(r.spec.readinessProbe, 'readiness'));
    if (r.spec.livenessProbe) guard(loop(r.spec.livenessProbe, 'liveness'));
    return ctl;
  }

  private async probeOnce(probe: V1Probe, c: V1Container, timeoutMs: number): Promise<boolean> {
    const netns = this.net?.netns;
    const podIP = this.net?.ip ?? '127.0.0.1';
    try {
      if (probe.httpGet) {
        const port = resolvePort(probe.httpGet.port as number | string, c.ports ?? []);
        if (port === undefined) return false;
        const headers = Object.fromEntries((probe.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
        const status = await this.deps.prober.http({
          netns, host: probe.httpGet.host ?? podIP, port, path: probe.httpGet.path ?? '/',
          scheme: probe.httpGet.scheme === 'HTTPS' ? 'HTTPS' : 'HTTP', headers, timeoutMs,
        });
        return httpProbeSucceeded(status);
      }
      if (probe.tcpSocket) {
        const port = resolvePort(probe.tcpSocket.port as number | string, c.ports ?? []);
        if (port === undefined) return false;
        await this.deps.prober.tcp({ netns, host: probe.tcpSocket.host ?? podIP, port, timeoutMs });
        return true;
      }
      if (probe.exec?.command) return (await this.deps.prober.exec({ netns, argv: this.mountedArgv(c, probe.exec.command, {}), timeoutMs })) === 0;
      return true; // grpc probes: not implemented locally, treated as passing
    } catch {
      return false;
    }
  }

  private async killProcess(proc: RunningProcess): Promise<void> {
    proc.kill('SIGTERM');
    const exited = await Promise.race([proc.exited.then(() => true), sleep(graceMs(this.pod), false, { ref: false })]);
    if (!exited) proc.kill('SIGKILL');
  }

  private changed(): void {
    this.status.changed();
  }

  private computeStatus(): PodStatusDoc {
    const doc = computePodStatus({
      sandboxReady: this.net !== undefined,
      initContainers: this.initRuns.map((r) => r.view),
      containers: [...this.runs.values()].map((r) => r.view),
      podIP: this.net?.ip, hostIP: this.net?.hostIP, startTime: this.startTime,
    }, this.conditions, isoNow());
    this.conditions = doc.conditions;
    return doc;
  }

  /** Stop probes, restarts and status writes but leave processes running (kubelet stop). */
  detach(): void {
    this.stopping = true;
    this.abort.abort();
    this.vols?.stop();
  }

  /** SIGTERM every container's process group, SIGKILL after the (capped) grace period, remove the network. */
  async terminate(graceOverrideMs?: number): Promise<void> {
    this.detach();
    const procs = [...this.initRuns, ...this.runs.values()].map((r) => r.proc).filter((p): p is RunningProcess => p !== undefined);
    for (const p of procs) p.kill('SIGTERM');
    const all = Promise.all(procs.map((p) => p.exited));
    const grace = Math.min(maxGraceMs, graceOverrideMs ?? graceMs(this.pod));
    if (!(await Promise.race([all.then(() => true), sleep(grace, false, { ref: false })]))) {
      for (const p of procs) p.kill('SIGKILL');
      await Promise.race([all, sleep(5000, undefined, { ref: false })]);
    }
    await Promise.race([this.running, sleep(5000, undefined, { ref: false })]);
    try {
      this.vols?.remove();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'pod volume removal failed');
    }
    if (this.setup) {
      try {
        await this.setup.catch(() => {}); // a failed setup may have left parts behind: tear down anyway
        await this.deps.network.teardownPod(this.uid);
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'pod network teardown failed');
      }
    }
    this.log.info('pod stopped');
  }
}
