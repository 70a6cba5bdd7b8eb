// Sample app for client images (`ambient-mesh/curl`, `curlimages/curl`, `busybox`, `alpine`): does
// nothing but stay alive so tests can exec commands in its pod; exits 0 on SIGTERM/SIGINT.
const keepAlive = setInterval(() => {}, 1 << 30);
function shutdown(): void {
  clearInterval(keepAlive);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// Printed last: whoever waits for this line may signal us at once.
console.log(`sleeper running as ${process.env.HOSTNAME ?? 'unknown'}`);
