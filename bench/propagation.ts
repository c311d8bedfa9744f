// How fast a change made through the API is in force in the lab's kernels: with N lab instances,
// the time from the API response of an Authorize, a Revoke and a membership change
// (ModifyInstanceAttribute) to the first probe that sees the change on every affected instance.
// "api" is request to response (the server syncs the lab before it answers); "visible" is response
// to the send time of the first probe round whose packets all met the new policy; "total" is both.
// Needs root: it creates and removes its own namespaces.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startServer } from "../src/api/server.js";
import { Lab } from "../src/lab/lab.js";
import { instanceNamespace } from "../src/lab/names.js";
import { type ProbeResult, Prober } from "../src/lab/probe.js";
import type { InstanceRuntime } from "../src/model/instance-runtime.js";
import type { BenchOptions } from "./main.js";

interface Launched {
  readonly id: string;
  readonly ip: string;
}

interface Sample {
  readonly api: number;
  readonly visible: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

function summary(samples: readonly Sample[]) {
  const pick = (f: (s: Sample) => number) => [...samples.map(f)].sort((a, b) => a - b);
  const api = pick((s) => s.api);
  const visible = pick((s) => s.visible);
  const total = pick((s) => s.api + s.visible);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    changes: samples.length,
    apiP50: round(percentile(api, 50)),
    apiP99: round(percentile(api, 99)),
    visibleP50: round(percentile(visible, 50)),
    visibleP99: round(percentile(visible, 99)),
    totalP50: round(percentile(total, 50)),
    totalP99: round(percentile(total, 99)),
  };
}

function option(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

export async function run({ json, args }: BenchOptions): Promise<void> {
  const instanceCount = option(args, "--instances", 20);
  const changes = option(args, "--changes", 50);
  const probeTimeoutMs = 100;
  const home = await mkdtemp(join(tmpdir(), "rf-bench-propagation-"));
  const lab = new Lab();
  // The lab's share of each API call: every sync the server runs, timed.
  const syncTimes: number[] = [];
  const runtime: InstanceRuntime = {
    sync: async (estate, revision) => {
      const start = performance.now();
      await lab.sync(estate, revision);
      syncTimes.push(performance.now() - start);
    },
    close: () => lab.close(),
  };
  const server = await startServer({
    listen: "127.0.0.1:0",
    dataDir: join(home, "data"),
    runtime,
    log: () => {},
  });
  const client = new EC2Client({
    endpoint: server.url,
    region: server.region,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 1,
  });
  const prober = new Prober(probeTimeoutMs);
  try {
    const vpc = (await client.send(new CreateVpcCommand({ CidrBlock: "10.90.0.0/16" }))).Vpc?.VpcId ?? "";
    const subnet =
      (await client.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.90.0.0/22" }))).Subnet
        ?.SubnetId ?? "";
    const group = async (name: string) =>
      (await client.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: name, Description: name })))
        .GroupId ?? "";
    const app = await group("app");
    const db = await group("db");
    const other = await group("other");
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: app }] },
        ],
      }),
    );
    const launch = async (groupId: string, count: number): Promise<Launched[]> => {
      const out = await client.send(
        new RunInstancesCommand({
          ImageId: "ami-12345678",
          MinCount: count,
          MaxCount: count,
          SubnetId: subnet,
          SecurityGroupIds: [groupId],
        }),
      );
      return (out.Instances ?? []).map((i) => ({ id: i.InstanceId ?? "", ip: i.PrivateIpAddress ?? "" }));
    };
    const apps = await launch(app, Math.floor(instanceCount / 2));
    const dbs = await launch(db, instanceCount - apps.length);
    const ns = (i: Launched) => instanceNamespace(i.id);
    const ports = Array.from({ length: changes }, (_, i) => 20000 + i);
    // Listeners and agents up front, so that a measurement is packets, not process starts.
    await Promise.all(
      dbs.flatMap((d) => [5432, ...ports].map((port) => prober.listen(ns(d), { protocol: "tcp", port }))),
    );
    await Promise.all(
      apps.map((a) =>
        prober.probe(ns(a), ns(dbs[0] as Launched), (dbs[0] as Launched).ip, { protocol: "tcp", port: 5432 }),
      ),
    );

    /** Probe rounds until every pair shows `want`; the send time of that round. */
    const until = async (
      pairs: readonly [Launched, Launched][],
      port: number,
      want: ProbeResult,
    ): Promise<number> => {
      const deadline = performance.now() + 10_000;
      for (;;) {
        const start = performance.now();
        const seen = await Promise.all(
          pairs.map(([from, to]) => prober.probe(ns(from), ns(to), to.ip, { protocol: "tcp", port })),
        );
        if (seen.every((s) => s === want)) return start;
        if (performance.now() > deadline) throw new Error(`port ${port} never became ${want}`);
      }
    };
    const timed = async (change: () => Promise<unknown>, observe: () => Promise<number>): Promise<Sample> => {
      const t0 = performance.now();
      await change();
      const t1 = performance.now();
      const seen = await observe();
      return { api: t1 - t0, visible: Math.max(0, seen - t1) };
    };

    syncTimes.length = 0;
    const source = apps[0] as Launched;
    const toAllDbs = dbs.map((d) => [source, d] as [Launched, Launched]);
    const authorize: Sample[] = [];
    const revoke: Sample[] = [];
    for (const port of ports) {
      const permission = [
        { IpProtocol: "tcp", FromPort: port, ToPort: port, UserIdGroupPairs: [{ GroupId: app }] },
      ];
      authorize.push(
        await timed(
          () =>
            client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: db, IpPermissions: permission })),
          () => until(toAllDbs, port, "open"),
        ),
      );
      revoke.push(
        await timed(
          () =>
            client.send(new RevokeSecurityGroupIngressCommand({ GroupId: db, IpPermissions: permission })),
          () => until(toAllDbs, port, "blocked"),
        ),
      );
    }
    const membership: Sample[] = [];
    for (let i = 0; i < changes; i++) {
      const moved = apps[Math.floor(i / 2) % apps.length] as Launched;
      const leaving = i % 2 === 0;
      membership.push(
        await timed(
          () =>
            client.send(
              new ModifyInstanceAttributeCommand({ InstanceId: moved.id, Groups: [leaving ? other : app] }),
            ),
          () =>
            until(
              dbs.map((d) => [moved, d] as [Launched, Launched]),
              5432,
              leaving ? "blocked" : "open",
            ),
        ),
      );
    }

    const result = {
      benchmark: "propagation",
      instances: apps.length + dbs.length,
      probeTimeoutMs,
      authorize: summary(authorize),
      revoke: summary(revoke),
      membership: summary(membership),
      labSync: (() => {
        const sorted = [...syncTimes].sort((a, b) => a - b);
        const round = (n: number) => Math.round(n * 100) / 100;
        return {
          syncs: sorted.length,
          p50: round(percentile(sorted, 50)),
          p99: round(percentile(sorted, 99)),
        };
      })(),
    };
    const rows = (["authorize", "revoke", "membership"] as const).map((k) => ({ change: k, ...result[k] }));
    console.log(
      `propagation with ${result.instances} lab instances (ms; api = request to response, visible = response to first probe round in force)`,
    );
    console.log(
      ["change", "n", "api p50", "api p99", "visible p50", "visible p99", "total p50", "total p99"]
        .map((h, i) => (i === 0 ? h.padEnd(11) : h.padStart(13)))
        .join(""),
    );
    for (const r of rows) {
      console.log(
        [r.change, r.changes, r.apiP50, r.apiP99, r.visibleP50, r.visibleP99, r.totalP50, r.totalP99]
          .map((v, i) => (i === 0 ? String(v).padEnd(11) : String(v).padStart(13)))
          .join(""),
      );
    }
    console.log(
      `of which lab sync (all ${result.labSync.syncs} syncs): p50 ${result.labSync.p50} ms, p99 ${result.labSync.p99} ms`,
    );
    if (json) console.log(JSON.stringify(result));
  } finally {
    client.destroy();
    await prober.close();
    await server.close();
    await rm(home, { recursive: true, force: true });
  }
}
