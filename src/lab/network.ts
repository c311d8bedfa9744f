import { deleteNamespaces, execInNamespace, ipBatch, listNamespaces } from "./iproute.js";
import { INSTANCE_INTERFACE, isLabNamespace, stableMac } from "./names.js";
import type { LabHost, LabTopology, SubnetSegment, VpcRouter } from "./topology.js";

// Converges the kernel on a LabTopology. It remembers what it built, so that a sync with an
// unchanged topology costs nothing, and it only ever touches namespaces named after lab objects:
// bridges and veths are created inside the router namespaces, so the machine's own namespace never
// sees a lab interface or address.

export interface NetworkChanges {
  /** Instances whose namespace was created (or re-created, losing any firewall in it). */
  readonly created: readonly string[];
  /** Instances whose namespace was removed. */
  readonly removed: readonly string[];
  /** VPCs whose router namespace was created in this convergence. */
  readonly routersCreated: readonly string[];
  /** VPCs whose router namespace was removed. */
  readonly routersRemoved: readonly string[];
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function bridgeCommands(segment: SubnetSegment): string[] {
  return [
    `link add ${segment.bridge} address ${stableMac(segment.subnetId)} type bridge`,
    `link set ${segment.bridge} up`,
    ...segment.gateways.map(
      (g) =>
        `addr add ${g.address}/${g.prefix} dev ${segment.bridge}${g.address.includes(":") ? " nodad" : ""}`,
    ),
  ];
}

function hostCommands(host: LabHost): string[] {
  const dev = INSTANCE_INTERFACE;
  return [
    "link set lo up",
    ...host.addresses.map(
      (a) => `addr add ${a.address}/${a.prefix} dev ${dev}${a.address.includes(":") ? " nodad" : ""}`,
    ),
    `link set ${dev} up`,
    ...(host.gateway4 ? [`route add default via ${host.gateway4} dev ${dev}`] : []),
    ...(host.gateway6 ? [`route add ::/0 via ${host.gateway6} dev ${dev}`] : []),
  ];
}

export class LabNetwork {
  private routers = new Map<string, VpcRouter>();
  private hosts = new Map<string, LabHost>();
  private adopted = false;
  /**
   * Every namespace this network added and has not deleted, built or not; for a host's, the
   * router-side end of its veth, which outlives a half-built host.
   */
  private readonly made = new Map<string, { router: string; port: string } | undefined>();

  /** Hosts as currently wired, by instance id. */
  get currentHosts(): ReadonlyMap<string, LabHost> {
    return this.hosts;
  }

  /**
   * Makes the kernel match `desired`. `secure` is called with the hosts about to be (re)built once
   * their namespaces exist and before they are wired, so that a new instance is never reachable
   * before its firewall is in place; it answers the ids of the hosts it could not secure, which
   * are left unwired (the next convergence tries them again).
   */
  async converge(
    desired: LabTopology,
    secure: (hosts: readonly LabHost[]) => Promise<readonly string[]> = async () => [],
  ): Promise<NetworkChanges> {
    await this.removeHalfBuilt();
    const removedHosts = [...this.hosts.values()].filter((h) => {
      const want = desired.hosts.get(h.instanceId);
      return !want || !sameJson(want, h);
    });
    const addedHosts = [...desired.hosts.values()].filter((h) => {
      const have = this.hosts.get(h.instanceId);
      return !have || !sameJson(have, h);
    });
    const removedRouters = [...this.routers.values()].filter((r) => !desired.routers.has(r.vpcId));
    const addedRouters = [...desired.routers.values()].filter((r) => !this.routers.has(r.vpcId));
    const changedRouters = [...desired.routers.values()].filter((r) => {
      const have = this.routers.get(r.vpcId);
      return have !== undefined && !sameJson(have, r);
    });

    // A namespace's interfaces are destroyed asynchronously after `netns del`; deleting the
    // router-side veth end first frees its name at once for a host rebuilt right away.
    const portsByRouter = new Map<string, string[]>();
    for (const h of removedHosts) {
      if (removedRouters.some((r) => r.namespace === h.routerNamespace)) continue;
      portsByRouter.set(h.routerNamespace, [
        ...(portsByRouter.get(h.routerNamespace) ?? []),
        `link del ${h.port}`,
      ]);
    }
    await Promise.all([...portsByRouter].map(([ns, commands]) => ipBatch(ns, commands)));
    await this.deleteNamespaces([
      ...removedHosts.map((h) => h.namespace),
      ...removedRouters.map((r) => r.namespace),
    ]);
    for (const h of removedHosts) this.hosts.delete(h.instanceId);
    for (const r of removedRouters) this.routers.delete(r.vpcId);

    const fresh = [...addedRouters.map((r) => r.namespace), ...addedHosts.map((h) => h.namespace)];
    if (fresh.length > 0) {
      // Leftovers of an earlier run under the same names are replaced, not trusted.
      if (!this.adopted || addedRouters.length > 0) {
        const existing = new Set(await listNamespaces());
        await this.deleteNamespaces(fresh.filter((n) => existing.has(n)));
        this.adopted = true;
      }
      for (const r of addedRouters) this.made.set(r.namespace, undefined);
      for (const h of addedHosts) this.made.set(h.namespace, { router: h.routerNamespace, port: h.port });
      await ipBatch(
        undefined,
        fresh.map((n) => `netns add ${n}`),
      );
    }

    const unsecured = new Set(await secure(addedHosts));
    await Promise.all([
      ...addedRouters.map((r) => this.buildRouter(r)),
      ...changedRouters.map((r) => this.rebuildSegments(r)),
    ]);
    const wired = addedHosts.filter((h) => !unsecured.has(h.instanceId));
    await Promise.all(wired.map((h) => this.buildHost(h)));
    return {
      created: wired.map((h) => h.instanceId),
      removed: removedHosts.filter((h) => !desired.hosts.has(h.instanceId)).map((h) => h.instanceId),
      routersCreated: addedRouters.map((r) => r.vpcId),
      routersRemoved: removedRouters.map((r) => r.vpcId),
    };
  }

  private async buildRouter(router: VpcRouter): Promise<void> {
    // Set before the bridges exist: without duplicate address detection an IPv6 gateway answers
    // at once instead of after a second or two.
    // Bridged (same-subnet) traffic stays out of the IP hooks even where br_netfilter is loaded:
    // network ACLs filter only what is routed between subnets.
    const sysctl = await execInNamespace(router.namespace, [
      "sysctl",
      "-qew",
      "net.bridge.bridge-nf-call-iptables=0",
      "net.bridge.bridge-nf-call-ip6tables=0",
      "net.bridge.bridge-nf-call-arptables=0",
      "net.ipv4.ip_forward=1",
      "net.ipv6.conf.all.forwarding=1",
      "net.ipv6.conf.default.accept_dad=0",
      "net.ipv6.conf.all.accept_dad=0",
    ]);
    if (sysctl.code !== 0) throw new Error(`configuring ${router.namespace}: ${sysctl.stderr}`);
    await ipBatch(router.namespace, ["link set lo up", ...router.segments.flatMap(bridgeCommands)]);
    this.routers.set(router.vpcId, router);
  }

  private async rebuildSegments(router: VpcRouter): Promise<void> {
    const have = new Map((this.routers.get(router.vpcId)?.segments ?? []).map((s) => [s.subnetId, s]));
    const want = new Map(router.segments.map((s) => [s.subnetId, s]));
    const commands: string[] = [];
    for (const [id, s] of have) {
      const next = want.get(id);
      if (!next || !sameJson(next, s)) commands.push(`link del ${s.bridge}`);
    }
    for (const [id, s] of want) {
      const prev = have.get(id);
      if (!prev || !sameJson(prev, s)) commands.push(...bridgeCommands(s));
    }
    await ipBatch(router.namespace, commands);
    this.routers.set(router.vpcId, router);
  }

  private async buildHost(host: LabHost): Promise<void> {
    await ipBatch(host.routerNamespace, [
      `link add ${host.port} type veth peer name ${INSTANCE_INTERFACE} address ${stableMac(host.instanceId)} netns ${host.namespace}`,
      `link set ${host.port} master ${host.bridge}`,
      `link set ${host.port} up`,
    ]);
    await ipBatch(host.namespace, hostCommands(host));
    this.hosts.set(host.instanceId, host);
  }

  private async deleteNamespaces(names: readonly string[]): Promise<void> {
    await deleteNamespaces(names);
    for (const n of names) this.made.delete(n);
  }

  /** Namespaces added by a convergence that failed before it built them, and their veth ends. */
  private async removeHalfBuilt(): Promise<void> {
    const built = new Set([
      ...[...this.hosts.values()].map((h) => h.namespace),
      ...[...this.routers.values()].map((r) => r.namespace),
    ]);
    const half = [...this.made.entries()].filter(([name]) => !built.has(name));
    if (half.length === 0) return;
    const existing = new Set(await listNamespaces());
    await Promise.all(
      half.map(async ([, veth]) => {
        // absent when the failure came before the veth: nothing to remove then
        if (veth && existing.has(veth.router))
          await ipBatch(veth.router, [`link del ${veth.port}`]).catch(() => {});
      }),
    );
    await this.deleteNamespaces(half.map(([name]) => name).filter((n) => existing.has(n)));
    for (const [name] of half) this.made.delete(name);
  }

  /**
   * Forgets the routers and hosts whose namespace is gone (removed under the lab), and the hosts of
   * a router that is gone, so that the next convergence builds them again; what is still there is
   * kept, and a failure that recurs costs only its own host. With nothing gone it costs one read
   * of the namespace directory.
   */
  async reconcile(): Promise<{ hosts: string[]; routers: string[] }> {
    const existing = new Set(await listNamespaces());
    const routers = [...this.routers.values()].filter((r) => !existing.has(r.namespace));
    for (const r of routers) this.routers.delete(r.vpcId);
    const lost = new Set(routers.map((r) => r.namespace));
    const hosts = [...this.hosts.values()].filter(
      (h) => !existing.has(h.namespace) || lost.has(h.routerNamespace),
    );
    for (const h of hosts) this.hosts.delete(h.instanceId);
    // A namespace removed with `ip netns del` lives on while a process (its nft) is in it, and so
    // does its veth: the router-side end goes now, so that the host can be wired again at once.
    await Promise.all(
      hosts
        .filter((h) => existing.has(h.routerNamespace))
        .map((h) => execInNamespace(h.routerNamespace, ["ip", "link", "del", h.port])),
    );
    // a host left without its router is rebuilt from its namespace up
    await this.deleteNamespaces(hosts.map((h) => h.namespace).filter((n) => existing.has(n)));
    for (const n of [...lost, ...hosts.map((h) => h.namespace)]) this.made.delete(n);
    return { hosts: hosts.map((h) => h.instanceId), routers: routers.map((r) => r.vpcId) };
  }

  /** Removes every namespace this network added, built or half-built. */
  async teardown(): Promise<void> {
    const existing = new Set(await listNamespaces());
    await this.deleteNamespaces([...this.made.keys()].filter((n) => existing.has(n)));
    this.made.clear();
    this.hosts.clear();
    this.routers.clear();
    this.adopted = false;
  }
}

/** Removes every lab namespace on the machine, whoever made it (`ringfence lab down`). */
export async function sweepLabNamespaces(): Promise<string[]> {
  const doomed = (await listNamespaces()).filter(isLabNamespace);
  await deleteNamespaces(doomed);
  return doomed;
}
