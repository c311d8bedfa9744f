// Typed access to a decoded request: member names in, EC2 errors out.

import { Ec2Error, invalidValue, missingParameter } from "../model/errors.js";
import type { Decoded } from "./wire/decode.js";

type DecodedRecord = { [member: string]: Decoded };

export class Params {
  constructor(
    private readonly values: DecodedRecord,
    /** Wire path of this structure, for messages (e.g. `IpPermissions.1`). */
    readonly path = "",
  ) {}

  private at(member: string): Decoded | undefined {
    return this.values[member];
  }

  private label(member: string, wire?: string): string {
    const name = wire ?? member;
    return this.path ? `${this.path}.${name}` : name;
  }

  has(member: string): boolean {
    return this.values[member] !== undefined;
  }

  /**
   * Refuses the members ringfence does not keep (`UnsupportedOperation`): accepting one and
   * dropping it would tell the caller it happened. `kept` says what is kept instead.
   */
  refuseUnkept(members: readonly string[], kept: string): void {
    const given = members.filter((member) => this.has(member)).map((member) => this.label(member));
    if (given.length > 0) {
      throw new Ec2Error("UnsupportedOperation", `ringfence does not implement ${given.join(", ")}: ${kept}`);
    }
  }

  /** A string member that must be one of the model's values; `parameter` as EC2 names it in messages. */
  oneOf<T extends string>(member: string, values: readonly T[], parameter: string): T | undefined {
    const value = this.string(member);
    if (value === undefined || (values as readonly string[]).includes(value)) return value as T | undefined;
    throw invalidValue(
      `Value (${value}) for parameter ${parameter} is invalid. Valid values are: ${values.join(", ")}.`,
    );
  }

  string(member: string): string | undefined {
    const value = this.at(member);
    return typeof value === "string" ? value : undefined;
  }

  requiredString(member: string, wire?: string): string {
    const value = this.string(member);
    if (value === undefined || value === "") throw missingParameter(wire ?? member);
    return value;
  }

  int(member: string): number | undefined {
    const value = this.at(member);
    return typeof value === "number" ? value : undefined;
  }

  requiredInt(member: string, wire?: string): number {
    const value = this.int(member);
    if (value === undefined) throw missingParameter(wire ?? member);
    return value;
  }

  bool(member: string): boolean | undefined {
    const value = this.at(member);
    return typeof value === "boolean" ? value : undefined;
  }

  strings(member: string): string[] {
    const value = this.at(member);
    return Array.isArray(value) ? value.map(String) : [];
  }

  /** A nested structure (absent → undefined). */
  struct(member: string, wire?: string): Params | undefined {
    const value = this.at(member);
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value))
      throw invalidValue(`Invalid value for ${this.label(member, wire)}`);
    return new Params(value, this.label(member, wire));
  }

  /** A list of structures. */
  list(member: string, wire?: string): Params[] {
    const value = this.at(member);
    if (!Array.isArray(value)) return [];
    return value.map((item, i) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw invalidValue(`Invalid value for ${this.label(member, wire)}.${i + 1}`);
      }
      return new Params(item, `${this.label(member, wire)}.${i + 1}`);
    });
  }

  /** The parameters but the named ones as text with sorted member names, to compare two requests. */
  canonical(except: string[]): string {
    const sorted = (value: Decoded): Decoded => {
      if (Array.isArray(value)) return value.map(sorted);
      if (typeof value !== "object") return value;
      const out: DecodedRecord = {};
      for (const key of Object.keys(value).sort()) out[key] = sorted(value[key] as Decoded);
      return out;
    };
    const kept: DecodedRecord = {};
    for (const key of Object.keys(this.values)) {
      if (!except.includes(key)) kept[key] = this.values[key] as Decoded;
    }
    return JSON.stringify(sorted(kept));
  }

  /** `Xyz.Value` wrappers of ModifyInstanceAttribute and friends. */
  attributeValue(member: string): Decoded | undefined {
    const value = this.at(member);
    if (value && typeof value === "object" && !Array.isArray(value)) return (value as DecodedRecord).Value;
    return undefined;
  }
}

export function exactlyOne(message: string, ...present: boolean[]): void {
  if (present.filter(Boolean).length !== 1) throw new Ec2Error("InvalidParameterCombination", message);
}
