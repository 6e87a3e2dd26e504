/** GET /api/events: a WebSocket that carries every engine event to the token holder, one JSON text message each. */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EngineClient } from '../shared/index';
import { LOOPBACK, type AccessGuard, type Refusal } from './access';

const HEARTBEAT_MS = 20_000;

export interface EventChannel {
  close(): void;
}

function statusText(status: number): string {
  return status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Forbidden';
}

function refuseUpgrade(socket: Duplex, [status]: Refusal): void {
  socket.write(`HTTP/1.1 ${status} ${statusText(status)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function broadcast(sockets: ReadonlySet<WebSocket>, send: (ws: WebSocket) => void): void {
  for (const ws of sockets) if (ws.readyState === ws.OPEN) send(ws);
}

/** `port` as for accessGuard: read per upgrade. */
export function openEventChannel(server: http.Server, engine: EngineClient, access: AccessGuard, port: () => number): EventChannel {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port()}`);
    const denied = url.pathname === '/api/events' ? access.refusal(req, url) : ([404, 'not found'] as Refusal);
    if (denied) return refuseUpgrade(socket, denied);
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
      // Clients only listen; a ping keeps idle connections visible.
      ws.send(JSON.stringify({ type: 'hello' }));
    });
  });
  const unsubscribe = engine.subscribe((event) => {
    const text = JSON.stringify(event);
    broadcast(sockets, (ws) => ws.send(text));
  });
  const heartbeat = setInterval(() => broadcast(sockets, (ws) => ws.ping()), HEARTBEAT_MS);
  heartbeat.unref();
  return {
    close() {
      clearInterval(heartbeat);
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
    },
  };
}
