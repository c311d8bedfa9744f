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
  // a parser reads a raw CR (and CR LF) as LF: only a reference brings it back
  "\r": "&#13;",
};

/**
 * Characters that XML 1.0 cannot carry, not even as a character reference. Requests may not
 * contain them (form.ts): a tag value holding one would make every later response that shows it
 * unreadable to the SDKs and the CLI.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
export const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the same characters, and the escaped ones
const TO_ESCAPE = /[&<>"'\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Text as XML character data; a character XML cannot carry, should one get here, as U+FFFD. */
export function escapeXml(text: string): string {
  return text.replace(TO_ESCAPE, (c) => XML_ESCAPES[c] ?? "\uFFFD");
}

/** How to write a value of a shape, worked out once per shape: member order, element tags. */
type Plan =
  | {
      readonly type: "structure";
      readonly members: readonly {
        readonly name: string;
        readonly shape: Shape;
        readonly open: string;
        readonly close: string;
        readonly empty: string;
      }[];
      readonly names: ReadonlySet<string>;
    }
  | { readonly type: "list"; readonly element: Shape; readonly open: string; readonly close: string }
  | { readonly type: "scalar" };

const plans = new Map<Shape, Plan>();

function planOf(shape: Shape): Plan {
  let plan = plans.get(shape);
  if (plan) return plan;
  const resolved = resolve(shape);
  const type = resolved.type ?? "string";
  if (type === "structure") {
    const members = Object.entries(resolved.members ?? {}).map(([name, member]) => {
      const element = member.locationName ?? name;
      return { name, shape: member, open: `<${element}>`, close: `</${element}>`, empty: `<${element}/>` };
    });
    plan = { type, members, names: new Set(members.map((m) => m.name)) };
  } else if (type === "list") {
    const element = resolved.member as Shape;
    const item = element.locationName ?? "item";
    plan = { type, element, open: `<${item}>`, close: `</${item}>` };
  } else {
    plan = { type: "scalar" };
  }
  plans.set(shape, plan);
  return plan;
}

function encodeValue(shape: Shape, value: Encodable, out: Pieces): void {
  if (value instanceof EncodedXml) {
    out.push(value.bytes);
    return;
  }
  const plan = planOf(shape);
  if (plan.type === "structure") {
    const record = value as { [member: string]: Encodable };
    // A field the model does not have would be dropped silently: that is a bug, never output.
    for (const name in record) {
      if (Object.hasOwn(record, name) && !plan.names.has(name) && record[name] !== undefined)
        throw new Error(`output member ${name} is not in the EC2 model`);
    }
    for (const member of plan.members) {
      const child = record[member.name];
      if (child === undefined || child === null) continue;
      if (Array.isArray(child) && child.length === 0) {
        out.push(member.empty);
        continue;
      }
      out.push(member.open);
      encodeValue(member.shape, child, out);
      out.push(member.close);
    }
    return;
  }
  if (plan.type === "list") {
    for (const entry of value as Encodable[]) {
      out.push(plan.open);
      encodeValue(plan.element, entry, out);
      out.push(plan.close);
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
