import { HostEnforcer } from "../agent/enforcer.js";
import { NftSession, NftSessionKernel } from "../agent/nft-session.js";
import type { HostPolicy } from "../compile/host-policy.js";
import { hostPolicyFor } from "../compile/host-policy.js";
import type { Estate } from "../model/estate.js";
import type { InstanceRuntime } from "../model/instance-runtime.js";
import { deleteNamespaces } from "./iproute.js";
import { instanceNamespace, routerNamespace } from "./names.js";
import { LabNetwork, type NetworkChanges } from "./network.js";
import { REMOVE_ACL_TABLE, routerAclScript } from "./subnet-acl.js";
import { type LabHost, labTopology, type VpcRouter } from "./topology.js";

// The lab as the control plane's InstanceRuntime: instances become network namespaces, and each
// running one is protected by a host firewall fed by the same compile path as a real host. Each
// sync converges the network first, then applies policies, concurrently, to exactly the hosts whose
// policy changed (or whose namespace is new).

/** The firewall of one lab host: the agent's enforcer bound to that host's namespace. */
export interface HostFirewall {
  apply(policy: HostPolicy, revision: number): Promise<void>;
  close?(): Promise<void>;
}

/**
 * The agent's HostEnforcer on a kernel inside the host's namespace: the path of a real host, but
 * for the drift repair, which the lab does not run (an edit made inside an instance stays until the
 * next full apply), so neither does it list the table around each delta: those listings took more
 * than half of a change's time on every host it touched.
 */
export function enforcedHost(namespace: string): HostFirewall {
  const kernel = new NftSessionKernel({ netns: namespace });
  const enforcer = new HostEnforcer(kernel, { tracksDrift: false });
  return {
    apply: async (policy, revision) => {
      await enforcer.apply(revision, policy);
    },
    close: () => kernel.close(),
  };
}

export type HostFirewallFactory = (namespace: string, instanceId: string) => HostFirewall;

export interface LabOptions {
  /** How a host's policy reaches its kernel (default: nft in the host's namespace). */
  readonly firewall?: HostFirewallFactory;
}

export interface SyncReport {
  readonly revision: number;
  readonly network: NetworkChanges;
  /** Instances whose firewall was (re)applied in this sync. */
  readonly enforced: readonly string[];
}

interface Enforced {
  readonly firewall: HostFirewall;
  /** JSON of the last applied policy; undefined until the first apply succeeded. */
  applied?: string;
}

interface RouterAcls {
  readonly session: NftSession;
  /** The script last applied; "" when nothing is filtered. */
  script: string;
}

export class Lab implements InstanceRuntime {
  private readonly network = new LabNetwork();
  private readonly acls = new Map<string, RouterAcls>();
  private readonly enforced = new Map<string, Enforced>();
  private queue: Promise<unknown> = Promise.resolve();
  private lastRevision = -1;
  private closed = false;

  private readonly firewall: HostFirewallFactory;

  constructor(options: LabOptions = {}) {
    this.firewall = options.firewall ?? enforcedHost;
  }

  /** Running hosts as wired now, by instance id (namespaces, addresses). */
  get hosts(): ReadonlyMap<string, LabHost> {
    return this.network.currentHosts;
  }

  get revision(): number {
    return this.lastRevision;
  }

  sync(estate: Estate, revision: number): Promise<void> {
    return this.syncWithReport(estate, revision).then(() => {});
  }

  /** Like sync, and says what it did. Calls are serialised in the order they are made. */
  syncWithReport(estate: Estate, revision: number): Promise<SyncReport> {
    const run = this.queue.then(() => this.converge(estate, revision));
    this.queue = run.catch(() => {});
    return run;
  }

  private firewallOf(host: LabHost): Enforced {
    let entry = this.enforced.get(host.instanceId);
    if (!entry) {
      entry = { firewall: this.firewall(host.namespace, host.instanceId) };
      this.enforced.set(host.instanceId, entry);
    }
    return entry;
  }

  private async enforce(estate: Estate, host: LabHost, revision: number): Promise<boolean> {
    const policy = hostPolicyFor(estate, host.instanceId);
    if (!policy) return false;
    const entry = this.firewallOf(host);
    const json = JSON.stringify(policy);
    if (entry.applied === json) return false;
    await entry.firewall.apply(policy, revision);
    entry.applied = json;
    return true;
  }

  private async dropFirewall(instanceId: string): Promise<void> {
    const entry = this.enforced.get(instanceId);
    this.enforced.delete(instanceId);
    await entry?.firewall.close?.();
  }

  private async converge(estate: Estate, revision: number): Promise<SyncReport> {
    if (this.closed) throw new Error("the lab is closed");
    // A namespace removed under the lab (`lab down`, `ip netns del`) would otherwise go unnoticed:
    // its nft keeps running in the detached namespace, so nothing fails. It is built again now.
    await this.forgetLost();
    if (this.lastRevision < 0) await this.removeLeftovers(estate);
    try {
      return await this.convergeOnce(estate, revision);
    } catch (error) {
      await this.forgetLost().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Forgets what is gone, with its firewall and network ACLs, so that this or the next sync
   * builds it again; the rest stays.
   */
  private async forgetLost(): Promise<void> {
    const lost = await this.network.reconcile();
    await Promise.all(lost.hosts.map((id) => this.dropFirewall(id)));
    await Promise.all(lost.routers.map((id) => this.dropAcls(id)));
  }

  /**
   * At the first sync of a server: the namespaces an earlier run left for instances that are no
   * longer running (stopped or terminated while the server ran without the lab, or crashed before
   * its sync) and for VPCs without running instances. Only names of this estate's instances and
   * VPCs are touched: other labs on the machine keep theirs.
   */
  private async removeLeftovers(estate: Estate): Promise<void> {
    const topology = labTopology(estate);
    await deleteNamespaces([
      ...estate.instances.filter((i) => !topology.hosts.has(i.id)).map((i) => instanceNamespace(i.id)),
      ...estate.vpcs.filter((v) => !topology.routers.has(v.id)).map((v) => routerNamespace(v.id)),
    ]);
  }

  private async convergeOnce(estate: Estate, revision: number): Promise<SyncReport> {
    const topology = labTopology(estate);
    const enforced = new Set<string>();
    // One host whose firewall cannot be applied must not hold up the others: it stays unwired (or,
    // if it runs already, on its last table), and the sync fails after the rest is done.
    const failures: unknown[] = [];
    const enforceOrNote = async (h: LabHost): Promise<boolean> => {
      try {
        if (await this.enforce(estate, h, revision)) enforced.add(h.instanceId);
        return true;
      } catch (error) {
        failures.push(error);
        return false;
      }
    };
    const network = await this.network.converge(topology, async (fresh) => {
      // A namespace built anew has no firewall yet, whatever was applied to its predecessor.
      await Promise.all(fresh.map((h) => this.dropFirewall(h.instanceId)));
      const secured = await Promise.all(fresh.map(enforceOrNote));
      return fresh.filter((_, k) => !secured[k]).map((h) => h.instanceId);
    });
    await Promise.all(network.removed.map((id) => this.dropFirewall(id)));
    await Promise.all(
      [...network.routersRemoved, ...network.routersCreated].map((vpcId) => this.dropAcls(vpcId)),
    );
    await Promise.all([...topology.routers.values()].map((r) => this.enforceAcls(estate, r)));
    const wired = new Set(this.network.currentHosts.keys());
    await Promise.all([...topology.hosts.values()].filter((h) => wired.has(h.instanceId)).map(enforceOrNote));
    if (failures.length > 0) throw failures[0];
    this.lastRevision = revision;
    return { revision, network, enforced: [...enforced] };
  }

  /** The VPC's network ACLs, in its router namespace; only when they changed. */
  private async enforceAcls(estate: Estate, router: VpcRouter): Promise<void> {
    const script = routerAclScript(estate, router);
    let entry = this.acls.get(router.vpcId);
    if ((entry?.script ?? "") === script) return;
    if (!entry) {
      entry = { session: new NftSession(router.namespace), script: "" };
      this.acls.set(router.vpcId, entry);
    }
    await entry.session.run(script === "" ? REMOVE_ACL_TABLE : script);
    entry.script = script;
  }

  private async dropAcls(vpcId: string): Promise<void> {
    const entry = this.acls.get(vpcId);
    this.acls.delete(vpcId);
    await entry?.session.close();
  }

  /** Removes every namespace this lab built. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    await Promise.all([...this.enforced.keys()].map((id) => this.dropFirewall(id)));
    await Promise.all([...this.acls.keys()].map((id) => this.dropAcls(id)));
    await this.network.teardown();
  }
}
