// CLI run by the default prober inside a netns (`ip netns exec <ns> node probe-helper.ts …`):
//   http <json HttpProbeSpec>  → prints the status code
//   tcp <json {host,port,timeoutMs}> → exits 0 when connected
// Exit 0 = probe carried out, 1 = it could not connect.
import { httpGet, tcpConnect } from './probe-direct.ts';

const [kind, json] = process.argv.slice(2);
try {
  const spec = JSON.parse(json ?? '{}');
  if (kind === 'http') process.stdout.write(`${await httpGet(spec)}\n`);
  else if (kind === 'tcp') await tcpConnect(spec);
  else throw new Error(`unknown probe kind ${kind}`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
