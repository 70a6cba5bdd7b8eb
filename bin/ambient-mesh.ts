// The image's entry point: `ambient-mesh <controller|ztunnel|waypoint> [flags]`. One image runs all three
// components (Dockerfile); the Kubernetes manifests pick one with `args: [<component>, …]`. The component's own
// flags follow and reach it unchanged (process.argv without the component word).
const ENTRY_POINTS: Record<string, string> = {
  controller: '../controller/main.ts',
  ztunnel: '../ztunnel/main.ts',
  waypoint: '../waypoint/main.ts',
};

const component = process.argv[2] ?? '';
const entry = ENTRY_POINTS[component];
if (!entry) {
  process.stderr.write(`ambient-mesh: unknown component ${JSON.stringify(component)}; the first argument must be one of ${Object.keys(ENTRY_POINTS).join(', ')}\n`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(entry);
