import { randomBytes, randomUUID } from "node:crypto";
import { Ec2Error } from "./errors.js";

// Ids draw from a pool of random bytes refilled in large blocks: one call into the CSPRNG per
// 455 ids instead of one per id.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const hex = pool.toString("hex", poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/** `prefix-` + 17 lower-case hex characters, as current EC2 ids are. */
export function newId(prefix: string): string {
  return `${prefix}-${randomHex(9).slice(0, 17)}`;
}

export const newRequestId = (): string => randomUUID();

interface IdKind {
  prefix: string;
  /** The resource word in `The <word> ID '...' is malformed`. */
  noun: string;
  malformed: string;
  notFound: string;
}

export const ID_KINDS = {
  group: {
    prefix: "sg",
    noun: "security-group",
    malformed: "InvalidGroupId.Malformed",
    notFound: "InvalidGroup.NotFound",
  },
  rule: {
    prefix: "sgr",
    noun: "security-group-rule",
    malformed: "InvalidSecurityGroupRuleId.Malformed",
    notFound: "InvalidSecurityGroupRuleId.NotFound",
  },
  vpc: { prefix: "vpc", noun: "vpc", malformed: "InvalidVpcID.Malformed", notFound: "InvalidVpcID.NotFound" },
  subnet: {
    prefix: "subnet",
    noun: "subnet",
    malformed: "InvalidSubnetID.Malformed",
    notFound: "InvalidSubnetID.NotFound",
  },
  instance: {
    prefix: "i",
    noun: "instance",
    malformed: "InvalidInstanceID.Malformed",
    notFound: "InvalidInstanceID.NotFound",
  },
  networkInterface: {
    prefix: "eni",
    noun: "networkInterface",
    malformed: "InvalidNetworkInterfaceId.Malformed",
    notFound: "InvalidNetworkInterfaceID.NotFound",
  },
  attachment: {
    prefix: "eni-attach",
    noun: "attachment",
    malformed: "InvalidAttachmentID.Malformed",
    notFound: "InvalidAttachmentID.NotFound",
  },
  allocation: {
    prefix: "eipalloc",
    noun: "allocation",
    malformed: "InvalidAllocationID.Malformed",
    notFound: "InvalidAllocationID.NotFound",
  },
  association: {
    prefix: "eipassoc",
    noun: "association",
    malformed: "InvalidAssociationID.Malformed",
    notFound: "InvalidAssociationID.NotFound",
  },
  prefixList: {
    prefix: "pl",
    noun: "prefix list",
    malformed: "InvalidPrefixListId.Malformed",
    notFound: "InvalidPrefixListID.NotFound",
  },
  networkAcl: {
    prefix: "acl",
    noun: "networkAcl",
    malformed: "InvalidNetworkAclId.Malformed",
    notFound: "InvalidNetworkAclID.NotFound",
  },
  networkAclAssociation: {
    prefix: "aclassoc",
    noun: "association",
    malformed: "InvalidAssociationID.Malformed",
    notFound: "InvalidAssociationID.NotFound",
  },
} as const satisfies Record<string, IdKind>;

export type IdKindName = keyof typeof ID_KINDS;

const HEX_ID = /^[0-9a-f]{8}(?:[0-9a-f]{9})?$/;

export function isIdOf(kind: IdKindName, value: string): boolean {
  const { prefix } = ID_KINDS[kind];
  return value.startsWith(`${prefix}-`) && HEX_ID.test(value.slice(prefix.length + 1));
}

/** Throws the kind's `.Malformed` error unless `value` looks like one of its ids. */
export function checkId(kind: IdKindName, value: string): string {
  if (!isIdOf(kind, value)) {
    const { malformed, prefix } = ID_KINDS[kind];
    throw new Ec2Error(malformed, `Invalid id: "${value}" (expecting "${prefix}-...")`);
  }
  return value;
}

export function notFound(kind: IdKindName, id: string): Ec2Error {
  const { noun, notFound } = ID_KINDS[kind];
  if (kind === "group") return new Ec2Error(notFound, `The security group '${id}' does not exist`);
  if (kind === "rule") return new Ec2Error(notFound, `The security group rule ID '${id}' does not exist`);
  if (kind === "allocation") return new Ec2Error(notFound, `The allocation ID '${id}' does not exist`);
  return new Ec2Error(notFound, `The ${noun} ID '${id}' does not exist`);
}
