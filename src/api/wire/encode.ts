// XML encoding of an action's output object by walking its output shape: element names are the
// model's locationNames, lists are wrappers of <item>, absent values are omitted and empty lists
// kept (EC2 writes <ipRanges/> and SDKs turn that into []).

import { ec2Model, resolve, type Shape } from "./shapes.js";

/**
 * The already-encoded content of an element, for values that are rendered once and served often,
 * kept as UTF-8 so that a response of many of them is assembled by copying bytes: neither joined
 * into one large string nor encoded again per response.
 */
export class EncodedXml {
  constructor(readonly bytes: Buffer) {}
}

/** Encoded output: text, with the bytes of cached fragments between. */
type Pieces = (string | Buffer)[];

export type Encodable =
  | string
  | number
  | boolean
  | undefined
  | null
  | EncodedXml
  | Encodable[]
  | { [member: string]: Encodable };

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
}

function encodeValue(shape: Shape, value: Encodable, out: Pieces): void {
  if (value instanceof EncodedXml) {
    out.push(value.bytes);
    return;
  }
  const resolved = resolve(shape);
  const type = resolved.type ?? "string";
  if (type === "structure") {
    const record = value as { [member: string]: Encodable };
    const members = resolved.members ?? {};
    // A field the model does not have would be dropped silently: that is a bug, never output.
    for (const name of Object.keys(record)) {
      if (!Object.hasOwn(members, name) && record[name] !== undefined)
        throw new Error(`output member ${name} is not in the EC2 model`);
    }
    for (const [name, member] of Object.entries(resolved.members ?? {})) {
      const child = record[name];
      if (child === undefined || child === null) continue;
      const element = member.locationName ?? name;
      if (Array.isArray(child) && child.length === 0) {
        out.push(`<${element}/>`);
        continue;
      }
      out.push(`<${element}>`);
      encodeValue(member, child, out);
      out.push(`</${element}>`);
    }
    return;
  }
  if (type === "list") {
    const element = resolved.member as Shape;
    const item = element.locationName ?? "item";
    for (const entry of value as Encodable[]) {
      out.push(`<${item}>`);
      encodeValue(element, entry, out);
      out.push(`</${item}>`);
    }
    return;
  }
  out.push(escapeXml(String(value)));
}

/** The content of one element of `shape`, to be cached and passed back as an EncodedXml. */
export function encodeFragment(shape: Shape, value: Encodable): EncodedXml {
  const out: Pieces = [];
  encodeValue(shape, value, out);
  return new EncodedXml(Buffer.concat(buffersOf(out)));
}

/**
 * The pieces as UTF-8 buffers, to be written in order: each run of text encoded once, cached
 * fragments as they are, not copied.
 */
function buffersOf(pieces: Pieces): Buffer[] {
  const buffers: Buffer[] = [];
  let text: string[] = [];
  for (const piece of pieces) {
    if (typeof piece === "string") {
      text.push(piece);
      continue;
    }
    if (text.length > 0) buffers.push(Buffer.from(text.join(""), "utf8"));
    text = [];
    buffers.push(piece);
  }
  if (text.length > 0) buffers.push(Buffer.from(text.join(""), "utf8"));
  return buffers;
}

/** The body of a success response, as UTF-8 buffers. */
export function encodeResponse(
  action: string,
  requestId: string,
  output: Record<string, Encodable>,
): Buffer[] {
  const shape = ec2Model.operations[action]?.output;
  const out: Pieces = [
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${ec2Model.xmlNamespace}"><requestId>${requestId}</requestId>`,
  ];
  if (shape) encodeValue(shape, output, out);
  else if (Object.keys(output).length > 0) throw new Error(`${action} has no output in the EC2 model`);
  // Operations without a modelled output still answer `return`, as EC2 does.
  else out.push("<return>true</return>");
  out.push(`</${action}Response>`);
  return buffersOf(out);
}

export function encodeError(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}
