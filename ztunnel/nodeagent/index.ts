// ztunnel/nodeagent: decides which pods on this node are captured and drives capture + per-pod listeners.
export { NodeAgent, desiredCapture, type NodeAgentOptions, type CapturedPodInfo } from './agent.ts';
