// Managed prefix lists (spec 2.22, 3.14): customer-managed lists have one address family,
// canonical CIDRs, a version per entry change, and rules that reference them always see the latest
// entries; AWS-managed lists are listed beside them and are read-only.

import {
  AWS_OWNER,
  awsManagedPrefixList,
  awsManagedPrefixLists,
} from "../../model/aws-managed-prefix-lists.js";
import { characterCount } from "../../model/characters.js";
import { Ec2Error, invalidCombination, invalidValue, missingParameter } from "../../model/errors.js";
import { checkId, newId } from "../../model/ids.js";
import type { PrefixListEntry, PrefixListRecord } from "../../model/resources.js";
import { isAllowedText } from "../../model/security-group-rules.js";
import { formatCidr, parseCidr4, parseCidr6 } from "../../net/cidr.js";
import { clientTokenOf, madeWithToken, tokenFields } from "../client-token.js";
import { type Action, type ActionContext, arn, presentTags } from "../context.js";
import { applyFilters, byId, type FilterFields, paginate } from "../filters.js";
import type { Params } from "../params.js";
import { requestedIds } from "./lookup.js";
import { checkQuota } from "./security-groups.js";
import { tagsFromSpecifications } from "./tags.js";

const MAX_ENTRIES_LIMIT = 1000;
/** Names AWS keeps for its own lists: the model says no name may start with `com.amazonaws`. */
const RESERVED_NAME_PREFIXES = ["com.amazonaws", "com.amazon.", "com.aws."];
const ENTRIES_PER_CALL = 100;

/** The account's own list or an AWS-managed list of the region. */
export function visiblePrefixList(ctx: ActionContext, id: string): PrefixListRecord | undefined {
  const list = ctx.tx.get("prefix-list", id);
  if (list && list.account === ctx.account && list.region === ctx.region) return list;
  return awsManagedPrefixList(ctx.region, id);
}

function requirePrefixList(ctx: ActionContext, id: string, message = "ref"): PrefixListRecord {
  checkId("prefixList", id);
  const list = visiblePrefixList(ctx, id);
  if (!list) {
    throw new Ec2Error(
      "InvalidPrefixListID.NotFound",
      message === "entries"
        ? `The prefix list (${id}) does not exist.`
        : `The prefix list ID '${id}' does not exist`,
    );
  }
  return list;
}

function requireOwnPrefixList(ctx: ActionContext, id: string): PrefixListRecord {
  const list = requirePrefixList(ctx, id);
  if (list.account === AWS_OWNER) {
    throw new Ec2Error(
      "UnsupportedOperation",
      `The prefix list ${list.id} (${list.name}) is managed by AWS and cannot be modified or deleted.`,
    );
  }
  return list;
}

function readEntries(
  entries: Params[],
  family: "IPv4" | "IPv6",
  withDescription: boolean,
): PrefixListEntry[] {
  if (entries.length > ENTRIES_PER_CALL) {
    throw invalidValue(`At most ${ENTRIES_PER_CALL} entries can be changed in one request.`);
  }
  const seen = new Set<string>();
  return entries.map((entry) => {
    const text = entry.string("Cidr");
    if (!text) throw missingParameter(`${entry.path}.Cidr`);
    const parsed = family === "IPv4" ? parseCidr4(text) : parseCidr6(text);
    if (!parsed) throw invalidValue(`The CIDR '${text}' is not a valid ${family} CIDR.`);
    const cidr = formatCidr(parsed.cidr);
    if (seen.has(cidr)) throw invalidValue(`The CIDR '${cidr}' appears more than once.`);
    seen.add(cidr);
    const description = withDescription ? entry.string("Description") : undefined;
    if (description !== undefined && !isAllowedText(description)) {
      throw invalidValue(
        "Invalid prefix list entry description. Descriptions may have up to 255 characters.",
      );
    }
    return description === undefined ? { cidr } : { cidr, description };
  });
}

function checkName(name: string): string {
  if (name.length === 0 || characterCount(name) > 255)
    throw invalidValue("The prefix list name must have 1 to 255 characters.");
  if (RESERVED_NAME_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    throw invalidValue(`The prefix list name cannot begin with (${RESERVED_NAME_PREFIXES.join(", ")}).`);
  }
  return name;
}

function checkMaxEntries(value: number): number {
  if (value < 1 || value > MAX_ENTRIES_LIMIT) {
    throw invalidValue(
      `Value (${value}) for parameter maxEntries is invalid. It must be between 1 and ${MAX_ENTRIES_LIMIT}.`,
    );
  }
  return value;
}

function present(ctx: ActionContext, list: PrefixListRecord, state: string) {
  return {
    PrefixListId: list.id,
    AddressFamily: list.addressFamily,
    State: state,
    PrefixListArn:
      list.account === AWS_OWNER
        ? `arn:aws:ec2:${ctx.region}:aws:prefix-list/${list.id}`
        : arn(ctx, "prefix-list", list.id),
    PrefixListName: list.name,
    MaxEntries: list.maxEntries,
    Version: list.version,
    Tags: presentTags(list.tags),
    OwnerId: list.account,
  };
}

const createManagedPrefixList: Action = (ctx) => {
  const name = checkName(ctx.params.requiredString("PrefixListName"));
  const maxEntries = checkMaxEntries(ctx.params.requiredInt("MaxEntries"));
  const family = ctx.params.requiredString("AddressFamily");
  if (family !== "IPv4" && family !== "IPv6") {
    throw invalidValue(`Value (${family}) for parameter addressFamily is invalid. Expected IPv4 or IPv6.`);
  }
  const clientToken = clientTokenOf(ctx);
  const earlier = madeWithToken(clientToken, ctx.tx.scoped("prefix-list", ctx.account, ctx.region));
  if (earlier) return { PrefixList: present(ctx, earlier, "create-complete") };
  const entries = readEntries(ctx.params.list("Entries", "Entry"), family, true);
  if (entries.length > maxEntries) {
    throw invalidValue(
      `The prefix list has ${entries.length} entries, more than its maximum of ${maxEntries}.`,
    );
  }
  const tags = tagsFromSpecifications(ctx, "prefix-list");
  if ([...ctx.tx.scoped("prefix-list", ctx.account, ctx.region)].length >= ctx.quotas.prefixListsPerRegion) {
    throw new Ec2Error("PrefixListLimitExceeded", "The maximum number of prefix lists has been reached.");
  }
  const list = ctx.tx.put<PrefixListRecord>({
    kind: "prefix-list",
    id: newId("pl"),
    account: ctx.account,
    region: ctx.region,
    tags,
    name,
    addressFamily: family,
    maxEntries,
    version: 1,
    entries,
    history: [],
    ...tokenFields(clientToken),
  });
  return { PrefixList: present(ctx, list, "create-in-progress") };
};

const describeManagedPrefixLists: Action = (ctx) => {
  const ids = requestedIds(ctx, "PrefixListIds");
  const lists =
    ids.length > 0
      ? ids.map((id) => requirePrefixList(ctx, id))
      : [...awsManagedPrefixLists(ctx.region), ...ctx.tx.scoped("prefix-list", ctx.account, ctx.region)];
  const fields: FilterFields<PrefixListRecord> = {
    "owner-id": (l) => [l.account],
    "prefix-list-id": (l) => [l.id],
    "prefix-list-name": (l) => [l.name],
  };
  const { page, nextToken } = paginate(ctx, applyFilters(ctx, lists, fields), { min: 1, max: 100 }, byId);
  return { PrefixLists: page.map((l) => present(ctx, l, "create-complete")), NextToken: nextToken };
};

const getManagedPrefixListEntries: Action = (ctx) => {
  const list = requirePrefixList(ctx, ctx.params.requiredString("PrefixListId"), "entries");
  const target = ctx.params.int("TargetVersion");
  let entries = list.entries;
  if (target !== undefined && target !== list.version) {
    const earlier = list.history.find((h) => h.version === target);
    if (!earlier) throw invalidValue(`The prefix list ${list.id} has no version ${target}.`);
    entries = earlier.entries;
  }
  const { page, nextToken } = paginate(ctx, [...entries], { min: 1, max: 100 }, (e) => e.cidr);
  return { Entries: page.map((e) => ({ Cidr: e.cidr, Description: e.description })), NextToken: nextToken };
};

const modifyManagedPrefixList: Action = (ctx) => {
  const list = requireOwnPrefixList(ctx, ctx.params.requiredString("PrefixListId"));
  const currentVersion = ctx.params.int("CurrentVersion");
  const adds = readEntries(ctx.params.list("AddEntries", "AddEntry"), list.addressFamily, true);
  const removes = readEntries(ctx.params.list("RemoveEntries", "RemoveEntry"), list.addressFamily, false);
  const maxEntries = ctx.params.int("MaxEntries");
  const name = ctx.params.string("PrefixListName");
  if (maxEntries !== undefined && (adds.length > 0 || removes.length > 0)) {
    throw invalidCombination("MaxEntries cannot be changed together with the entries.");
  }
  if ((adds.length > 0 || removes.length > 0) && currentVersion === undefined)
    throw missingParameter("CurrentVersion");
  if (currentVersion !== undefined && currentVersion !== list.version) {
    throw new Ec2Error(
      "PrefixListVersionMismatch",
      `The prefix list ${list.id} is at version ${list.version}, not ${currentVersion}.`,
    );
  }
  let updated: PrefixListRecord = list;
  if (name !== undefined) updated = { ...updated, name: checkName(name) };
  if (maxEntries !== undefined) {
    checkMaxEntries(maxEntries);
    if (maxEntries < list.entries.length) {
      throw invalidValue(
        `The prefix list has ${list.entries.length} entries, more than the requested maximum of ${maxEntries}.`,
      );
    }
    updated = { ...updated, maxEntries };
    // A reference counts the list's MaxEntries against its group's rule quota (spec 3.9), so a
    // larger maximum must still fit every group that refers to the list; the transaction weighs
    // the list by its new maximum from here on (a refusal drops it with the rest).
    ctx.tx.put(updated);
    for (const group of ctx.tx.all("group")) {
      if (!group.rules.some((r) => r.peer.kind === "prefix-list" && r.peer.prefixListId === list.id))
        continue;
      for (const egress of [false, true]) {
        checkQuota(
          ctx,
          group.rules,
          egress,
          ` With ${maxEntries} entries, ${list.id} would take security group ${group.id} over it.`,
        );
      }
    }
  }
  if (adds.length > 0 || removes.length > 0) {
    const byCidr = new Map(list.entries.map((e) => [e.cidr, e]));
    for (const remove of removes) {
      if (!byCidr.delete(remove.cidr))
        throw invalidValue(`The CIDR ${remove.cidr} is not an entry of ${list.id}.`);
    }
    for (const add of adds) byCidr.set(add.cidr, add);
    if (byCidr.size > list.maxEntries) {
      throw new Ec2Error(
        "PrefixListMaxEntriesExceeded",
        `The prefix list ${list.id} may hold at most ${list.maxEntries} entries.`,
      );
    }
    updated = {
      ...updated,
      version: list.version + 1,
      entries: [...byCidr.values()],
      history: [...list.history, { version: list.version, entries: list.entries }].slice(-1000),
    };
  }
  ctx.tx.put(updated);
  return { PrefixList: present(ctx, updated, "modify-in-progress") };
};

const deleteManagedPrefixList: Action = (ctx) => {
  const list = requireOwnPrefixList(ctx, ctx.params.requiredString("PrefixListId"));
  for (const group of ctx.tx.all("group")) {
    if (group.rules.some((r) => r.peer.kind === "prefix-list" && r.peer.prefixListId === list.id)) {
      throw new Ec2Error(
        "DependencyViolation",
        `The prefix list ${list.id} is referenced by security group ${group.id}.`,
      );
    }
  }
  ctx.tx.delete(list);
  return { PrefixList: present(ctx, list, "delete-in-progress") };
};

export const prefixListActions: Record<string, Action> = {
  CreateManagedPrefixList: createManagedPrefixList,
  DescribeManagedPrefixLists: describeManagedPrefixLists,
  GetManagedPrefixListEntries: getManagedPrefixListEntries,
  ModifyManagedPrefixList: modifyManagedPrefixList,
  DeleteManagedPrefixList: deleteManagedPrefixList,
};
