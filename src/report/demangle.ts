// Just enough demangling for kernel stack frames: C++ (Itanium) names and Rust v0 paths, without
// parameters. Titles must name `fakeName`, not `_Z8fakeNameiii`, or a rebuilt binary with
// different parameter types would look like a different bug. Anything not understood is
// returned unchanged.

export function demangle(symbol: string): string {
  try {
    if (symbol.startsWith("_R")) return new RustDemangler(symbol.slice(2)).symbol() ?? symbol;
    if (symbol.startsWith("_Z")) return itanium(symbol.slice(2)) ?? symbol;
  } catch {
    // Malformed or unsupported mangling: keep the symbol as printed.
  }
  return symbol;
}

/** "<len><identifier>" at `pos`. */
function sourceName(text: string, pos: number): { name: string; end: number } | null {
  const m = /^\d+/.exec(text.slice(pos, pos + 6));
  if (!m) return null;
  const len = Number(m[0]);
  const start = pos + m[0].length;
  if (len === 0 || start + len > text.length) return null;
  return { name: text.slice(start, start + len), end: start + len };
}

function itanium(rest: string): string | null {
  if (rest.startsWith("N")) {
    let pos = 1;
    // cv-qualifiers of member functions.
    while (rest[pos] === "K" || rest[pos] === "V" || rest[pos] === "r") pos++;
    const names: string[] = [];
    if (rest.startsWith("St", pos)) {
      names.push("std");
      pos += 2;
    }
    while (pos < rest.length && rest[pos] !== "E") {
      const part = sourceName(rest, pos);
      if (!part) return null;
      names.push(part.name);
      pos = part.end;
    }
    return names.length > 0 && rest[pos] === "E" ? names.join("::") : null;
  }
  const name = sourceName(rest, 0);
  return name ? name.name : null;
}

const BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

const rustBasicTypes: Readonly<Record<string, string>> = {
  a: "i8", b: "bool", c: "char", d: "f64", e: "str", f: "f32", h: "u8", i: "isize", j: "usize", l: "i32",
  m: "u32", n: "i128", o: "u128", s: "i16", t: "u16", u: "()", v: "...", x: "i64", y: "u64", z: "!",
};

/** Rust v0 mangling (RFC 2603), the subset kernel symbols use: paths, impls, basic types. */
class RustDemangler {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  symbol(): string | null {
    // An optional encoding version.
    if (/\d/.test(this.text[0] ?? "")) return null;
    return this.path();
  }

  private next(): string {
    const c = this.text[this.pos];
    if (c === undefined) throw new Error("truncated");
    this.pos++;
    return c;
  }

  private base62(): number {
    if (this.text[this.pos] === "_") {
      this.pos++;
      return 0;
    }
    let value = 0;
    for (;;) {
      const c = this.next();
      if (c === "_") return value + 1;
      const digit = BASE62.indexOf(c);
      if (digit === -1) throw new Error("bad base62");
      value = value * 62 + digit;
    }
  }

  private disambiguator(): void {
    if (this.text[this.pos] === "s") {
      this.pos++;
      this.base62();
    }
  }

  private ident(): string {
    this.disambiguator();
    if (this.text[this.pos] === "u") throw new Error("punycode");
    const m = /^\d+/.exec(this.text.slice(this.pos, this.pos + 6));
    if (!m) throw new Error("no identifier");
    this.pos += m[0].length;
    if (this.text[this.pos] === "_") this.pos++;
    const len = Number(m[0]);
    const name = this.text.slice(this.pos, this.pos + len);
    if (name.length !== len) throw new Error("truncated identifier");
    this.pos += len;
    return name;
  }

  private backref<T>(read: () => T): T {
    const target = this.base62();
    if (target >= this.pos || ++this.depth > 64) throw new Error("bad backref");
    const saved = this.pos;
    this.pos = target;
    try {
      return read();
    } finally {
      this.pos = saved;
      this.depth--;
    }
  }

  private path(): string {
    const tag = this.next();
    switch (tag) {
      case "C":
        return this.ident();
      case "N": {
        const ns = this.next();
        const parent = this.path();
        const name = this.ident();
        if (ns === "C") return `${parent}::{closure}`;
        if (ns === "S") return `${parent}::{shim}`;
        return name === "" ? parent : `${parent}::${name}`;
      }
      case "M": {
        this.disambiguator();
        this.path();
        return `<${this.type()}>`;
      }
      case "X": {
        this.disambiguator();
        this.path();
        const self = this.type();
        const trait = this.path();
        return `<${self} as ${trait}>`;
      }
      case "Y": {
        const self = this.type();
        const trait = this.path();
        return `<${self} as ${trait}>`;
      }
      case "I": {
        const base = this.path();
        while (this.text[this.pos] !== "E") this.genericArg();
        this.pos++;
        return base;
      }
      case "B":
        return this.backref(() => this.path());
      default:
        throw new Error(`unsupported path tag ${tag}`);
    }
  }

  private genericArg(): void {
    const c = this.text[this.pos];
    if (c === "L") {
      this.pos++;
      this.base62();
    } else if (c === "K") {
      throw new Error("const generics");
    } else {
      this.type();
    }
  }

  private type(): string {
    const c = this.text[this.pos] ?? "";
    const basic = rustBasicTypes[c];
    if (basic !== undefined) {
      this.pos++;
      return basic;
    }
    switch (c) {
      case "R":
      case "Q": {
        this.pos++;
        if (this.text[this.pos] === "L") {
          this.pos++;
          this.base62();
        }
        return `&${c === "Q" ? "mut " : ""}${this.type()}`;
      }
      case "P":
      case "O":
        this.pos++;
        return `*${c === "O" ? "mut" : "const"} ${this.type()}`;
      case "S":
        this.pos++;
        return `[${this.type()}]`;
      case "B":
        this.pos++;
        return this.backref(() => this.type());
      default:
        return this.path();
    }
  }
}
