import type { Tags } from "../model/resources.js";
import type { Transaction } from "../store/transaction.js";
import type { Params } from "./params.js";
import type { Encodable } from "./wire/encode.js";

/** Quotas a deployment may raise; defaults are EC2's (spec section 3.9). */
export interface Quotas {
  rulesPerGroupPerDirection: number;
  groupsPerInterface: number;
  groupsPerRegion: number;
  vpcsPerRegion: number;
  subnetsPerVpc: number;
  addressesPerRegion: number;
  prefixListsPerRegion: number;
  networkAclsPerVpc: number;
  networkAclEntriesPerDirection: number;
  tagsPerResource: number;
}

export const DEFAULT_QUOTAS: Quotas = {
  rulesPerGroupPerDirection: 60,
  groupsPerInterface: 5,
  groupsPerRegion: 2500,
  vpcsPerRegion: 5,
  subnetsPerVpc: 200,
  addressesPerRegion: 5,
  prefixListsPerRegion: 100,
  networkAclsPerVpc: 200,
  networkAclEntriesPerDirection: 20,
  tagsPerResource: 50,
};

export interface ActionContext {
  /** The request's Action, e.g. `DescribeSecurityGroups`. */
  readonly action: string;
  readonly account: string;
  readonly region: string;
  readonly requestId: string;
  readonly tx: Transaction;
  readonly params: Params;
  readonly now: Date;
  readonly quotas: Quotas;
}

export type ActionOutput = Record<string, Encodable>;
export type Action = (ctx: ActionContext) => ActionOutput;

export function arn(ctx: ActionContext, type: string, id: string): string {
  return `arn:aws:ec2:${ctx.region}:${ctx.account}:${type}/${id}`;
}

export function presentTags(tags: Tags): Encodable {
  const entries = Object.entries(tags);
  return entries.length === 0 ? undefined : entries.map(([Key, Value]) => ({ Key, Value }));
}
