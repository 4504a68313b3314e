// Build signatures: two builds with the same signature behave the same, so a commit whose
// signature equals its parent's cannot be the culprit. For ELF files only the allocated,
// loaded bytes count: debug info, build ids and other notes change without changing behaviour.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const SHF_ALLOC = 0x2n;
const SHT_NOTE = 7;
const SHT_NOBITS = 8;

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
}

/** Section headers of an ELF image, or undefined when the bytes are not ELF. */
export function elfSections(image: Buffer): ElfSection[] | undefined {
  if (image.length < 52 || image.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = image[4] === 2;
  const little = image[5] === 1;
  const u16 = (at: number): number => (little ? image.readUInt16LE(at) : image.readUInt16BE(at));
  const u32 = (at: number): number => (little ? image.readUInt32LE(at) : image.readUInt32BE(at));
  const u64 = (at: number): bigint => (little ? image.readBigUInt64LE(at) : image.readBigUInt64BE(at));
  const word = (at: number): bigint => (is64 ? u64(at) : BigInt(u32(at)));
  try {
    const shoff = Number(word(is64 ? 0x28 : 0x20));
    const shentsize = u16(is64 ? 0x3a : 0x2e);
    const shnum = u16(is64 ? 0x3c : 0x30);
    const shstrndx = u16(is64 ? 0x3e : 0x32);
    const raw = [];
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      raw.push({
        nameOffset: u32(at),
        type: u32(at + 4),
        flags: word(at + 8),
        offset: Number(word(at + (is64 ? 0x18 : 0x10))),
        size: Number(word(at + (is64 ? 0x20 : 0x14))),
      });
    }
    const names = raw[shstrndx];
    const nameOf = (offset: number): string => {
      if (!names) return "";
      const start = names.offset + offset;
      const end = image.indexOf(0, start);
      return image.toString("latin1", start, end < 0 ? start : end);
    };
    return raw.map((s) => ({ name: nameOf(s.nameOffset), type: s.type, flags: s.flags, offset: s.offset, size: s.size }));
  } catch {
    // Truncated headers: treat as a plain file.
    return undefined;
  }
}

/** sha256 over the bytes that matter: loaded sections of an ELF file, all bytes otherwise. */
export function contentSignature(image: Buffer): string {
  const hash = createHash("sha256");
  const sections = elfSections(image);
  if (!sections) return hash.update(image).digest("hex");
  for (const s of sections) {
    if ((s.flags & SHF_ALLOC) === 0n || s.type === SHT_NOBITS || s.type === SHT_NOTE) continue;
    hash.update(s.name).update("\0").update(image.subarray(s.offset, s.offset + s.size));
  }
  return hash.digest("hex");
}

export async function elfSignature(path: string): Promise<string> {
  return contentSignature(await readFile(path));
}

/** Signature of a set of artifacts (relative paths under `dir`), independent of listing order. */
export async function artifactsSignature(dir: string, artifacts: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const rel of [...artifacts].sort()) {
    hash.update(rel).update("\0").update(await elfSignature(join(dir, rel))).update("\n");
  }
  return hash.digest("hex");
}
