// The same describe-* output as a snapshot directory holds, pulled over the EC2 API itself with
// @aws-sdk/client-ec2 (every page): from ringfence's own server (`--endpoint URL`, default the local
// one) or, with `aws: true`, from a real AWS account through the default credential chain. What
// comes back is turned into snapshot files by `snapshotFiles`, so that a live pull, a written
// snapshot and a dump made with the aws CLI are all read by one importer (snapshot.ts).
//
// Read-only: it calls DescribeSecurityGroups, DescribeSecurityGroupRules, DescribeInstances,
// DescribeNetworkInterfaces, DescribeSubnets, DescribeVpcs, DescribeNetworkAcls,
// DescribeManagedPrefixLists, GetManagedPrefixListEntries and DescribeAddresses.
//
//   const files = await pullSnapshotFiles({ endpoint: "http://127.0.0.1:4780" });
//   await writeSnapshot("snap/", files);          // or: estateFromResponses(files)

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EC2Client } from "@aws-sdk/client-ec2";

// The SDK is large (tens of MB once loaded); only the commands that read a live estate load it.
const loadSdk = () => import("@aws-sdk/client-ec2");

export const DEFAULT_ENDPOINT = "http://127.0.0.1:4780";

export interface Ec2Source {
  /** ringfence's server (default DEFAULT_ENDPOINT) unless `aws` is set. */
  readonly endpoint?: string;
  /** Real AWS: default credential chain, `region` or AWS_REGION. */
  readonly aws?: boolean;
  readonly region?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** How long one request may wait for its answer (default 30 s). */
  readonly requestTimeoutMs?: number;
}

/** The describe outputs, one list of pages per call; pages are SDK output objects. */
export interface DescribeOutputs {
  securityGroups: Record<string, unknown>[];
  securityGroupRules: Record<string, unknown>[];
  instances: Record<string, unknown>[];
  networkInterfaces: Record<string, unknown>[];
  subnets: Record<string, unknown>[];
  vpcs: Record<string, unknown>[];
  networkAcls: Record<string, unknown>[];
  managedPrefixLists: Record<string, unknown>[];
  /** GetManagedPrefixListEntries pages per prefix-list id. */
  prefixListEntries: Map<string, Record<string, unknown>[]>;
  addresses: Record<string, unknown>[];
}

async function clientFor(source: Ec2Source): Promise<EC2Client> {
  const { EC2Client } = await loadSdk();
  const env = source.env ?? process.env;
  const region = source.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  // An endpoint that accepts a connection and never answers must not hold a command forever.
  const requestHandler = {
    connectionTimeout: 5_000,
    requestTimeout: source.requestTimeoutMs ?? 30_000,
    throwOnRequestTimeout: true,
  };
  if (source.aws) return new EC2Client({ region, requestHandler });
  const accessKeyId = env.RINGFENCE_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.RINGFENCE_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  return new EC2Client({
    region,
    requestHandler,
    endpoint: source.endpoint ?? DEFAULT_ENDPOINT,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  });
}

type Page = Record<string, unknown> & { NextToken?: string };

async function allPages(
  fetch: (token: string | undefined) => Promise<Page>,
): Promise<Record<string, unknown>[]> {
  const pages: Record<string, unknown>[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    pages.push(page);
    token = page.NextToken || undefined;
  } while (token !== undefined);
  return pages;
}

/** Pull every describe output the analysis reads. */
export async function pullDescribeOutputs(source: Ec2Source): Promise<DescribeOutputs> {
  const client = await clientFor(source);
  const {
    DescribeAddressesCommand,
    DescribeInstancesCommand,
    DescribeManagedPrefixListsCommand,
    DescribeNetworkAclsCommand,
    DescribeNetworkInterfacesCommand,
    DescribeSecurityGroupRulesCommand,
    DescribeSecurityGroupsCommand,
    DescribeSubnetsCommand,
    DescribeVpcsCommand,
    GetManagedPrefixListEntriesCommand,
  } = await loadSdk();
  try {
    const page = async (command: unknown): Promise<Page> =>
      (await client.send(command as Parameters<EC2Client["send"]>[0])) as unknown as Page;
    const optional = async (f: () => Promise<Record<string, unknown>[]>) => {
      // Older or partial servers may not have every call; the analysis works without it.
      try {
        return await f();
      } catch (error) {
        const name = (error as { name?: string }).name ?? "";
        if (/InvalidAction|UnsupportedOperation|NotImplemented|UnknownOperation/i.test(name)) return [];
        throw error;
      }
    };
    const [securityGroups, instances, networkInterfaces, subnets, vpcs, networkAcls, addresses] =
      await Promise.all([
        allPages((NextToken) => page(new DescribeSecurityGroupsCommand({ NextToken }))),
        allPages((NextToken) => page(new DescribeInstancesCommand({ NextToken }))),
        allPages((NextToken) => page(new DescribeNetworkInterfacesCommand({ NextToken }))),
        allPages((NextToken) => page(new DescribeSubnetsCommand({ NextToken }))),
        allPages((NextToken) => page(new DescribeVpcsCommand({ NextToken }))),
        allPages((NextToken) => page(new DescribeNetworkAclsCommand({ NextToken }))),
        page(new DescribeAddressesCommand({})).then((p) => [p]),
      ]);
    const securityGroupRules = await optional(() =>
      allPages((NextToken) => page(new DescribeSecurityGroupRulesCommand({ NextToken }))),
    );
    const managedPrefixLists = await optional(() =>
      allPages((NextToken) => page(new DescribeManagedPrefixListsCommand({ NextToken }))),
    );
    const prefixListEntries = new Map<string, Record<string, unknown>[]>();
    for (const p of managedPrefixLists) {
      for (const list of (p.PrefixLists as { PrefixListId?: string }[] | undefined) ?? []) {
        const id = list.PrefixListId;
        if (!id) continue;
        prefixListEntries.set(
          id,
          await optional(() =>
            allPages((NextToken) =>
              page(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, NextToken })),
            ),
          ),
        );
      }
    }
    return {
      securityGroups,
      securityGroupRules,
      instances,
      networkInterfaces,
      subnets,
      vpcs,
      networkAcls,
      managedPrefixLists,
      prefixListEntries,
      addresses,
    };
  } catch (error) {
    throw unreachable(error, source.aws ? "AWS" : (source.endpoint ?? DEFAULT_ENDPOINT));
  } finally {
    client.destroy();
  }
}

/**
 * A failure without an EC2 error (no answer, or an HTTP answer that is not the EC2 API's) as an
 * error that says where and what; EC2 errors as they are.
 */
function unreachable(error: unknown, where: string): unknown {
  const failure = error as {
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { statusCode?: number };
    code?: string;
    message?: string;
  };
  // the SDK names an answer it could not read as an EC2 error "Unknown", or fails to parse it
  if (failure?.$fault !== undefined && failure.message !== "Unknown") return error;
  const status = failure?.$metadata?.httpStatusCode ?? failure?.$response?.statusCode;
  const detail =
    status !== undefined
      ? `HTTP ${status} without an EC2 error: is this the EC2 API?`
      : [failure?.code, failure?.message].filter(Boolean).join(": ");
  return new Error(`cannot read the EC2 API at ${where}: ${detail || "no answer"}`);
}

/** Dates to ISO text, SDK metadata dropped: what `aws ec2 describe-*` prints. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "$metadata" || k === "NextToken" || v === undefined) continue;
      out[k] = plain(v);
    }
    return out;
  }
  return value;
}

function concat(pages: readonly Record<string, unknown>[], key: string): unknown[] {
  return pages.flatMap((p) => (Array.isArray(p[key]) ? (p[key] as unknown[]) : [])).map(plain);
}

interface SdkRule {
  GroupId?: string;
  SecurityGroupRuleId?: string;
  IsEgress?: boolean;
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupInfo?: { GroupId?: string };
}

/**
 * Snapshot files (name -> JSON body) from describe outputs. Two additions to the plain CLI shape,
 * both optional for the importer: each peer of a permission carries its `SecurityGroupRuleId`
 * (from DescribeSecurityGroupRules), and each managed prefix list carries its `Entries`.
 */
export function snapshotFiles(outputs: DescribeOutputs): Map<string, unknown> {
  const ruleIds = new Map<string, string>();
  for (const r of concat(outputs.securityGroupRules, "SecurityGroupRules") as SdkRule[]) {
    if (!r.SecurityGroupRuleId) continue;
    const peer = r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? r.ReferencedGroupInfo?.GroupId ?? "";
    ruleIds.set(
      [
        r.GroupId,
        r.IsEgress ? "egress" : "ingress",
        r.IpProtocol,
        r.FromPort ?? -1,
        r.ToPort ?? -1,
        peer,
      ].join("|"),
      r.SecurityGroupRuleId,
    );
  }
  const groups = (concat(outputs.securityGroups, "SecurityGroups") as Record<string, unknown>[]).map((g) => {
    const annotate = (key: string, direction: string) =>
      ((g[key] as Record<string, unknown>[] | undefined) ?? []).map((p) => {
        const base = [g.GroupId, direction, p.IpProtocol, p.FromPort ?? -1, p.ToPort ?? -1];
        const withIds = (listKey: string, peerKey: string) =>
          ((p[listKey] as Record<string, unknown>[] | undefined) ?? []).map((peer) => {
            const id = ruleIds.get([...base, peer[peerKey]].join("|"));
            return id && peer.SecurityGroupRuleId === undefined ? { ...peer, SecurityGroupRuleId: id } : peer;
          });
        return {
          ...p,
          IpRanges: withIds("IpRanges", "CidrIp"),
          Ipv6Ranges: withIds("Ipv6Ranges", "CidrIpv6"),
          PrefixListIds: withIds("PrefixListIds", "PrefixListId"),
          UserIdGroupPairs: withIds("UserIdGroupPairs", "GroupId"),
        };
      });
    return {
      ...g,
      IpPermissions: annotate("IpPermissions", "ingress"),
      IpPermissionsEgress: annotate("IpPermissionsEgress", "egress"),
    };
  });
  const prefixLists = (concat(outputs.managedPrefixLists, "PrefixLists") as Record<string, unknown>[]).map(
    (p) => ({
      ...p,
      Entries: concat(outputs.prefixListEntries.get(p.PrefixListId as string) ?? [], "Entries"),
    }),
  );
  return new Map<string, unknown>([
    ["describe-security-groups.json", { SecurityGroups: groups }],
    ["describe-instances.json", { Reservations: concat(outputs.instances, "Reservations") }],
    [
      "describe-network-interfaces.json",
      { NetworkInterfaces: concat(outputs.networkInterfaces, "NetworkInterfaces") },
    ],
    ["describe-subnets.json", { Subnets: concat(outputs.subnets, "Subnets") }],
    ["describe-vpcs.json", { Vpcs: concat(outputs.vpcs, "Vpcs") }],
    ["describe-network-acls.json", { NetworkAcls: concat(outputs.networkAcls, "NetworkAcls") }],
    ["describe-managed-prefix-lists.json", { PrefixLists: prefixLists }],
    ["describe-addresses.json", { Addresses: concat(outputs.addresses, "Addresses") }],
  ]);
}

export async function pullSnapshotFiles(source: Ec2Source): Promise<Map<string, unknown>> {
  return snapshotFiles(await pullDescribeOutputs(source));
}

export async function writeSnapshot(dir: string, files: ReadonlyMap<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, body] of files) await writeFile(join(dir, name), `${JSON.stringify(body, null, 1)}\n`);
}
