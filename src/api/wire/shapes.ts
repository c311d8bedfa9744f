// The EC2 model subset generated at build time (scripts/generate-ec2-model.mjs) from the model
// that the aws-sdk package ships. Shapes are either inline or a reference into `shapes`.

import { readFileSync } from "node:fs";

export interface Shape {
  type?:
    | "structure"
    | "list"
    | "string"
    | "integer"
    | "long"
    | "boolean"
    | "timestamp"
    | "blob"
    | "double"
    | "float";
  shape?: string;
  members?: Record<string, Shape>;
  member?: Shape;
  required?: string[];
  locationName?: string;
  queryName?: string;
}

interface Ec2Model {
  xmlNamespace: string;
  operations: Record<string, { input: Shape; output: Shape | null }>;
  shapes: Record<string, Shape>;
}

export const ec2Model: Ec2Model = JSON.parse(
  readFileSync(new URL("../generated/ec2-model.json", import.meta.url), "utf8"),
);

/** Follows a shape reference; the member's own traits (locationName, queryName) stay with the member. */
export function resolve(shape: Shape): Shape {
  if (!shape.shape) return shape;
  const target = ec2Model.shapes[shape.shape];
  if (!target) throw new Error(`unknown shape ${shape.shape}`);
  return target;
}

export function typeOf(shape: Shape): NonNullable<Shape["type"]> {
  return resolve(shape).type ?? "string";
}
