// Pure: what process a container runs. Kubernetes semantics: `command` replaces the image's
// ENTRYPOINT, `args` its CMD; `$(VAR)` references expand from the container's env, `$$` escapes.
import type { V1Container } from '@kubernetes/client-node';
import type { ImageCatalogue } from './types.ts';

export type CommandPlan =
  | { ok: true; argv: string[]; imageEnv: Record<string, string> }
  | { ok: false; reason: 'ImageNotInCatalogue'; message: string };

export function planCommand(container: Pick<V1Container, 'image' | 'command' | 'args'>, catalogue: ImageCatalogue): CommandPlan {
  const image = container.image ?? '';
  const entry = catalogue.resolve(image);
  if (container.command && container.command.length > 0) {
    return { ok: true, argv: [...container.command, ...(container.args ?? [])], imageEnv: { ...entry?.defaultEnv } };
  }
  if (!entry) {
    return {
      ok: false,
      reason: 'ImageNotInCatalogue',
      message: `image ${JSON.stringify(image)} is not in the local catalogue and the container has no command; known images: ${catalogue.known().join(', ')}`,
    };
  }
  return { ok: true, argv: [...entry.argv, ...(container.args ?? entry.defaultArgs ?? [])], imageEnv: { ...entry.defaultEnv } };
}

/** Expand `$(NAME)` from env (unknown names stay literal, as in Kubernetes); `$$` → `$`. */
export function expandVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? (env[name] as string) : m;
  });
}
