// The prefix lists AWS manages in every region: the gateway-endpoint lists of S3 and DynamoDB,
// `com.amazonaws.<region>.s3` and `com.amazonaws.<region>.dynamodb`, owned by `AWS`, read-only,
// visible to every account of the region and usable in any security-group rule.
//
// Their ids and entries are AWS's own where ringfence has a published record of them (the region's
// `describe-prefix-lists` output); the entries are a dated snapshot, since AWS changes them without
// notice. Elsewhere a list has a stable id derived from its name and no entries, so a rule that
// names it admits nothing: ringfence does not guess AWS's address ranges.

import { createHash } from "node:crypto";
import type { PrefixListEntry, PrefixListRecord } from "./resources.js";

export const AWS_OWNER = "AWS";

const SERVICES = ["s3", "dynamodb"] as const;

interface Published {
  readonly id: string;
  readonly cidrs?: readonly string[];
}

/** Ids, and entries where recorded, of lists seen in real accounts. */
const PUBLISHED: Readonly<Record<string, Partial<Readonly<Record<(typeof SERVICES)[number], Published>>>>> = {
  "us-east-1": { s3: { id: "pl-63a5400a" } },
  // describe-prefix-lists of February 2020
  "us-east-2": {
    s3: {
      id: "pl-7ba54012",
      cidrs: ["52.219.80.0/20", "3.5.128.0/22", "3.5.132.0/23", "52.219.96.0/20", "52.92.76.0/22"],
    },
    dynamodb: { id: "pl-4ca54025", cidrs: ["52.94.4.0/24"] },
  },
  // the batfish hybrid-cloud account dump in test/fixtures/aws
  "us-west-2": {
    s3: { id: "pl-68a54001", cidrs: ["54.231.160.0/19", "52.218.128.0/17", "52.92.32.0/22"] },
    dynamodb: { id: "pl-00a54069", cidrs: ["52.94.28.0/23"] },
  },
};

function derivedId(name: string): string {
  return `pl-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}

const cache = new Map<string, readonly PrefixListRecord[]>();

/** The AWS-managed lists of a region, as read-only records owned by `AWS`. */
export function awsManagedPrefixLists(region: string): readonly PrefixListRecord[] {
  let lists = cache.get(region);
  if (!lists) {
    lists = SERVICES.map((service) => {
      const name = `com.amazonaws.${region}.${service}`;
      const published = PUBLISHED[region]?.[service];
      const entries: PrefixListEntry[] = (published?.cidrs ?? []).map((cidr) => ({ cidr }));
      return Object.freeze({
        kind: "prefix-list" as const,
        id: published?.id ?? derivedId(name),
        account: AWS_OWNER,
        region,
        tags: {},
        name,
        addressFamily: "IPv4" as const,
        // The weight a rule naming the list counts against the group's rule quota.
        maxEntries: Math.max(1, entries.length),
        version: 1,
        entries,
        history: [],
      });
    });
    cache.set(region, lists);
  }
  return lists;
}

export function awsManagedPrefixList(region: string, id: string): PrefixListRecord | undefined {
  return awsManagedPrefixLists(region).find((list) => list.id === id);
}
