// UDP sockets placed in a network namespace: the addon creates and binds the socket inside it, dgram
// adopts the fd (`bind({ fd })`). libuv sets SO_REUSEADDR on adopted UDP sockets, as it does for its own.
import { closeSync } from 'node:fs';
import dgram from 'node:dgram';
import { addon } from './addon.ts';
import { udpSpec, type UdpSpecInput } from './options.ts';

export type BindUdpOptions = UdpSpecInput;

export async function bindUdp(options: BindUdpOptions): Promise<dgram.Socket> {
  const spec = udpSpec(options);
  const fd = addon().openSocket(spec);
  let socket: dgram.Socket;
  try {
    socket = dgram.createSocket(spec.family === 4 ? 'udp4' : 'udp6');
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  await new Promise<void>((resolve, reject) => {
    const onListening = (): void => {
      socket.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      socket.off('listening', onListening);
      socket.close();
      reject(err);
    };
    socket.once('listening', onListening);
    socket.once('error', onError);
    try {
      socket.bind({ fd });
    } catch (err) {
      socket.off('listening', onListening);
      socket.off('error', onError);
      closeSync(fd);
      socket.close();
      reject(err);
    }
  });
  return socket;
}
