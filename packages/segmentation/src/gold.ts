/**
 * Gold dialogue topic segmentations. TIAGE (Xie et al., Findings of EMNLP 2021) annotates each
 * utterance of a PersonaChat dialogue: `{dialog_id: [[utterance, label], ...]}` with label "-1" on the
 * first utterance, "1" where a topic shift starts at this utterance and "0" otherwise.
 */

export interface GoldDialogue {
  id: string;
  utterances: string[];
  /** Sorted indexes i (1..n−1) where a new topic starts at utterance i. */
  boundaries: number[];
}

/**
 * Parses a TIAGE annotation file (its text, or the value JSON.parse made of it) into dialogues in
 * file order. Labels may be strings or numbers. Throws on anything else than the format above,
 * including a shift on the first utterance or a "-1" after it.
 */
export function parseTiage(json: unknown): GoldDialogue[] {
  const root: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new TypeError('TIAGE: expected an object of dialogues');
  const dialogues: GoldDialogue[] = [];
  for (const [id, turns] of Object.entries(root)) {
    if (!Array.isArray(turns)) throw new TypeError(`TIAGE ${id}: expected an array of [utterance, label]`);
    const utterances: string[] = [];
    const boundaries: number[] = [];
    turns.forEach((turn: unknown, i) => {
      if (!Array.isArray(turn) || turn.length < 2 || typeof turn[0] !== 'string') {
        throw new TypeError(`TIAGE ${id}[${i}]: expected [utterance, label]`);
      }
      const label = String(turn[1]);
      if (label === '1') {
        if (i === 0) throw new RangeError(`TIAGE ${id}[0]: a topic shift on the first utterance`);
        boundaries.push(i);
      } else if (label === '-1') {
        if (i !== 0) throw new RangeError(`TIAGE ${id}[${i}]: label -1 after the first utterance`);
      } else if (label !== '0') {
        throw new RangeError(`TIAGE ${id}[${i}]: unknown label ${JSON.stringify(turn[1])}`);
      }
      utterances.push(turn[0]);
    });
    dialogues.push({ id, utterances, boundaries });
  }
  return dialogues;
}
