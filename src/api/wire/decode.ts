// Decoding of EC2 Query parameters (`IpPermissions.1.IpRanges.2.CidrIp=...`) into an object keyed by
// the model's member names, walking the operation's input shape. Names the model does not know are
// rejected, as EC2 does, rather than silently ignored.

import { Ec2Error, invalidValue } from "../../model/errors.js";
import { resolve, type Shape, typeOf } from "./shapes.js";

export type Decoded = string | number | boolean | Decoded[] | { [member: string]: Decoded };

/** Parameters that belong to the protocol or to authentication, not to the action. */
const ENVELOPE = new Set([
  "Action",
  "Version",
  "AWSAccessKeyId",
  "Signature",
  "SignatureMethod",
  "SignatureVersion",
  "Timestamp",
  "Expires",
  "SecurityToken",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
  "X-Amz-Expires",
]);

/** Largest list index accepted: EC2's own bound for id lists and filters. */
export const MAX_LIST_ELEMENTS = 1000;

function wireName(memberName: string, member: Shape): string {
  if (member.queryName) return member.queryName;
  if (member.locationName) return member.locationName.charAt(0).toUpperCase() + member.locationName.slice(1);
  return memberName;
}

interface WireIndex {
  members: Map<string, [string, Shape]>;
}
const indexCache = new WeakMap<Shape, WireIndex>();

function wireIndex(structure: Shape): WireIndex {
  let index = indexCache.get(structure);
  if (!index) {
    index = { members: new Map() };
    for (const [name, member] of Object.entries(structure.members ?? {})) {
      index.members.set(wireName(name, member), [name, member]);
    }
    indexCache.set(structure, index);
  }
  return index;
}

function scalar(shape: Shape, value: string, key: string): Decoded {
  switch (typeOf(shape)) {
    case "integer":
    case "long": {
      if (!/^-?\d{1,15}$/.test(value.trim())) {
        throw invalidValue(`Invalid value '${value}' for ${key}. It must be an integer.`);
      }
      return Number(value.trim());
    }
    case "double":
    case "float": {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n)) {
        throw invalidValue(`Invalid value '${value}' for ${key}. It must be a number.`);
      }
      return n;
    }
    case "boolean": {
      const lower = value.trim().toLowerCase();
      if (lower !== "true" && lower !== "false") {
        throw invalidValue(`Invalid value '${value}' for ${key}. It must be true or false.`);
      }
      return lower === "true";
    }
    default:
      return value;
  }
}

type Tree = Map<string, Tree | string>;

function insert(tree: Tree, segments: string[], value: string, key: string): void {
  let node = tree;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    let child = node.get(segment);
    if (typeof child === "string") throw unknownParameter(key);
    if (!child) {
      child = new Map();
      node.set(segment, child);
    }
    node = child;
  }
  const last = segments[segments.length - 1] as string;
  if (node.has(last)) throw unknownParameter(key);
  node.set(last, value);
}

const unknownParameter = (key: string) =>
  new Ec2Error("UnknownParameter", `The parameter ${key} is not recognized`);

function decodeNode(shape: Shape, node: Tree | string, path: string): Decoded {
  const resolved = resolve(shape);
  const type = resolved.type ?? "string";
  if (type === "structure") {
    if (typeof node === "string") throw unknownParameter(path);
    const out: { [member: string]: Decoded } = {};
    const index = wireIndex(resolved);
    for (const [segment, child] of node) {
      const found = index.members.get(segment);
      const childPath = path ? `${path}.${segment}` : segment;
      if (!found) throw unknownParameter(childPath);
      out[found[0]] = decodeNode(found[1], child, childPath);
    }
    return out;
  }
  if (type === "list") {
    if (typeof node === "string") throw unknownParameter(path);
    const element = resolved.member as Shape;
    const entries: [number, Decoded][] = [];
    for (const [segment, child] of node) {
      // `01` and `1` would be two elements at one position: only the plain number is a position
      if (!/^\d{1,6}$/.test(segment) || (segment.length > 1 && segment.startsWith("0")))
        throw unknownParameter(`${path}.${segment}`);
      const position = Number(segment);
      if (position < 1 || position > MAX_LIST_ELEMENTS) {
        throw invalidValue(
          `The list ${path} may have at most ${MAX_LIST_ELEMENTS} elements, numbered from 1 (got ${segment})`,
        );
      }
      entries.push([position, decodeNode(element, child, `${path}.${segment}`)]);
    }
    // Clients number from 1 without gaps, but EC2 only relies on the order, not on contiguity.
    return entries.sort((a, b) => a[0] - b[0]).map(([, value]) => value);
  }
  if (typeof node !== "string") throw unknownParameter(path);
  return scalar(resolved, node, path);
}

/** Turns the request's flat parameters into the action's input object (member names). */
export function decodeInput(input: Shape, params: Iterable<[string, string]>): Record<string, Decoded> {
  const tree: Tree = new Map();
  for (const [key, value] of params) {
    if (ENVELOPE.has(key)) continue;
    if (key === "" || key.length > 512) throw unknownParameter(key.slice(0, 64));
    insert(tree, key.split("."), value, key);
  }
  return decodeNode(input, tree, "") as Record<string, Decoded>;
}
