/*
 * Where UTF-8 and UTF-16 stop being well formed, walked by hand. Whether a whole buffer is valid
 * UTF-8 is asked of node:buffer's isUtf8 first, everywhere: it is native and the fastest answer.
 * The walk runs only after it has said no, for what no built-in tells:
 * - the byte offset of the first ill-formed sequence, which every error and warning names
 *   (TextDecoder's fatal error gives none; finding it through a lenient TextDecoder's first
 *   U+FFFD is slower, a whole decode, and has no early exit);
 * - utf8Census's count of ill-formed bytes, one by one, where a TextDecoder makes one U+FFFD of
 *   a run of them;
 * - where a chunk stops at whole characters, for the strict decode stream, whose isUtf8 check
 *   and pass-through are faster than a TextDecoder in stream mode and re-encoding its text.
 * Figures: bench/utf8-validation.mjs (67 MB, node 20, a shared machine): isUtf8 2,000-2,700
 * MB/s, TextDecoder fatal 115-155, this walk 155-290, the position through a lenient
 * TextDecoder 75-130; streaming, the cut and isUtf8 680-1,300 against 140-240.
 */

/** Bytes that sequence lead byte `b` needs in all (1 for ASCII and for bytes that cannot lead a sequence). */
function sequenceLength(b: number): number {
  if (b >= 0xf0) return 4;
  if (b >= 0xe0) return 3;
  if (b >= 0xc0) return 2;
  return 1;
}

/**
 * Length of the well-formed UTF-8 sequence at `bytes[i]` (Unicode table 3-7), or 0 when the
 * sequence there is ill formed. A sequence cut short by the end of `bytes` counts as ill formed.
 */
function wellFormedLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  if (b < 0x80) return 1;
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + need >= bytes.length) return 0;
  const second = bytes[i + 1] as number;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k <= need; k++) {
    const c = bytes[i + k] as number;
    if (c < 0x80 || c > 0xbf) return 0;
  }
  return need + 1;
}

/**
 * Where the first ill-formed UTF-8 sequence in `bytes` starts (Unicode table 3-7), or -1 when
 * all of it is well formed. A sequence cut short by the end of `bytes` counts as ill formed.
 */
export function findInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const length = wellFormedLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return -1;
}

/**
 * What the non-ASCII bytes of `bytes` look like as UTF-8: how many well-formed multi-byte
 * sequences, how many ill-formed bytes (each one that cannot start or continue a sequence), and
 * where the first ill-formed one is (-1 when none). Text in a single-byte encoding such as
 * Windows-1252 is almost all ill formed; UTF-8 with a damaged byte is almost all well formed.
 */
export function utf8Census(bytes: Uint8Array): { multiByte: number; invalid: number; firstInvalid: number } {
  let multiByte = 0;
  let invalid = 0;
  let firstInvalid = -1;
  for (let i = 0; i < bytes.length; ) {
    const length = wellFormedLength(bytes, i);
    if (length === 0) {
      if (firstInvalid < 0) firstInvalid = i;
      invalid++;
      i++;
    } else {
      if (length > 1) multiByte++;
      i += length;
    }
  }
  return { multiByte, invalid, firstInvalid };
}

/** Length of the part of `bytes` that does not end inside a multi-byte UTF-8 sequence. */
export function completeUtf8Length(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back] as number;
    if ((b & 0xc0) === 0x80) continue;
    return sequenceLength(b) > back ? n - back : n;
  }
  return n;
}

/** Index of the first unpaired surrogate code unit in UTF-16 `bytes` (even length), or -1. */
export function findInvalidUtf16(bytes: Uint8Array, littleEndian: boolean): number {
  const unit = (i: number) =>
    littleEndian ? (bytes[i] as number) | ((bytes[i + 1] as number) << 8) : ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const u = unit(i);
    if (u >= 0xdc00 && u <= 0xdfff) return i;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 3 >= bytes.length) return i;
      const next = unit(i + 2);
      if (next < 0xdc00 || next > 0xdfff) return i;
      i += 2;
    }
  }
  return -1;
}

/** Length of the part of UTF-16 `bytes` that ends neither inside a code unit nor after a lone high surrogate. */
export function completeUtf16Length(bytes: Uint8Array, littleEndian: boolean): number {
  let n = bytes.length - (bytes.length % 2);
  if (n >= 2) {
    const last = littleEndian
      ? (bytes[n - 2] as number) | ((bytes[n - 1] as number) << 8)
      : ((bytes[n - 2] as number) << 8) | (bytes[n - 1] as number);
    if (last >= 0xd800 && last <= 0xdbff) n -= 2;
  }
  return n;
}
