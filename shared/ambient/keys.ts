// Istio's well-known label and annotation keys and ports, shared by the controller and the node proxy.
export const DATAPLANE_MODE = 'istio.io/dataplane-mode';
export const USE_WAYPOINT = 'istio.io/use-waypoint';
export const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';
export const WAYPOINT_FOR = 'istio.io/waypoint-for';
export const SIDECAR_STATUS = 'sidecar.istio.io/status';
export const GATEWAY_NAME = 'gateway.networking.k8s.io/gateway-name';
export const TRAFFIC_DISTRIBUTION = 'networking.istio.io/traffic-distribution';
export const WAYPOINT_CLASS = 'istio-waypoint';
export const HBONE_PORT = 15008;
