// PromQL for the editor: a tokenizer for highlighting, the context at the cursor for completion,
// and the position an API error message points at.

export type TokenKind = "ws" | "comment" | "string" | "number" | "duration" | "keyword" | "function" | "metric" | "label" | "op" | "brace" | "ident";
export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
}

export const FUNCTIONS = [
  "abs", "absent", "absent_over_time", "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "count_over_time",
  "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_avg", "histogram_count",
  "histogram_fraction", "histogram_quantile", "histogram_sum", "holt_winters", "hour", "idelta", "increase", "irate", "label_join",
  "label_replace", "last_over_time", "ln", "log10", "log2", "max_over_time", "min_over_time", "minute", "month", "predict_linear",
  "present_over_time", "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sort_by_label", "sqrt",
  "stddev_over_time", "stdvar_over_time", "sum_over_time", "time", "timestamp", "vector", "year",
];
export const AGGREGATIONS = ["sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group"];
export const KEYWORDS = ["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "atan2"];

const FN_SET = new Set([...FUNCTIONS, ...AGGREGATIONS]);
const KW_SET = new Set(KEYWORDS);

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let braces = 0;
  let parenAfterKeyword = false;
  let parenDepthKeyword = -1;
  let paren = 0;
  const push = (kind: TokenKind, end: number) => {
    out.push({ kind, text: src.slice(i, end), start: i });
    i = end;
  };
  while (i < src.length) {
    const c = src[i];
    const rest = src.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\s+/.exec(rest))) push("ws", i + m[0].length);
    else if (c === "#") push("comment", src.indexOf("\n", i) === -1 ? src.length : src.indexOf("\n", i));
    else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === "\\" && c !== "`" ? 2 : 1;
      push("string", Math.min(j + 1, src.length));
    } else if ((m = /^(\d+(\.\d+)?(ms|s|m|h|d|w|y))+/.exec(rest)) && !/^[\w:]/.test(src.slice(i + m[0].length))) push("duration", i + m[0].length);
    else if ((m = /^(0x[0-9a-fA-F]+|\d*\.?\d+([eE][+-]?\d+)?|Inf|NaN)/.exec(rest)) && m[0] !== "") push("number", i + m[0].length);
    else if ((m = /^[a-zA-Z_:][\w:]*/.exec(rest))) {
      const word = m[0];
      const after = src.slice(i + word.length).trimStart();
      let kind: TokenKind;
      if (braces > 0 || parenAfterKeyword) kind = "label";
      else if (KW_SET.has(word)) kind = "keyword";
      else if (FN_SET.has(word) && (after.startsWith("(") || after.startsWith("by") || after.startsWith("without"))) kind = "function";
      else kind = "metric";
      if (kind === "keyword" && ["by", "without", "on", "ignoring", "group_left", "group_right"].includes(word)) parenDepthKeyword = paren;
      push(kind, i + word.length);
    } else if ("{}()[]".includes(c)) {
      if (c === "{") braces++;
      if (c === "}") braces = Math.max(0, braces - 1);
      if (c === "(") {
        if (parenDepthKeyword === paren) parenAfterKeyword = true;
        paren++;
      }
      if (c === ")") {
        paren = Math.max(0, paren - 1);
        if (parenAfterKeyword && paren === parenDepthKeyword) {
          parenAfterKeyword = false;
          parenDepthKeyword = -1;
        }
      }
      push("brace", i + 1);
    } else if ((m = /^(==|!=|=~|!~|>=|<=|[-+*/%^=<>,@])/.exec(rest))) {
      if (parenDepthKeyword >= 0 && !parenAfterKeyword && c !== "(") parenDepthKeyword = -1;
      push("op", i + m[0].length);
    } else push("ident", i + 1);
  }
  return out;
}

export type Completion = { kind: "metric" | "label" | "value"; prefix: string; label?: string; from: number };

/** What the word before `pos` is: a metric (or function), a label name, or a label value. */
export function contextAt(src: string, pos: number): Completion | null {
  const before = src.slice(0, pos);
  let m = /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(before);
  if (m && insideBraces(before)) return { kind: "value", label: m[1], prefix: m[3], from: pos - m[3].length };
  m = /[a-zA-Z_:][\w:]*$/.exec(before);
  const prefix = m ? m[0] : "";
  const from = pos - prefix.length;
  if (insideBraces(before) || /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*$/.test(before)) {
    return { kind: "label", prefix, from };
  }
  if (!prefix) return null;
  return { kind: "metric", prefix, from };
}

function insideBraces(before: string): boolean {
  let depth = 0;
  let quote = "";
  for (let i = 0; i < before.length; i++) {
    const c = before[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "{") depth++;
    else if (c === "}") depth = Math.max(0, depth - 1);
  }
  return depth > 0;
}

/**
 * The character offset an API error message points at, or null: Prometheus's
 * `1:5: parse error: ...` (line:column, 1-based), `position 4`, or a quoted
 * unexpected token found in the query.
 */
export function errorPosition(query: string, message: string): { start: number; end: number } | null {
  let m = /(?:^|[\s:"])(\d+):(\d+)(?::|\s)/.exec(message);
  if (m) {
    const line = Number(m[1]);
    const col = Number(m[2]);
    const lines = query.split("\n");
    if (line >= 1 && line <= lines.length) {
      let offset = 0;
      for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
      const start = Math.min(offset + Math.max(col - 1, 0), query.length);
      return { start, end: Math.min(start + 1, Math.max(query.length, start + 1)) };
    }
  }
  m = /\b(?:position|pos|offset|char(?:acter)?)\s+(\d+)/i.exec(message);
  if (m) {
    const start = Math.min(Number(m[1]), query.length);
    return { start, end: start + 1 };
  }
  if (/unclosed left (parenthesis|brace|bracket)/i.test(message)) {
    const open = unclosed(query);
    if (open !== null) return { start: open, end: open + 1 };
  }
  if (/end of input/i.test(message)) return { start: query.length, end: query.length + 1 };
  m = /unexpected <(?:op:)?([^>]+)>/i.exec(message) ?? /unexpected[^'"]*['"]([^'"]+)['"]/i.exec(message) ?? /unexpected (?:character:? |right |left )?\w*\s*'?(\S)'?/i.exec(message);
  if (m) {
    const at = query.indexOf(m[1]);
    if (at >= 0) return { start: at, end: at + m[1].length };
  }
  return null;
}

/** The offset of the first bracket that is never closed, or null. */
function unclosed(query: string): number | null {
  const stack: number[] = [];
  let quote = "";
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("({[".includes(c)) stack.push(i);
    else if (")}]".includes(c)) stack.pop();
  }
  return stack.length ? stack[stack.length - 1] : null;
}
