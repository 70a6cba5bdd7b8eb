// Face of the controller manager: scheduler, deployment, daemonset, endpointslice and
// serviceaccount controllers running in-process against the API server.
export { startControllers } from './manager.ts';
export type { Controllers, ControllersOptions } from './manager.ts';
export { defaultControlPlane } from './endpointslice.ts';
export type { ControlPlane } from './endpointslice.ts';
