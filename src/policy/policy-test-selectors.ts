// Selectors in policy tests are the query selectors (selectors.ts); this turns a selection into the
// endpoints a test checks: interfaces, or an address space (`internet`, a CIDR no interface is in),
// which policy-test-flows expands into representative addresses once it knows the other end.

import { type Family, formatIp } from "../net/address.js";
import type { PolicyIndex } from "./policy-index.js";
import type { TestEndpoint } from "./policy-test-flows.js";
import { type Selection, select } from "./selectors.js";

export function selectionEndpoints(selection: Selection): TestEndpoint[] {
  if (selection.kind === "external") {
    const families: Family[] = selection.family ? [selection.family] : [4, 6];
    return families
      .filter((f) => !selection.space[f].isEmpty)
      .map((family) => ({ kind: "space", label: selection.label, family, space: selection.space[family] }));
  }
  return selection.interfaces.map((i) => {
    // an IP selector, or a CIDR of one family, pins the address the flows use
    const pinned =
      selection.family === undefined ? undefined : i.addresses.find((a) => a.family === selection.family);
    const address = selection.address ?? (pinned ? formatIp(pinned) : undefined);
    return address === undefined
      ? { kind: "interface" as const, interfaceId: i.eni.id }
      : { kind: "interface" as const, interfaceId: i.eni.id, address };
  });
}

/** Endpoints of a selector (the query syntax, see selectors.ts). Throws SelectorError when it names nothing. */
export function resolveSelector(index: PolicyIndex, selector: string): TestEndpoint[] {
  return selectionEndpoints(select(index, selector.trim()));
}
