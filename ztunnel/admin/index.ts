// ztunnel/admin: admin (config dump), metrics and readiness endpoints.
export { startAdmin, type AdminServers, type AdminSources } from '../../shared/admin-server.ts';
