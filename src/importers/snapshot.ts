// A snapshot is a directory of describe-* JSON files, possibly with one subdirectory per region or
// account, possibly in the recorded-response wrapper {"status_code": 200, "data": {...}} that
// cloud-custodian's placebo writes. File names do not matter: the top-level key tells the kind.
// Missing kinds are simply empty. Everything found is merged into one Estate.
//
//   const estate = await readSnapshot("snapshots/2024-05-01");   // throws ImportError on bad input

import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Estate, NetworkInterface, SecurityGroup } from "../model/estate.js";
import { type EstateParts, emptyParts, ImportError, RESPONSE_KEYS, readResponse } from "./describe-json.js";

export { ImportError } from "./describe-json.js";

/**
 * The JSON files under a directory, in name order. Symbolic links are followed (a snapshot may be a
 * directory of links to dumps kept elsewhere); one that leads nowhere is an error rather than a
 * file quietly left out, and a directory reached twice (a link loop) is read once.
 */
async function jsonFiles(dir: string, seen = new Set<string>()): Promise<string[]> {
  const real = await realpath(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    let kind: { isDirectory(): boolean; isFile(): boolean } = e;
    if (e.isSymbolicLink()) {
      try {
        kind = await stat(path);
      } catch {
        throw new ImportError(`${path}: a symbolic link to nothing`);
      }
    }
    if (kind.isDirectory()) out.push(...(await jsonFiles(path, seen)));
    else if (kind.isFile() && e.name.endsWith(".json")) out.push(path);
  }
  return out;
}

/** Unwrap a recorded response; undefined for a recorded error (nothing to import). */
export function unwrapRecorded(body: unknown): unknown {
  if (
    typeof body === "object" &&
    body !== null &&
    !Array.isArray(body) &&
    "status_code" in body &&
    "data" in body
  ) {
    const status = (body as { status_code: unknown }).status_code;
    if (typeof status === "number" && (status < 200 || status > 299)) return undefined;
    return (body as { data: unknown }).data;
  }
  return body;
}

/** Read a snapshot directory (or one JSON file) into an Estate. */
export async function readSnapshot(path: string): Promise<Estate> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new ImportError(`${path}: no such snapshot directory or file`);
  }
  const files = info.isDirectory() ? await jsonFiles(path) : [path];
  // an empty snapshot would answer every question with "nothing": a wrong path passes a check
  if (files.length === 0) throw new ImportError(`${path}: no .json files in this directory`);
  const parts = emptyParts();
  let known = false;
  for (const file of files) {
    const name = info.isDirectory() ? relative(path, file) : file;
    const text = decodeText(await readFile(file));
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new ImportError(
        `${name}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    const data = unwrapRecorded(body);
    // a recorded error (403, 5xx) answered nothing: only a describe output says what there is
    if (data !== undefined && readResponse(name, data, parts)) known = true;
  }
  if (!known) {
    throw new ImportError(
      `${path}: no describe-* output here (no file has any of ${RESPONSE_KEYS.join(", ")})`,
    );
  }
  return mergeParts(parts);
}

/**
 * A file's text: UTF-8, or UTF-16 where a byte order mark says so (PowerShell writes both with
 * one); the mark itself is not part of the JSON.
 */
function decodeText(bytes: Buffer): string {
  const encoding =
    bytes[0] === 0xff && bytes[1] === 0xfe
      ? "utf-16le"
      : bytes[0] === 0xfe && bytes[1] === 0xff
        ? "utf-16be"
        : "utf-8";
  return new TextDecoder(encoding).decode(bytes);
}

/** Read in-memory bodies (file name -> parsed JSON), e.g. straight from the SDK. */
export function estateFromResponses(responses: Iterable<[string, unknown]>): Estate {
  const parts = emptyParts();
  for (const [name, body] of responses) {
    const data = unwrapRecorded(body);
    if (data !== undefined) readResponse(name, data, parts);
  }
  return mergeParts(parts);
}

function firstById<T extends { id: string }>(items: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(item.id)) seen.set(item.id, item);
  return [...seen.values()];
}

/** Merge parts read from many files (regions, accounts, pages): the first copy of an id wins. */
export function mergeParts(parts: EstateParts): Estate {
  const groups = firstById(parts.securityGroups);
  const byName = new Map<string, SecurityGroup>();
  for (const g of groups) if (!byName.has(g.name)) byName.set(g.name, g);
  const resolved = groups.map((g) => {
    if (!g.rules.some((r) => r.peer.kind === "group" && r.peer.groupId.startsWith("name:"))) return g;
    return {
      ...g,
      rules: g.rules.map((r) => {
        if (r.peer.kind !== "group" || !r.peer.groupId.startsWith("name:")) return r;
        const target = byName.get(r.peer.groupId.slice(5));
        return target ? { ...r, peer: { ...r.peer, groupId: target.id } } : r;
      }),
    };
  });

  const interfaces: NetworkInterface[] = [];
  const byId = new Map<string, NetworkInterface>();
  const renamed = new Map<string, string>();
  for (const n of [...parts.networkInterfaces, ...parts.instanceInterfaces]) {
    const prior = byId.get(n.id);
    if (!prior) {
      byId.set(n.id, n);
      interfaces.push(n);
    } else if (
      prior.instanceId !== undefined &&
      n.instanceId !== undefined &&
      prior.instanceId !== n.instanceId
    ) {
      // Anonymised dumps reuse one interface id for several instances: keep them apart.
      const id = `${n.id}@${n.instanceId}`;
      renamed.set(`${n.instanceId}|${n.id}`, id);
      if (!byId.has(id)) {
        const copy = { ...n, id };
        byId.set(id, copy);
        interfaces.push(copy);
      }
    }
  }
  const instances = firstById(parts.instances).map((i) => {
    const listed = i.interfaceIds.map((x) => renamed.get(`${i.id}|${x}`) ?? x);
    const attached = interfaces.filter((n) => n.instanceId === i.id).map((n) => n.id);
    return { ...i, interfaceIds: [...new Set([...listed, ...attached])] };
  });
  const prefixLists = firstById(parts.prefixLists).map((p) => {
    const extra = parts.prefixListEntries.get(p.id);
    return extra && p.entries.length === 0 ? { ...p, entries: extra } : p;
  });
  const seenAddresses = new Set<string>();
  const addresses = parts.addresses.filter((a) => {
    const key = a.allocationId ?? a.publicIp;
    if (seenAddresses.has(key)) return false;
    seenAddresses.add(key);
    return true;
  });
  return {
    vpcs: firstById(parts.vpcs),
    subnets: firstById(parts.subnets),
    securityGroups: resolved,
    networkInterfaces: interfaces,
    instances,
    networkAcls: firstById(parts.networkAcls),
    prefixLists,
    addresses,
  };
}
