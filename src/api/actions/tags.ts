// Tags: at creation (TagSpecification), CreateTags / DeleteTags / DescribeTags on every taggable
// resource, security group rules included (their tags live with the rule inside its group).

import { compareText } from "../../compile/text-order.js";
import { characterCount } from "../../model/characters.js";
import { Ec2Error, invalidValue, missingParameter } from "../../model/errors.js";
import { checkId, ID_KINDS, type IdKindName, notFound } from "../../model/ids.js";
import type { GroupRecord, ResourceKind, ResourceRecord, Tags } from "../../model/resources.js";
import type { Action, ActionContext } from "../context.js";
import { applyFilters, type FilterFields, paginate } from "../filters.js";
import type { Params } from "../params.js";

const RESOURCE_TYPES: { idKind: IdKindName; kind: ResourceKind | "rule"; type: string }[] = [
  { idKind: "rule", kind: "rule", type: "security-group-rule" },
  { idKind: "group", kind: "group", type: "security-group" },
  { idKind: "vpc", kind: "vpc", type: "vpc" },
  { idKind: "subnet", kind: "subnet", type: "subnet" },
  { idKind: "instance", kind: "instance", type: "instance" },
  { idKind: "networkInterface", kind: "eni", type: "network-interface" },
  { idKind: "allocation", kind: "address", type: "elastic-ip" },
  { idKind: "prefixList", kind: "prefix-list", type: "prefix-list" },
  { idKind: "networkAcl", kind: "network-acl", type: "network-acl" },
];

function checkTag(key: string, value: string, inSpecification: boolean): void {
  if (key.length === 0 || characterCount(key) > 127) {
    throw invalidValue(
      `Value ( ${key} ) for parameter key is invalid. Tag keys must be between 1 and 127 characters.`,
    );
  }
  if (key.toLowerCase().startsWith("aws:")) {
    if (inSpecification) {
      throw new Ec2Error(
        "InvalidTagKey.Malformed",
        `The tag key '${key}' is not valid. Tag keys starting with 'aws:' are reserved for internal use.`,
      );
    }
    throw invalidValue(
      `Value ( ${key} ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`,
    );
  }
  if (characterCount(value) > 256)
    throw invalidValue(
      `Value ( ${value} ) for parameter value is invalid. Tag values may have at most 256 characters.`,
    );
}

function readTags(list: Params[], inSpecification: boolean): Record<string, string> {
  const tags = new Map<string, string>();
  for (const tag of list) {
    const key = tag.string("Key");
    if (key === undefined) throw missingParameter(`${tag.path}.Key`);
    const value = tag.string("Value") ?? "";
    checkTag(key, value, inSpecification);
    tags.set(key, value);
  }
  // own properties for every key, `__proto__` too, which an assignment would take for the prototype
  return Object.fromEntries(tags);
}

function withinLimit(ctx: ActionContext, tags: Tags): Tags {
  if (Object.keys(tags).length > ctx.quotas.tagsPerResource) {
    throw new Ec2Error(
      "TagLimitExceeded",
      `The maximum number of tags per resource (${ctx.quotas.tagsPerResource}) has been exceeded.`,
    );
  }
  return tags;
}

/** Tags of the TagSpecification entries for `resourceType`; other resource types are rejected. */
export function tagsFromSpecifications(
  ctx: ActionContext,
  resourceType: string,
  alsoAllowed: string[] = [],
): Record<string, string> {
  let tags: Record<string, string> = {};
  for (const spec of ctx.params.list("TagSpecifications", "TagSpecification")) {
    const type = spec.string("ResourceType");
    if (type === undefined) throw missingParameter(`${spec.path}.ResourceType`);
    const list = spec.list("Tags", "Tag");
    if (list.length === 0) throw invalidValue("Tag specification must have at least one tag");
    if (type !== resourceType) {
      if (alsoAllowed.includes(type)) continue;
      throw invalidValue(`'${type}' is not a valid taggable resource type for this operation.`);
    }
    // spread, not Object.assign: a `__proto__` key stays a tag
    tags = { ...tags, ...readTags(list, true) };
  }
  return withinLimit(ctx, tags) as Record<string, string>;
}

/** Tags from TagSpecification entries of another type allowed by the same action (e.g. instance + network-interface). */
export function tagsForType(ctx: ActionContext, resourceType: string): Record<string, string> {
  let tags: Record<string, string> = {};
  for (const spec of ctx.params.list("TagSpecifications", "TagSpecification")) {
    if (spec.string("ResourceType") === resourceType)
      tags = { ...tags, ...readTags(spec.list("Tags", "Tag"), true) };
  }
  return tags;
}

interface Taggable {
  id: string;
  type: string;
  tags: Tags;
  /** Writes the resource back with new tags. */
  retag(tags: Tags): void;
}

function findTaggable(ctx: ActionContext, id: string): Taggable {
  // "sgr-" is listed before "sg-", so the first prefix that matches is the right kind.
  const entry = RESOURCE_TYPES.find((t) => id.startsWith(`${ID_KINDS[t.idKind].prefix}-`));
  if (!entry) throw new Ec2Error("InvalidID", `The ID '${id}' is not valid`);
  checkId(entry.idKind, id);
  if (entry.kind === "rule") {
    for (const group of ctx.tx.scoped("group", ctx.account, ctx.region)) {
      const rule = group.rules.find((r) => r.id === id);
      if (rule) {
        return {
          id,
          type: entry.type,
          tags: rule.tags,
          retag: (tags) => {
            const current = ctx.tx.get("group", group.id) as GroupRecord;
            ctx.tx.put({ ...current, rules: current.rules.map((r) => (r.id === id ? { ...r, tags } : r)) });
          },
        };
      }
    }
    throw notFound("rule", id);
  }
  const record = ctx.tx.get(entry.kind, id);
  if (!record || record.account !== ctx.account || record.region !== ctx.region)
    throw notFound(entry.idKind, id);
  return {
    id,
    type: entry.type,
    tags: record.tags,
    retag: (tags) => {
      ctx.tx.put({ ...(ctx.tx.get(entry.kind as ResourceKind, id) as ResourceRecord), tags });
    },
  };
}

function resourceIds(ctx: ActionContext): string[] {
  const ids = ctx.params.strings("Resources");
  if (ids.length === 0) throw missingParameter("ResourceId");
  return ids;
}

const createTags: Action = (ctx) => {
  const resources = resourceIds(ctx).map((id) => findTaggable(ctx, id));
  const list = ctx.params.list("Tags", "Tag");
  if (list.length === 0) throw missingParameter("Tag");
  const tags = readTags(list, false);
  for (const resource of resources) {
    const current = findTaggable(ctx, resource.id);
    current.retag(withinLimit(ctx, { ...current.tags, ...tags }));
  }
  return {};
};

const deleteTags: Action = (ctx) => {
  const resources = resourceIds(ctx).map((id) => findTaggable(ctx, id));
  const list = ctx.params.list("Tags", "Tag");
  for (const resource of resources) {
    const current = findTaggable(ctx, resource.id);
    const remaining: Record<string, string> = { ...current.tags };
    if (list.length === 0) {
      for (const key of Object.keys(remaining)) if (!key.startsWith("aws:")) delete remaining[key];
    }
    for (const tag of list) {
      const key = tag.string("Key");
      if (key === undefined) throw missingParameter(`${tag.path}.Key`);
      if (key.startsWith("aws:") || !Object.hasOwn(remaining, key)) continue;
      const value = tag.string("Value");
      // No value deletes whatever the value; a value (even "") deletes only on a match.
      if (value === undefined || remaining[key] === value) delete remaining[key];
    }
    current.retag(remaining);
  }
  return {};
};

interface TagRow {
  ResourceId: string;
  ResourceType: string;
  Key: string;
  Value: string;
  tags: Tags;
}

/**
 * A resource's tags by key: an order that a tag removed and added again does not change, so that
 * a page marker (the last row's resource and key) always finds its place.
 */
function byKey(tags: Tags): [string, string][] {
  return Object.entries(tags).sort(([a], [b]) => compareText(a, b));
}

function* allTagRows(ctx: ActionContext): Iterable<TagRow> {
  for (const entry of RESOURCE_TYPES) {
    if (entry.kind === "rule") continue;
    for (const record of ctx.tx.scoped(entry.kind, ctx.account, ctx.region)) {
      for (const [Key, Value] of byKey(record.tags)) {
        yield { ResourceId: record.id, ResourceType: entry.type, Key, Value, tags: record.tags };
      }
      if (record.kind === "group") {
        for (const rule of record.rules) {
          for (const [Key, Value] of byKey(rule.tags)) {
            yield { ResourceId: rule.id, ResourceType: "security-group-rule", Key, Value, tags: rule.tags };
          }
        }
      }
    }
  }
}

const TAG_FILTERS: FilterFields<TagRow> = {
  key: (r) => [r.Key],
  value: (r) => [r.Value],
  "resource-id": (r) => [r.ResourceId],
  "resource-type": (r) => [r.ResourceType],
};

const describeTags: Action = (ctx) => {
  const rows = applyFilters(ctx, allTagRows(ctx), TAG_FILTERS);
  const { page, nextToken } = paginate(ctx, rows, { min: 5, max: 1000 }, (r) => `${r.ResourceId}/${r.Key}`);
  return {
    Tags: page.map(({ ResourceId, ResourceType, Key, Value }) => ({ ResourceId, ResourceType, Key, Value })),
    NextToken: nextToken,
  };
};

export const tagActions: Record<string, Action> = {
  CreateTags: createTags,
  DeleteTags: deleteTags,
  DescribeTags: describeTags,
};
