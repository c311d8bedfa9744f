import {
  DescribeInstancesCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  GetManagedPrefixListEntriesCommand,
} from "@aws-sdk/client-ec2";
import { estateFromResponses } from "../importers/snapshot.js";
import type { Estate } from "../model/estate.js";

// How the lab commands learn instances, addresses and policy when they do not run inside the
// server: the controller's own EC2 API, read back through the same importer as an AWS dump.

export const DEFAULT_ENDPOINT = "http://127.0.0.1:4780";

export interface ControllerConnection {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Endpoint from the option, credentials from RINGFENCE_* or else AWS_* variables. */
export function controllerFromEnvironment(
  endpoint: string | undefined,
  env = process.env,
): ControllerConnection {
  const accessKeyId = env.RINGFENCE_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.RINGFENCE_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      "no credentials: set RINGFENCE_ACCESS_KEY_ID and RINGFENCE_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
    );
  }
  return {
    endpoint: endpoint ?? env.RINGFENCE_ENDPOINT ?? DEFAULT_ENDPOINT,
    region: env.RINGFENCE_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    accessKeyId,
    secretAccessKey,
  };
}

interface Page {
  readonly NextToken?: string | undefined;
}

async function allPages<T extends Page>(fetch: (token: string | undefined) => Promise<T>): Promise<T[]> {
  const pages: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    pages.push(page);
    token = page.NextToken;
  } while (token);
  return pages;
}

/** Drops the SDK's `$metadata` and turns Dates into ISO text, as `aws ec2 describe-*` prints. */
function asDump(page: unknown): unknown {
  return JSON.parse(JSON.stringify(page, (key, value) => (key === "$metadata" ? undefined : value)));
}

/** The estate the controller holds, read through its EC2 API. */
export async function fetchControllerEstate(connection: ControllerConnection): Promise<Estate> {
  const client = new EC2Client({
    endpoint: connection.endpoint,
    region: connection.region,
    credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
    maxAttempts: 1,
  });
  try {
    const required = await Promise.all([
      allPages((NextToken) => client.send(new DescribeVpcsCommand({ NextToken }))),
      allPages((NextToken) => client.send(new DescribeSubnetsCommand({ NextToken }))),
      allPages((NextToken) => client.send(new DescribeSecurityGroupsCommand({ NextToken }))),
      allPages((NextToken) => client.send(new DescribeNetworkInterfacesCommand({ NextToken }))),
      allPages((NextToken) => client.send(new DescribeInstancesCommand({ NextToken }))),
    ]);
    // ACLs and prefix lists refine the answer; a controller without them still has a lab.
    const acls = await allPages((NextToken) =>
      client.send(new DescribeNetworkAclsCommand({ NextToken })),
    ).catch(() => []);
    const lists = await allPages((NextToken) =>
      client.send(new DescribeManagedPrefixListsCommand({ NextToken })),
    ).catch(() => []);
    const listIds = lists.flatMap((p) => (p.PrefixLists ?? []).map((l) => l.PrefixListId ?? ""));
    const entries = await Promise.all(
      listIds
        .filter((id) => id)
        .map(async (id) => ({
          id,
          pages: await allPages((NextToken) =>
            client.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, NextToken })),
          ).catch(() => []),
        })),
    );
    const responses: [string, unknown][] = [];
    const names = [
      "describe-vpcs",
      "describe-subnets",
      "describe-security-groups",
      "describe-network-interfaces",
      "describe-instances",
    ];
    required.forEach((pages: readonly unknown[], i) => {
      for (const [n, page] of pages.entries()) responses.push([`${names[i]}-${n}`, asDump(page)]);
    });
    for (const [n, page] of acls.entries()) responses.push([`describe-network-acls-${n}`, asDump(page)]);
    for (const [n, page] of lists.entries())
      responses.push([`describe-managed-prefix-lists-${n}`, asDump(page)]);
    for (const { id, pages } of entries) {
      for (const [n, page] of pages.entries())
        responses.push([`get-managed-prefix-list-entries-${id}-${n}`, asDump(page)]);
    }
    return estateFromResponses(responses);
  } finally {
    client.destroy();
  }
}
