// Test helper: a strict well-formedness check for the HTML we generate (we write XHTML-style
// self-closed void elements, so every tag must balance) and a tally of element names.
const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

export interface TagTally { counts: Map<string, number> }

export function checkWellFormed(html: string): TagTally {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  // Drop the doctype and comments; inside <style>/<script> there must be no '<' anyway.
  const src = html.replace(/^<!DOCTYPE html>/i, '').replace(/<!--[\s\S]*?-->/g, '');
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[^\s=>\/]+(?:="[^"]*")?)*)\s*(\/?)>|<|>/g;
  let m: RegExpExecArray | null;
  let rawTextEnd: string | null = null;
  while ((m = re.exec(src))) {
    if (rawTextEnd) {
      // Inside <style>/<script>: skip until the matching close tag.
      if (m[1] === '/' && m[2]!.toLowerCase() === rawTextEnd) { stack.pop(); rawTextEnd = null; }
      continue;
    }
    if (m[2] === undefined) throw new Error(`stray '${m[0]}' at offset ${m.index}: ${JSON.stringify(src.slice(Math.max(0, m.index - 40), m.index + 40))}`);
    const [, close, nameRaw, , selfClose] = m;
    const name = nameRaw!.toLowerCase();
    if (close) {
      const top = stack.pop();
      if (top !== name) throw new Error(`</${name}> closes <${top}> at offset ${m.index}`);
      continue;
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (selfClose || VOID.has(name)) continue;
    stack.push(name);
    if (name === 'style' || name === 'script') rawTextEnd = name;
  }
  if (stack.length) throw new Error(`unclosed tags: ${stack.join(' > ')}`);
  return { counts };
}
