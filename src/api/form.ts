// application/x-www-form-urlencoded parsing that refuses what URLSearchParams would quietly
// repair: bytes that are not UTF-8 become an error, not U+FFFD, and so do characters that an XML
// response could not carry back.

import { invalidValue } from "../model/errors.js";
import { NOT_XML } from "./wire/encode.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeComponent(text: string): string {
  // Most names and values (Action, ids, ports) have nothing encoded.
  if (!text.includes("%") && !text.includes("+")) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    throw invalidValue("The request contains a parameter that is not valid percent-encoded UTF-8.");
  }
}

function codePoint(c: string): string {
  return `U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
}

function checkXmlText(key: string, value: string): void {
  const inKey = NOT_XML.exec(key);
  if (inKey) {
    throw invalidValue(
      `A parameter name contains the character ${codePoint(inKey[0])}, which XML cannot carry.`,
    );
  }
  const inValue = NOT_XML.exec(value);
  if (inValue) {
    throw invalidValue(
      `The value of parameter ${key} contains the character ${codePoint(inValue[0])}, which XML cannot carry.`,
    );
  }
}

export function parseForm(text: string, into: Map<string, string>): void {
  if (!text) return;
  for (const part of text.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeComponent(part.slice(eq + 1));
    checkXmlText(key, value);
    // two values for one name (also one in the query string, one in the body): which one was
    // meant is not ours to guess
    if (into.has(key)) throw invalidValue(`The parameter ${key} is given more than once.`);
    into.set(key, value);
  }
}

export function bodyText(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw invalidValue("The request body is not valid UTF-8.");
  }
}
