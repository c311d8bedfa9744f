// Text that others wrote (an agent's status, say) goes to the operator's terminal as text: its
// control characters would otherwise move the cursor, recolour, retitle the window, or start a
// line that looks like another row.

/** C0 and C1 controls, DEL, line and paragraph separators and the bidirectional overrides. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** The text with every character that would act on the terminal written as `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, "0")}`);
}
