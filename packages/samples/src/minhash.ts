// Near-duplicate search over texts in bounded memory, for de-duplication and the near-duplicates
// gate (both through dedupe.ts findRepeats): character 5-gram shingles, a one-permutation MinHash
// signature for LSH banding, and a bottom-k sketch per field that estimates a pair's Jaccard
// similarity without the texts. Each is fixed-size per record, so nothing here grows with the
// length of the texts, only with the number of records.

const SHINGLE = 5;
/** Bins of the one-permutation signature (a power of two). */
export const PERMUTATIONS = 64;
/** 16 bands of 4 rows: a pair with Jaccard 0.8 becomes a candidate with p ≈ 1 − (1 − 0.8⁴)¹⁶ > 0.999. */
export const BANDS = 16;
const ROWS = PERMUTATIONS / BANDS;
/** Values a field's bottom-k sketch keeps: a set of at most this many shingles is kept whole. */
export const SKETCH = 64;

/** FNV-1a, 32 bits, of text[start, end): the hash of one shingle. */
function fnv1a(text: string, start = 0, end = text.length, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: a good 32-bit mix. */
export function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Calls `each` with the hash of every character 5-gram of a text (the whole text if shorter); `seed` keeps fields apart. */
export function forEachShingle(text: string, each: (hash: number) => void, seed?: number): void {
  if (text.length === 0) return;
  if (text.length <= SHINGLE) each(fnv1a(text, 0, text.length, seed));
  for (let i = 0; i + SHINGLE <= text.length; i++) each(fnv1a(text, i, i + SHINGLE, seed));
}

/** The set of hashed character 5-grams of a text as it is (the whole text if shorter). */
export function shingleSet(text: string): Set<number> {
  const out = new Set<number>();
  forEachShingle(text, (h) => out.add(h));
  return out;
}

/** Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two shingle sets. */
export function jaccard(a: ReadonlySet<number>, b: ReadonlySet<number>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const x of small) if (large.has(x)) shared += 1;
  return shared / (a.size + b.size - shared);
}

/** The k least distinct values seen, in ascending order. */
class BottomK {
  private buffer = new Uint32Array(2 * SKETCH);
  private size = 0;
  /** Values at or above this cannot be among the k least (once k are known). */
  private cutoff = Number.POSITIVE_INFINITY;

  add(x: number): void {
    if (x >= this.cutoff) return;
    if (this.size === this.buffer.length) this.compact();
    if (x >= this.cutoff) return;
    this.buffer[this.size++] = x;
  }

  private compact(): void {
    const sorted = this.buffer.subarray(0, this.size).sort();
    let n = 0;
    for (let i = 0; i < sorted.length && n < SKETCH; i++) if (n === 0 || sorted[i] !== sorted[n - 1]) sorted[n++] = sorted[i] as number;
    this.size = n;
    if (n === SKETCH) this.cutoff = sorted[n - 1] as number;
  }

  values(): Uint32Array {
    this.compact();
    return this.buffer.slice(0, this.size);
  }
}

/**
 * Bottom-k estimate of the Jaccard similarity of two sets from their sketches (ascending): the
 * share of the k least values of the union that both sets hold. Exact when the union has at most
 * k values; otherwise its standard deviation is √(J(1 − J)/k), 0.0375 at J = 0.9.
 */
export function sketchSimilarity(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let union = 0;
  let shared = 0;
  while (union < SKETCH && (i < a.length || j < b.length)) {
    const x = i < a.length ? (a[i] as number) : Number.POSITIVE_INFINITY;
    const y = j < b.length ? (b[j] as number) : Number.POSITIVE_INFINITY;
    if (x === y) {
      shared += 1;
      i += 1;
      j += 1;
    } else if (x < y) i += 1;
    else j += 1;
    union += 1;
  }
  return shared / union;
}

export interface TextSketch {
  /** One-permutation MinHash signature of every field's shingles together (fields salted apart), for LSH. */
  signature: Uint32Array;
  /** Per field, its bottom-k sketch (ascending), for estimating the similarity of one field. */
  fields: Uint32Array[];
}

/**
 * The signature and the field sketches of a record's fields, in one pass over their shingles.
 * The signature is one-permutation hashing: each shingle is hashed once, its hash picks one of
 * the 64 bins and the bin keeps the least value; an empty bin (a short text) takes the value of the
 * next non-empty one, salted by the distance (densification). One hash per shingle instead of 64
 * keeps long pasted texts cheap.
 */
export function sketchTexts(texts: readonly string[]): TextSketch {
  const signature = new Uint32Array(PERMUTATIONS).fill(0xffffffff);
  const filled = new Uint8Array(PERMUTATIONS);
  const fields = texts.map((text, f) => {
    const bottom = new BottomK();
    forEachShingle(
      text,
      (shingle) => {
        const x = fmix32(shingle);
        bottom.add(x);
        const bin = x & (PERMUTATIONS - 1);
        const value = x >>> 6;
        if (value < (signature[bin] as number) || !filled[bin]) {
          signature[bin] = filled[bin] ? Math.min(value, signature[bin] as number) : value;
          filled[bin] = 1;
        }
      },
      fmix32(0x811c9dc5 + f),
    );
    return bottom.values();
  });
  if (filled.includes(0) && filled.includes(1)) {
    const source = Uint32Array.from(signature);
    for (let i = 0; i < PERMUTATIONS; i++) {
      if (filled[i]) continue;
      let d = 1;
      while (!filled[(i + d) % PERMUTATIONS]) d += 1;
      signature[i] = fmix32((source[(i + d) % PERMUTATIONS] as number) + d * 0x9e3779b9);
    }
  }
  return { signature, fields };
}

/** The LSH band keys of a signature: one 32-bit hash per band of 4 rows. */
export function bandKeys(signature: Uint32Array): Uint32Array {
  const keys = new Uint32Array(BANDS);
  for (let band = 0; band < BANDS; band++) {
    let h = band;
    for (let r = band * ROWS; r < (band + 1) * ROWS; r++) h = fmix32(Math.imul(h, 0x01000193) ^ (signature[r] as number));
    keys[band] = h;
  }
  return keys;
}

/**
 * LSH buckets of item numbers, keyed by 32-bit band keys: open addressing over typed arrays, each
 * bucket a list of the first `peers` items put into it, in their order (later ones are never
 * looked at, so they are not kept). About 30 bytes per item and band, where a map of string keys
 * to arrays took several times that.
 */
export class LshIndex {
  private keys: Uint32Array;
  /** Per slot, 1 + its bucket's first entry; 0: an empty slot. */
  private heads: Int32Array;
  private tails: Int32Array;
  private counts: Uint8Array;
  private used = 0;
  /** Per entry, its item and 1 + the next entry of its bucket (0: the last). */
  private items: Int32Array;
  private next: Int32Array;
  private entries = 0;

  constructor(
    private readonly peers: number,
    capacity = 1024,
  ) {
    this.keys = new Uint32Array(capacity);
    this.heads = new Int32Array(capacity);
    this.tails = new Int32Array(capacity);
    this.counts = new Uint8Array(capacity);
    this.items = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  private slot(key: number): number {
    const mask = this.keys.length - 1;
    let i = fmix32(key) & mask;
    while (this.heads[i] !== 0 && this.keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  /** The bucket's items in the order they were put (at most `peers`). */
  get(key: number): number[] {
    const out: number[] = [];
    for (let e = this.heads[this.slot(key)] as number; e !== 0; e = this.next[e - 1] as number) out.push(this.items[e - 1] as number);
    return out;
  }

  put(key: number, item: number): void {
    if (2 * (this.used + 1) > this.keys.length) this.grow();
    const i = this.slot(key);
    if ((this.counts[i] as number) >= this.peers) return;
    if (this.entries === this.items.length) {
      this.items = grown(this.items);
      this.next = grown(this.next);
    }
    const e = ++this.entries;
    this.items[e - 1] = item;
    if (this.heads[i] === 0) {
      this.keys[i] = key;
      this.heads[i] = e;
      this.used += 1;
    } else this.next[(this.tails[i] as number) - 1] = e;
    this.tails[i] = e;
    this.counts[i] = (this.counts[i] as number) + 1;
  }

  private grow(): void {
    const { keys, heads, tails, counts } = this;
    this.keys = new Uint32Array(keys.length * 2);
    this.heads = new Int32Array(keys.length * 2);
    this.tails = new Int32Array(keys.length * 2);
    this.counts = new Uint8Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      if (heads[i] === 0) continue;
      const j = this.slot(keys[i] as number);
      this.keys[j] = keys[i] as number;
      this.heads[j] = heads[i] as number;
      this.tails[j] = tails[i] as number;
      this.counts[j] = counts[i] as number;
    }
  }
}

const grown = (a: Int32Array) => {
  const out = new Int32Array(a.length * 2);
  out.set(a);
  return out;
};

/** Field sketches of many items in one growing buffer: per item, per field, its length then its values. */
export class SketchStore {
  private data = new Uint32Array(1 << 16);
  private used = 0;

  /** Stores an item's field sketches; returns where they are. */
  add(fields: readonly Uint32Array[]): number {
    const at = this.used;
    const size = fields.reduce((sum, f) => sum + 1 + f.length, 0);
    if (at + size > this.data.length) {
      const data = new Uint32Array(Math.max(this.data.length * 2, at + size));
      data.set(this.data.subarray(0, at));
      this.data = data;
    }
    for (const f of fields) {
      this.data[this.used++] = f.length;
      this.data.set(f, this.used);
      this.used += f.length;
    }
    return at;
  }

  /** Field `field` of the item stored at `at`. */
  field(at: number, field: number): Uint32Array {
    let i = at;
    for (let f = 0; f < field; f++) i += 1 + (this.data[i] as number);
    return this.data.subarray(i + 1, i + 1 + (this.data[i] as number));
  }
}
