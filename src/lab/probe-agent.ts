// Runs inside one lab namespace (`ip netns exec NS node probe-agent.js`) and serves probe requests
// read as JSON lines on stdin, answering on stdout. One long-lived process per namespace keeps
// probes fast: a listener or a connection attempt costs no process start. Children (ping) inherit
// the namespace.

import { spawn } from "node:child_process";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server, Socket } from "node:net";
import { createInterface } from "node:readline";

export type ProbeRequest =
  | { id: number; op: "listen"; proto: "tcp" | "udp"; port: number }
  | { id: number; op: "connect"; proto: "tcp" | "udp"; host: string; port: number; timeoutMs: number }
  | { id: number; op: "ping"; host: string; timeoutMs: number }
  | { id: number; op: "hold"; host: string; port: number; timeoutMs: number }
  | { id: number; op: "send"; conn: number; timeoutMs: number }
  | { id: number; op: "release"; conn: number }
  /** Writes on the connection a TCP listener accepted last on the port. */
  | { id: number; op: "push"; port: number }
  /** A datagram to a port nobody listens on: whether the ICMP port unreachable came back. */
  | { id: number; op: "udp-refused"; host: string; port: number; timeoutMs: number }
  | { id: number; op: "rate"; host: string; port: number; durationMs: number; concurrency: number };

export interface ProbeReply {
  id: number;
  /** For connect/ping/hold/send: whether the exchange completed. */
  open?: boolean;
  conn?: number;
  /** For rate: connections that completed an echo round trip, and those that failed. */
  completed?: number;
  failed?: number;
  /** For udp-refused: the destination's ICMP error arrived (the socket saw ECONNREFUSED). */
  refused?: boolean;
  error?: string;
}

const PAYLOAD = Buffer.from("ringfence-probe\n");

const tcpListeners = new Map<number, Server>();
const udpListeners = new Map<number, UdpSocket>();
const held = new Map<number, Socket>();
const lastAccepted = new Map<number, Socket>();
let nextConn = 1;

function reply(message: ProbeReply): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function listen(proto: "tcp" | "udp", port: number): Promise<void> {
  if (proto === "tcp") {
    if (tcpListeners.has(port)) return Promise.resolve();
    const server = createServer((socket) => {
      socket.on("error", () => socket.destroy());
      socket.pipe(socket);
      lastAccepted.set(port, socket);
      socket.once("close", () => {
        if (lastAccepted.get(port) === socket) lastAccepted.delete(port);
      });
    });
    tcpListeners.set(port, server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, host: "::", ipv6Only: false, backlog: 4096 }, () => resolve());
    });
  }
  if (udpListeners.has(port)) return Promise.resolve();
  const socket = createSocket({ type: "udp6", ipv6Only: false });
  udpListeners.set(port, socket);
  socket.on("message", (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, "::", () => resolve());
  });
}

/** Opens a TCP connection and completes one echo round trip on it. */
function openTcp(host: string, port: number, timeoutMs: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners("data");
      if (ok) resolve(socket);
      else {
        socket.destroy();
        resolve(undefined);
      }
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("error", () => finish(false));
    socket.on("data", () => finish(true));
    socket.connect({ host, port }, () => socket.write(PAYLOAD));
  });
}

/** One more echo round trip on a held connection. */
function exchange(socket: Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.removeListener("data", onData);
      resolve(false);
    }, timeoutMs);
    const onData = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once("data", onData);
    socket.write(PAYLOAD);
  });
}

function udpExchange(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("error", () => finish(false));
    socket.on("message", () => finish(true));
    socket.send(PAYLOAD, port, host);
  });
}

/** Only a connected UDP socket hears of an ICMP error, as ECONNREFUSED on its next operation. */
function udpRefused(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    const finish = (refused: boolean) => {
      clearTimeout(timer);
      socket.close();
      resolve(refused);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code === "ECONNREFUSED"));
    socket.on("message", () => finish(false));
    socket.connect(port, host, () => {
      socket.send(PAYLOAD, (error) => {
        if (error) finish((error as NodeJS.ErrnoException).code === "ECONNREFUSED");
      });
    });
  });
}

function ping(host: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const seconds = Math.max(timeoutMs / 1000, 0.05).toFixed(3);
    const child = spawn("ping", ["-n", "-q", "-c", "1", "-W", seconds, host], { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("close", (code) => resolve(code === 0));
  });
}

/** New TCP connections, each with one echo round trip, back to back on `concurrency` lanes. */
async function connectionRate(
  host: string,
  port: number,
  durationMs: number,
  concurrency: number,
): Promise<{ completed: number; failed: number }> {
  const deadline = Date.now() + durationMs;
  let completed = 0;
  let failed = 0;
  const lane = async () => {
    while (Date.now() < deadline) {
      const socket = await openTcp(host, port, 1000);
      if (socket) {
        completed++;
        socket.destroy();
      } else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { completed, failed };
}

async function serve(request: ProbeRequest): Promise<ProbeReply> {
  switch (request.op) {
    case "listen":
      await listen(request.proto, request.port);
      return { id: request.id };
    case "connect":
      if (request.proto === "udp") {
        return { id: request.id, open: await udpExchange(request.host, request.port, request.timeoutMs) };
      } else {
        const socket = await openTcp(request.host, request.port, request.timeoutMs);
        socket?.destroy();
        return { id: request.id, open: socket !== undefined };
      }
    case "ping":
      return { id: request.id, open: await ping(request.host, request.timeoutMs) };
    case "hold": {
      const socket = await openTcp(request.host, request.port, request.timeoutMs);
      if (!socket) return { id: request.id, open: false };
      const conn = nextConn++;
      held.set(conn, socket);
      return { id: request.id, open: true, conn };
    }
    case "send": {
      const socket = held.get(request.conn);
      if (!socket) return { id: request.id, error: `no connection ${request.conn}` };
      return { id: request.id, open: await exchange(socket, request.timeoutMs) };
    }
    case "udp-refused":
      return { id: request.id, refused: await udpRefused(request.host, request.port, request.timeoutMs) };
    case "push": {
      const socket = lastAccepted.get(request.port);
      if (!socket) return { id: request.id, error: `no accepted connection on port ${request.port}` };
      socket.write(PAYLOAD);
      return { id: request.id, open: true };
    }
    case "release":
      held.get(request.conn)?.destroy();
      held.delete(request.conn);
      return { id: request.id };
    case "rate":
      return {
        id: request.id,
        ...(await connectionRate(request.host, request.port, request.durationMs, request.concurrency)),
      };
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let request: ProbeRequest;
  try {
    request = JSON.parse(line) as ProbeRequest;
  } catch {
    return;
  }
  serve(request).then(reply, (error: unknown) =>
    reply({ id: request.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
lines.on("close", () => process.exit(0));
reply({ id: 0 });
