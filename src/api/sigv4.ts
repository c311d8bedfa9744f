// AWS Signature Version 4 verification, header form and presigned query form. The server
// recomputes the signature from the secret of the access key and compares in constant time.

import { createHmac, createSecretKey, hash, type KeyObject, timingSafeEqual } from "node:crypto";
import { Ec2Error } from "../model/errors.js";

export interface SignedRequest {
  method: string;
  /** Path without the query string, as received. */
  path: string;
  /** Raw query string (without `?`). */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export interface VerifiedIdentity extends Credential {}

/** Clock skew EC2 tolerates between X-Amz-Date and its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const AUTH_HEADER =
  /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;

function uriEncode(text: string, keepSlash = false): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, keepSlash ? "/" : "%2F");
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, "%20"));
  } catch {
    throw new Ec2Error("SignatureDoesNotMatch", "The request's query string is not correctly encoded.");
  }
}

function canonicalQuery(query: string, skipSignature: boolean): string {
  if (!query) return "";
  const pairs: [string, string][] = [];
  for (const part of query.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : safeDecode(part.slice(eq + 1));
    if (skipSignature && key === "X-Amz-Signature") continue;
    pairs.push([uriEncode(key), uriEncode(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function headerValue(headers: SignedRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(",") : value;
}

// The one-shot hash: no Hash object per call, on the path of every request.
const sha256 = (data: string | Buffer) => hash("sha256", data, "hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

/**
 * Derived keys change once a day per secret and scope; deriving one costs four HMACs. Kept as key
 * objects, which an HMAC takes without copying and checking the key bytes again.
 */
const derivedKeys = new Map<string, KeyObject>();
const MAX_DERIVED_KEYS = 4096;

function signingKey(secret: string, date: string, region: string, service: string): KeyObject {
  const cacheKey = `${secret}\n${date}\n${region}\n${service}`;
  let key = derivedKeys.get(cacheKey);
  if (key === undefined) {
    key = createSecretKey(hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request"));
    if (derivedKeys.size >= MAX_DERIVED_KEYS) derivedKeys.clear();
    derivedKeys.set(cacheKey, key);
  }
  return key;
}

function parseCredential(text: string): Credential {
  const parts = text.split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request" || !/^\d{8}$/.test(parts[1] as string)) {
    throw new Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials");
  }
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return { accessKeyId, date, region, service };
}

/** The last X-Amz-Date read: most requests of a second carry the same one. */
let lastAmzDate: { text: string; ms: number } | undefined;

function parseAmzDate(text: string | undefined): number {
  if (text !== undefined && lastAmzDate?.text === text) return lastAmzDate.ms;
  const match = text?.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!match) throw new Ec2Error("AuthFailure", "The request must contain a valid X-Amz-Date.");
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const ms = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  lastAmzDate = { text: text as string, ms };
  return ms;
}

interface SignatureParts {
  credential: Credential;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  presigned: boolean;
}

function signatureParts(request: SignedRequest): SignatureParts | undefined {
  const authorization = headerValue(request.headers, "authorization");
  if (authorization) {
    const match = authorization.match(AUTH_HEADER);
    if (!match) {
      throw new Ec2Error(
        "IncompleteSignature",
        "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters (AWS4-HMAC-SHA256 only).",
      );
    }
    const amzDate = headerValue(request.headers, "x-amz-date") ?? "";
    return {
      credential: parseCredential(match[1] as string),
      signedHeaders: (match[2] as string).split(";"),
      signature: match[3] as string,
      amzDate,
      presigned: false,
    };
  }
  const params = new URLSearchParams(request.query);
  const credential = params.get("X-Amz-Credential");
  if (!credential) return undefined;
  const signature = params.get("X-Amz-Signature") ?? "";
  if (params.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256" || !/^[0-9a-f]{64}$/.test(signature)) {
    throw new Ec2Error(
      "IncompleteSignature",
      "The presigned request is missing or has a malformed signature.",
    );
  }
  return {
    credential: parseCredential(credential),
    signedHeaders: (params.get("X-Amz-SignedHeaders") ?? "host").split(";"),
    signature,
    amzDate: params.get("X-Amz-Date") ?? "",
    presigned: true,
  };
}

/** Who signed the request, without checking the signature yet (to find the secret). */
export function readCredential(request: SignedRequest): SignatureParts {
  const parts = signatureParts(request);
  if (!parts) throw new Ec2Error("MissingAuthenticationToken", "Request is missing Authentication Token");
  return parts;
}

/** Throws unless the request was signed with `secret` within the allowed clock skew. */
export function verifySignature(
  request: SignedRequest,
  parts: SignatureParts,
  secret: string,
  now = Date.now(),
): void {
  const signedAt = parseAmzDate(parts.amzDate);
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    throw new Ec2Error(
      "RequestExpired",
      `Request has expired. Timestamp date is ${parts.amzDate}, the server's clock says ${new Date(now).toISOString()}.`,
    );
  }
  if (!parts.amzDate.startsWith(parts.credential.date)) {
    throw new Ec2Error("SignatureDoesNotMatch", "The credential scope date does not match X-Amz-Date.");
  }
  const canonicalHeaders = parts.signedHeaders
    .map((name) => {
      const value = headerValue(request.headers, name);
      if (value === undefined) {
        throw new Ec2Error(
          "SignatureDoesNotMatch",
          `The signed header '${name}' is missing from the request.`,
        );
      }
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const bodyHash = sha256(request.body);
  const declaredHash = headerValue(request.headers, "x-amz-content-sha256");
  // The signature covers the declared hash, not the body: a body that differs from it is forged.
  if (declaredHash !== undefined && declaredHash !== bodyHash) {
    throw new Ec2Error(
      "SignatureDoesNotMatch",
      "The x-amz-content-sha256 header does not match the request body.",
    );
  }
  const payloadHash = parts.presigned ? "UNSIGNED-PAYLOAD" : bodyHash;
  const canonicalPath =
    request.path
      .split("/")
      .map((segment) => uriEncode(safeDecode(segment)))
      .join("/") || "/";
  const canonicalRequest = [
    request.method,
    canonicalPath,
    canonicalQuery(request.query, parts.presigned),
    canonicalHeaders,
    parts.signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
  const { date, region, service } = parts.credential;
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", parts.amzDate, scope, sha256(canonicalRequest)].join("\n");
  const expected = createHmac("sha256", signingKey(secret, date, region, service))
    .update(stringToSign)
    .digest();
  const given = Buffer.from(parts.signature, "hex");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Ec2Error(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    );
  }
}
