// Test helper process: builds a cluster network with one pod running a process group, prints the pod's netns
// and then waits to be SIGKILLed (the "kill -9 of the daemon" of the crash-cleanup test).
import { spawn } from 'node:child_process';
import { ClusterNetwork } from '../cluster-network.ts';

const [clusterId, stateDir] = process.argv.slice(2) as [string, string];
const net = await ClusterNetwork.create({ clusterId, stateDir, nodeCount: 2 });
const pod = await net.addPod('node-2', { uid: '0dead0ff', namespace: 'default', name: 'victim' });
const child = spawn('ip', ['netns', 'exec', pod.netns, 'sh', '-c', 'sleep 600 & sleep 600 & wait'], { detached: true, stdio: 'ignore' });
child.unref();
process.stdout.write(`${pod.netns} ${child.pid}\n`);
setInterval(() => {}, 1000);
