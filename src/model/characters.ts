// EC2 bounds names, descriptions and tags in characters: Unicode code points, so that an emoji
// counts once, not as the two UTF-16 units a JavaScript string length sees.

/** The number of code points of a text (a lone surrogate counts as one). */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 1; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // a low surrogate after a high one is the second half of one character
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      const before = text.charCodeAt(i - 1);
      if (before >= 0xd800 && before <= 0xdbff) count--;
    }
  }
  return count;
}
