// A request's view of the state: reads see the committed records plus the request's own writes;
// writes stay in the transaction until the store commits them all at once, or drops them.

import type { RecordOf, ResourceKind, ResourceRecord } from "../model/resources.js";

export type RecordMaps = { [K in ResourceKind]: Map<string, RecordOf<K>> };

export function emptyRecordMaps(): RecordMaps {
  return {
    vpc: new Map(),
    subnet: new Map(),
    group: new Map(),
    instance: new Map(),
    eni: new Map(),
    address: new Map(),
    "prefix-list": new Map(),
    "network-acl": new Map(),
  };
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export interface Write {
  readonly kind: ResourceKind;
  /** null for a deletion. */
  readonly record: ResourceRecord | null;
}

export class Transaction {
  readonly writes = new Map<string, Write>();
  /** Account/region pairs this transaction sets up (default VPC and the rest). */
  readonly regionsSetUp: { account: string; region: string }[] = [];

  constructor(private readonly committed: RecordMaps) {}

  get<K extends ResourceKind>(kind: K, id: string): RecordOf<K> | undefined {
    const written = this.writes.get(id);
    if (written !== undefined)
      return written.kind === kind ? ((written.record as RecordOf<K> | null) ?? undefined) : undefined;
    return this.committed[kind].get(id) as RecordOf<K> | undefined;
  }

  /** Every record of a kind, in creation order, this transaction's writes included. */
  *all<K extends ResourceKind>(kind: K): Iterable<RecordOf<K>> {
    for (const [id, record] of this.committed[kind]) {
      const written = this.writes.get(id);
      if (written === undefined) yield record as RecordOf<K>;
      else if (written.record !== null) yield written.record as RecordOf<K>;
    }
    for (const [id, written] of this.writes) {
      if (written.kind === kind && written.record !== null && !this.committed[kind].has(id)) {
        yield written.record as RecordOf<K>;
      }
    }
  }

  /** Records of a kind owned by one account in one region. */
  *scoped<K extends ResourceKind>(kind: K, account: string, region: string): Iterable<RecordOf<K>> {
    for (const record of this.all(kind)) {
      if (record.account === account && record.region === region) yield record;
    }
  }

  put<R extends ResourceRecord>(record: R): R {
    this.writes.set(record.id, { kind: record.kind, record: deepFreeze(record) });
    return record;
  }

  delete(record: ResourceRecord): void {
    if (this.committed[record.kind].has(record.id))
      this.writes.set(record.id, { kind: record.kind, record: null });
    else this.writes.delete(record.id);
  }

  get hasWrites(): boolean {
    return this.writes.size > 0 || this.regionsSetUp.length > 0;
  }
}
