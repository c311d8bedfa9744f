// Real nft, inside network namespaces this test creates (`rf-t-nft-*`) and removes. Never in the
// machine's own namespace. Skipped without root or without nft/ip.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { HostEnforcer } from "../../src/agent/enforcer.js";
import { NftApplyError } from "../../src/agent/kernel.js";
import { NftSessionKernel } from "../../src/agent/nft-session.js";
import { webPolicy } from "./policies.js";

const PREFIX = "rf-t-nft-";
const canRun =
  process.getuid?.() === 0 &&
  spawnSync("nft", ["--version"]).status === 0 &&
  spawnSync("ip", ["-V"]).status === 0;

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8" });
}

function sweep(): void {
  for (const line of ip("netns", "list").split("\n")) {
    const name = line.split(" ")[0];
    if (name?.startsWith(PREFIX)) spawnSync("ip", ["netns", "del", name]);
  }
}

/** Every kernel a test makes keeps an nft running in its namespace until the tests end. */
const kernels: NftSessionKernel[] = [];
function kernelIn(netns: string): NftSessionKernel {
  const kernel = new NftSessionKernel({ netns });
  kernels.push(kernel);
  return kernel;
}

/** A TCP connect from the peer namespace: "refused" means the SYN got through, "timeout" dropped. */
function connect(netns: string, source: string, destination: string, port: number): string {
  const program = `
import socket
s = socket.socket()
s.settimeout(0.7)
s.bind((${JSON.stringify(source)}, 0))
try:
    s.connect((${JSON.stringify(destination)}, ${port}))
    print("open")
except ConnectionRefusedError:
    print("refused")
except OSError:
    print("timeout")
`;
  return execFileSync("ip", ["netns", "exec", netns, "python3", "-c", program], { encoding: "utf8" }).trim();
}

/**
 * One TCP connection from `client` to `address:port` in `server`, which echoes: the client sends a
 * byte every 100 ms for 3 s and counts the echoes; `meanwhile` runs 1 s in. About 30 when nothing
 * cut the connection, about 10 when `meanwhile` did.
 */
async function echoes(
  server: string,
  client: string,
  address: string,
  port: number,
  meanwhile: () => Promise<unknown>,
): Promise<number> {
  const serve = `
import socket
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((${JSON.stringify(address)}, ${port})); l.listen(1)
print("ready", flush=True)
c, _ = l.accept(); c.settimeout(6)
try:
    while True:
        d = c.recv(100)
        if not d: break
        c.sendall(d)
except Exception: pass
`;
  const talk = `
import socket, time
s = socket.create_connection((${JSON.stringify(address)}, ${port}), timeout=2); s.settimeout(0.05)
n = 0; start = time.time()
while time.time() - start < 3:
    try: s.send(b"x")
    except Exception: pass
    try: n += len(s.recv(100))
    except Exception: pass
    time.sleep(0.1)
print(n, flush=True)
`;
  const { spawn } = await import("node:child_process");
  const serverProcess = spawn("ip", ["netns", "exec", server, "python3", "-c", serve], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    await new Promise<void>((resolve) => serverProcess.stdout.once("data", () => resolve()));
    const clientProcess = spawn("ip", ["netns", "exec", client, "python3", "-c", talk], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    clientProcess.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const exited = new Promise<void>((resolve) => clientProcess.on("exit", () => resolve()));
    await new Promise((r) => setTimeout(r, 1000));
    await meanwhile();
    await exited;
    return Number(out.trim());
  } finally {
    serverProcess.kill();
  }
}

function cidrRule(id: string, protocol: number, fromPort: number, toPort: number, cidr: string) {
  return { id, groupId: "sg-web", protocol, fromPort, toPort, peer: { kind: "cidr" as const, cidr } };
}

/** The host 10.0.0.5 with these rules in one group. */
function untrackedPolicy(rules: {
  ingress: ReturnType<typeof cidrRule>[];
  egress: ReturnType<typeof cidrRule>[];
}) {
  return {
    instanceId: "i-web",
    interfaces: [{ id: "eni-web", ipv4: ["10.0.0.5"], ipv6: [], groupIds: ["sg-web"], ...rules }],
    groups: [],
    prefixLists: [],
  };
}

describe("NftSessionKernel in a network namespace", {
  skip: canRun ? false : "needs root, nft and ip",
}, () => {
  const id = randomBytes(3).toString("hex");
  const host = `${PREFIX}${id}-h`;
  const peer = `${PREFIX}${id}-p`;

  before(() => {
    sweep();
    ip("netns", "add", host);
    ip("netns", "add", peer);
    ip("link", "add", `rfn${id}h`, "netns", host, "type", "veth", "peer", "name", `rfn${id}p`, "netns", peer);
    ip("-n", host, "addr", "add", "10.0.0.5/16", "dev", `rfn${id}h`);
    ip("-n", peer, "addr", "add", "10.0.9.9/16", "dev", `rfn${id}p`);
    ip("-n", peer, "addr", "add", "10.0.9.10/16", "dev", `rfn${id}p`);
    for (const ns of [host, peer]) {
      ip("-n", ns, "link", "set", "lo", "up");
    }
    ip("-n", host, "link", "set", `rfn${id}h`, "up");
    ip("-n", peer, "link", "set", `rfn${id}p`, "up");
  });

  after(async () => {
    await Promise.all(kernels.splice(0).map((kernel) => kernel.close()));
    for (const ns of [host, peer]) spawnSync("ip", ["netns", "del", ns]);
  });

  it("applies the table, then a membership delta, counts by rule id and repairs drift", async () => {
    const kernel = kernelIn(host);
    assert.equal(await kernel.listTable(), undefined);
    const enforcer = new HostEnforcer(kernel);

    const first = await enforcer.apply(1, webPolicy(["10.0.9.9"]));
    assert.equal(first.mode, "full");
    let text = (await kernel.listTable()) ?? "";
    assert.match(
      text,
      /set g_sg-admin_v4 \{\s+type ipv4_addr\s+flags interval\s+elements = \{ 10\.0\.9\.9 \}/,
    );
    assert.match(text, /type filter hook input priority filter; policy drop;/);
    assert.match(text, /comment "sgr-ssh"/);

    // real packets: the member's SYN reaches the (closed) port, the other address is dropped
    assert.equal(connect(peer, "10.0.9.9", "10.0.0.5", 22), "refused");
    assert.equal(connect(peer, "10.0.9.10", "10.0.0.5", 22), "timeout");
    text = (await kernel.listTable()) ?? "";
    const counted =
      /tcp dport 22 ip saddr @g_sg-admin_v4 counter packets (\d+) bytes \d+ accept comment "sgr-ssh"/.exec(
        text,
      );
    assert.ok(counted && Number(counted[1]) >= 1, text);

    // the second address joins sg-admin: element statements only (adjacent addresses merge into
    // one range, so the old element goes and the range comes), and it is let in at once
    const second = await enforcer.apply(2, webPolicy(["10.0.9.9", "10.0.9.10"]));
    assert.equal(second.mode, "delta");
    assert.equal(second.statements, 2);
    text = (await kernel.listTable()) ?? "";
    assert.match(text, /elements = \{ 10\.0\.9\.9-10\.0\.9\.10 \}/);
    assert.match(
      text,
      /counter packets [1-9]\d* bytes \d+ accept comment "sgr-ssh"/,
      "counters survive an element change",
    );
    assert.equal(connect(peer, "10.0.9.10", "10.0.0.5", 22), "refused");

    // drift: someone flushes the table; repair writes it again
    execFileSync("ip", ["netns", "exec", host, "nft", "flush", "table", "inet", "ringfence"]);
    assert.equal(
      connect(peer, "10.0.9.9", "10.0.0.5", 23),
      "timeout",
      "policy drop still holds after a flush",
    );
    assert.doesNotMatch((await kernel.listTable()) ?? "", /sgr-ssh/);
    assert.equal(await enforcer.repair(), true);
    assert.match((await kernel.listTable()) ?? "", /comment "sgr-ssh"/);
    assert.equal(await enforcer.repair(), false, "counters moving is not drift");
    assert.equal(connect(peer, "10.0.9.9", "10.0.0.5", 22), "refused");

    // someone deletes the table: repair recreates it
    await kernel.deleteTable();
    assert.equal(await kernel.listTable(), undefined);
    assert.equal(await enforcer.repair(), true);
    assert.notEqual(await kernel.listTable(), undefined);
  });

  it("an edit of what a delta changes does not survive it; an edit elsewhere is repaired", async () => {
    const kernel = kernelIn(host);
    const listed = () =>
      execFileSync("ip", ["netns", "exec", host, "nft", "list", "table", "inet", "ringfence"], {
        encoding: "utf8",
      });
    const tamper = (statement: string) => execFileSync("ip", ["netns", "exec", host, "nft", statement]);
    try {
      await kernel.deleteTable();
      const enforcer = new HostEnforcer(kernel);
      await enforcer.apply(1, webPolicy(["10.0.9.9"]));
      const clean = await enforcer.apply(2, webPolicy(["10.0.9.9", "10.0.9.20"]));
      assert.deepEqual([clean.mode, clean.drifted], ["delta", false]);

      tamper("add element inet ringfence g_sg-admin_v4 { 192.0.2.66 }");
      const outcome = await enforcer.apply(3, webPolicy(["10.0.9.9"]));
      assert.deepEqual([outcome.mode, outcome.drifted], ["full", true]);
      assert.doesNotMatch(listed(), /192\.0\.2\.66/);
      assert.match(listed(), /elements = \{ 10\.0\.9\.9 \}/);
      assert.equal(await enforcer.repair(), false, "the baseline is ours");

      tamper("add rule inet ringfence input tcp dport 23 accept");
      const past = await enforcer.apply(4, webPolicy(["10.0.9.9", "10.0.9.30"]));
      assert.deepEqual([past.mode, past.drifted], ["delta", false]);
      assert.equal(await enforcer.repair(), true, "the edited chain was never read back as ours");
      assert.doesNotMatch(listed(), /dport 23 accept/);
      assert.match(listed(), /elements = \{ 10\.0\.9\.9, 10\.0\.9\.30 \}/);
      assert.equal(await enforcer.repair(), false);
    } finally {
      await kernel.deleteTable();
    }
  });

  it("dispatches a group's many port rules through a port verdict map, with real packets", async () => {
    const kernel = kernelIn(host);
    const enforcer = new HostEnforcer(kernel);
    const base = webPolicy(["10.0.9.9"]);
    const iface = base.interfaces[0] as (typeof base.interfaces)[number];
    const tcp = (id: string, from: number, to: number, peer: (typeof iface.ingress)[number]["peer"]) => ({
      id,
      groupId: "sg-web",
      protocol: 6,
      fromPort: from,
      toPort: to,
      peer,
    });
    const admins = { kind: "group" as const, groupId: "sg-admin" };
    const policy = {
      ...base,
      interfaces: [
        {
          ...iface,
          ingress: [
            ...iface.ingress,
            tcp("sgr-range", 1000, 2000, admins),
            tcp("sgr-one", 1500, 1500, { kind: "cidr", cidr: "10.0.9.10/32" }),
            tcp("sgr-next", 3000, 3010, admins),
          ],
        },
      ],
    };
    await enforcer.apply(1, policy);
    assert.match(
      (await kernel.listTable()) ?? "",
      /tcp dport vmap \{ 22 : jump gin_sg-web_tcp_22, 1000-1499 : jump/,
    );
    assert.equal(connect(peer, "10.0.9.9", "10.0.0.5", 22), "refused");
    assert.equal(connect(peer, "10.0.9.9", "10.0.0.5", 1500), "refused");
    assert.equal(connect(peer, "10.0.9.9", "10.0.0.5", 3010), "refused");
    assert.equal(connect(peer, "10.0.9.9", "10.0.0.5", 2500), "timeout");
    assert.equal(connect(peer, "10.0.9.10", "10.0.0.5", 1500), "refused");
    assert.equal(connect(peer, "10.0.9.10", "10.0.0.5", 1501), "timeout");
    await kernel.deleteTable();
  });

  it("rejects a broken script without changing the table", async () => {
    const kernel = kernelIn(host);
    const enforcer = new HostEnforcer(kernel);
    await enforcer.apply(1, webPolicy());
    const before = await kernel.objectDigests();
    await assert.rejects(
      kernel.apply(
        "add element inet ringfence g_sg-admin_v4 { 10.0.0.77 }\nadd rule inet ringfence nochain accept\n",
      ),
      (error: unknown) => error instanceof NftApplyError && /nochain/.test(error.message),
    );
    assert.deepEqual(await kernel.objectDigests(), before);
  });

  it("keeps an established connection through a rule removal, but cuts an untracked flow", async () => {
    // host: tcp/8080 from 0.0.0.0/0 (untracked, all egress open) and tcp/9090 from the peer (tracked)
    const kernel = kernelIn(host);
    const enforcer = new HostEnforcer(kernel);
    const policy = (rules: string[]) => ({
      instanceId: "i-web",
      interfaces: [
        {
          id: "eni-web",
          ipv4: ["10.0.0.5"],
          ipv6: [],
          groupIds: ["sg-web"],
          ingress: [
            {
              id: "sgr-open",
              groupId: "sg-web",
              protocol: 6,
              fromPort: 8080,
              toPort: 8080,
              peer: { kind: "cidr" as const, cidr: "0.0.0.0/0" },
            },
            {
              id: "sgr-peer",
              groupId: "sg-web",
              protocol: 6,
              fromPort: 9090,
              toPort: 9090,
              peer: { kind: "cidr" as const, cidr: "10.0.9.9/32" },
            },
          ].filter((r) => rules.includes(r.id)),
          egress: [
            {
              id: "sgr-out",
              groupId: "sg-web",
              protocol: -1,
              fromPort: -1,
              toPort: -1,
              peer: { kind: "cidr" as const, cidr: "0.0.0.0/0" },
            },
          ],
        },
      ],
      groups: [],
      prefixLists: [],
    });
    await enforcer.apply(1, policy(["sgr-open", "sgr-peer"]));
    const text = (await kernel.listTable()) ?? "";
    assert.match(
      text,
      /tcp dport 8080 counter packets \d+ bytes \d+ ct mark set ct mark \| 0x01000000 comment "sgr-open"/,
    );
    assert.doesNotMatch(text, /9090 ct mark set/);
    // a server in the host namespace and a client in the peer that sends a line every 100 ms;
    // each prints what got through
    const server = `
import socket, threading, sys, time
def serve(port):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("10.0.0.5", port)); l.listen(1)
    c, _ = l.accept(); c.settimeout(5)
    n = 0
    try:
        while True:
            d = c.recv(100)
            if not d: break
            n += d.count(b"x")
    except Exception: pass
    print(port, n, flush=True)
for p in (8080, 9090): threading.Thread(target=serve, args=(p,)).start()
`;
    const client = `
import socket, time, sys
socks = []
for p in (8080, 9090):
    s = socket.create_connection(("10.0.0.5", p), timeout=2); socks.append(s)
start = time.time()
while time.time() - start < 3:
    for s in socks:
        try: s.send(b"x")
        except Exception: pass
    time.sleep(0.1)
for s in socks: s.close()
`;
    const { spawn } = await import("node:child_process");
    const serverProcess = spawn("ip", ["netns", "exec", host, "python3", "-c", server], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let serverOut = "";
    serverProcess.stdout.on("data", (b: Buffer) => {
      serverOut += b.toString();
    });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const clientProcess = spawn("ip", ["netns", "exec", peer, "python3", "-c", client], {
        stdio: "inherit",
      });
      await new Promise((r) => setTimeout(r, 1000));
      // remove both ingress rules while both connections are sending
      await enforcer.apply(2, policy([]));
      await new Promise<void>((resolve) => clientProcess.on("exit", () => resolve()));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          serverProcess.kill();
          resolve();
        }, 8000);
        serverProcess.on("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    } finally {
      serverProcess.kill();
    }
    const counts = new Map(
      serverOut
        .trim()
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => l.split(" ").map(Number) as [number, number]),
    );
    // about 30 sends each; the tracked connection keeps all, the untracked one stops at the removal
    const tracked = counts.get(9090) ?? 0;
    const untracked = counts.get(8080) ?? 0;
    assert.ok(tracked >= 25, `tracked connection received ${tracked}: ${serverOut}`);
    assert.ok(untracked >= 3 && untracked <= 20, `untracked connection received ${untracked}: ${serverOut}`);
  });
  it("keeps the host's own connection whose port an untracked ingress range covers, when that rule goes", async () => {
    // tcp 1024-65535 from 0.0.0.0/0 with all traffic out: inbound flows to those ports are
    // untracked, but a connection the host opens from one of them is its own outbound flow, tracked
    const enforcer = new HostEnforcer(kernelIn(host));
    const policy = (withRange: boolean) =>
      untrackedPolicy({
        ingress: withRange ? [cidrRule("sgr-range", 6, 1024, 65535, "0.0.0.0/0")] : [],
        egress: [cidrRule("sgr-out", -1, -1, -1, "0.0.0.0/0")],
      });
    await enforcer.apply(1, policy(true));
    const echoed = await echoes(peer, host, "10.0.9.9", 7070, () => enforcer.apply(2, policy(false)));
    assert.ok(echoed >= 25, `the host's connection got ${echoed} echoes`);
  });

  it("keeps an untracked flow when the all-open rule the other way goes: it is tracked from then on", async () => {
    const enforcer = new HostEnforcer(kernelIn(host));
    const open = cidrRule("sgr-open", 6, 8081, 8081, "0.0.0.0/0");
    await enforcer.apply(
      1,
      untrackedPolicy({ ingress: [open], egress: [cidrRule("sgr-out", -1, -1, -1, "0.0.0.0/0")] }),
    );
    const echoed = await echoes(host, peer, "10.0.0.5", 8081, () =>
      enforcer.apply(2, untrackedPolicy({ ingress: [open], egress: [] })),
    );
    assert.ok(echoed >= 25, `the flow got ${echoed} echoes`);
    // and a new connection is still admitted by the ingress rule, its replies by tracking
    assert.equal(connect(peer, "10.0.9.9", "10.0.0.5", 8081), "refused");
  });
});
