#!/usr/bin/env node
// The hand-written UTF-8 walker of well-formed.ts against what the platform offers, on large
// valid and invalid inputs: speed, and the error position each reports (the ingestion errors
// must name the byte offset of the first ill-formed sequence).
//
//   npm run build -w @trajectory/ingestion && node packages/ingestion/bench/utf8-validation.mjs [--mib 64] [--runs 5]
//
// Validity of a whole buffer: isUtf8 (node:buffer, what the decoders call first), TextDecoder
// with fatal: true, and the hand walker (findInvalidUtf8). Position of the first ill-formed
// sequence: the hand walker, TextDecoder fatal (its error names no position), and a TextDecoder
// without fatal whose first U+FFFD that the input does not spell as EF BF BD is mapped back to a
// byte. Streaming (64 KiB chunks, the output as UTF-8 bytes): the decode stream's check (cut at
// the last whole character, isUtf8, pass the bytes through) against TextDecoder fatal in stream
// mode, re-encoded. UTF-16 to text (the decoders share one TextDecoder path): Buffer's own
// toString('utf16le'), with swap16 for big-endian, against TextDecoder. Figures are the best
// of --runs, in MB/s.
import { isUtf8 } from 'node:buffer';
import { findInvalidUtf8 } from '../dist/well-formed.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const size = arg('mib', 64) * 1024 * 1024;
const runs = arg('runs', 5);

const line = Buffer.from('Grüße, 世界! 🎉 naïve café — “quotes” and a longer run of plain ASCII words after them\n');
const valid = Buffer.alloc(size);
for (let at = 0; at < size; at += line.length) line.copy(valid, at);
// The fill may cut the last line inside a character: end on whole ones.
let end = size;
while (end > 0 && (valid[end - 1] & 0x80) !== 0) end--;
const validInput = valid.subarray(0, end);
const badAt = validInput.length - 1000;
const invalidLate = Buffer.from(validInput);
invalidLate[badAt] = 0xff;
const invalidEarly = Buffer.from(validInput);
invalidEarly[1000] = 0xff;

function best(fn) {
  let ms = Number.POSITIVE_INFINITY;
  let result;
  for (let r = 0; r < runs; r++) {
    const t = process.hrtime.bigint();
    result = fn();
    ms = Math.min(ms, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { ms, result };
}

const fatal = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

function fatalPosition(bytes) {
  try {
    fatal.decode(bytes);
    return -1;
  } catch (err) {
    return `none (${err.message})`;
  }
}

/** The first ill-formed sequence through a lenient TextDecoder: bytes before it decode exactly. */
function lenientPosition(bytes) {
  const text = lenient.decode(bytes);
  for (let i = text.indexOf('\ufffd'); i >= 0; i = text.indexOf('\ufffd', i + 1)) {
    const at = Buffer.byteLength(text.slice(0, i), 'utf8');
    if (!(bytes[at] === 0xef && bytes[at + 1] === 0xbf && bytes[at + 2] === 0xbd)) return at;
  }
  return -1;
}

function completeLength(bytes) {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back];
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

function chunks(bytes, chunkSize = 64 * 1024) {
  const out = [];
  for (let i = 0; i < bytes.length; i += chunkSize) out.push(bytes.subarray(i, i + chunkSize));
  return out;
}

function streamIsUtf8(parts) {
  let carry = Buffer.alloc(0);
  let total = 0;
  for (const part of parts) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, part]) : part;
    const complete = completeLength(bytes);
    const body = bytes.subarray(0, complete);
    if (!isUtf8(body)) return -2;
    carry = Buffer.from(bytes.subarray(complete));
    total += body.length;
  }
  return total;
}

function streamTextDecoder(parts) {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let total = 0;
  for (const part of parts) total += Buffer.from(decoder.decode(part, { stream: true }), 'utf8').length;
  total += Buffer.from(decoder.decode(), 'utf8').length;
  return total;
}

const mbps = (ms, bytes) => (ms < 0.1 ? 'early exit' : `${((bytes / 1e6 / ms) * 1000).toFixed(0)} MB/s`).padStart(10);
const row = (name, input, fn, bytes = input.length) => {
  const { ms, result } = best(() => fn(input));
  console.log(`  ${name.padEnd(46)} ${mbps(ms, bytes)}  ${ms.toFixed(1).padStart(8)} ms  -> ${result}`);
};

console.log(`node ${process.version}, ${(validInput.length / 1e6).toFixed(1)} MB of mixed UTF-8, best of ${runs}`);
console.log('valid input, is it UTF-8:');
row('isUtf8 (node:buffer)', validInput, isUtf8);
row('TextDecoder fatal', validInput, (b) => fatalPosition(b) === -1);
row('hand walker (findInvalidUtf8 === -1)', validInput, (b) => findInvalidUtf8(b) === -1);
for (const [label, input, expected] of [
  ['one bad byte 1,000 bytes from the end', invalidLate, badAt],
  ['one bad byte at byte 1,000', invalidEarly, 1000],
]) {
  console.log(`invalid input (${label}; expected position ${expected}):`);
  row('isUtf8 (node:buffer), no position', input, isUtf8);
  row('TextDecoder fatal', input, fatalPosition);
  row('TextDecoder lenient, first U+FFFD mapped back', input, lenientPosition);
  row('hand walker (findInvalidUtf8)', input, findInvalidUtf8);
}
const parts = chunks(validInput);
console.log('streaming, 64 KiB chunks, UTF-8 bytes out (bytes passed):');
row('cut at whole characters + isUtf8 + pass through', parts, streamIsUtf8, validInput.length);
row('TextDecoder fatal stream + Buffer.from', parts, streamTextDecoder, validInput.length);
const text = validInput.toString('utf8');
const le = Buffer.from(text, 'utf16le');
const be = Buffer.from(le).swap16();
const swapped = (bytes) => Buffer.from(bytes).swap16().toString('utf16le');
const same = (decoded) => decoded === text;
console.log(`UTF-16 to text (${(le.length / 1e6).toFixed(1)} MB; -> whether it reads back the text):`);
row('LE: Buffer toString', le, (b) => same(b.toString('utf16le')));
row('LE: TextDecoder', le, (b) => same(new TextDecoder('utf-16le', { ignoreBOM: true }).decode(b)));
row('BE: swap16 + Buffer toString', be, (b) => same(swapped(b)));
row('BE: TextDecoder', be, (b) => same(new TextDecoder('utf-16be', { ignoreBOM: true }).decode(b)));
