// ClientToken (spec 1.11): a create with a token is done once; the same token again answers with
// what the first request made, and only if it is the same request.

import { createHash } from "node:crypto";
import { Ec2Error, invalidValue } from "../model/errors.js";
import type { ActionContext } from "./context.js";

export interface ClientTokenUse {
  token: string;
  /** Digest of every parameter but the token and DryRun, kept with what the request made. */
  digest: string;
}

export function clientTokenOf(ctx: ActionContext): ClientTokenUse | undefined {
  const token = ctx.params.string("ClientToken");
  if (!token) return undefined;
  // the model: "Constraints: Maximum 64 ASCII characters"
  if (token.length > 64 || !/^[\x20-\x7e]*$/.test(token)) {
    throw invalidValue(
      `Value (${token.slice(0, 80)}) for parameter clientToken is invalid. It is at most 64 ASCII characters.`,
    );
  }
  const digest = createHash("sha256")
    .update(ctx.params.canonical(["ClientToken", "DryRun"]))
    .digest("hex");
  return { token, digest };
}

/** The record the token first made, if any; a token used before with other parameters is refused. */
export function madeWithToken<R extends { clientToken?: string; requestDigest?: string }>(
  use: ClientTokenUse | undefined,
  records: Iterable<R>,
): R | undefined {
  if (!use) return undefined;
  for (const record of records) {
    if (record.clientToken !== use.token) continue;
    // a record made before digests were kept answers its token as it did then
    if (record.requestDigest !== undefined && record.requestDigest !== use.digest) {
      throw new Ec2Error(
        "IdempotentParameterMismatch",
        "The request uses the same client token as a previous, but non-identical request.",
      );
    }
    return record;
  }
  return undefined;
}

/** The fields a record made with a token keeps. */
export function tokenFields(use: ClientTokenUse | undefined): {
  clientToken?: string;
  requestDigest?: string;
} {
  return use ? { clientToken: use.token, requestDigest: use.digest } : {};
}
