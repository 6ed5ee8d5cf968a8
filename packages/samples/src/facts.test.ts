import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Fact,
  factId,
  factPhrasings,
  factRecords,
  MEMORY_SYSTEM_TEMPLATE,
  mentionsValue,
  normalisePhrasing,
  parseFacts,
  relationFamily,
  renderSystemPrompt,
} from './facts.js';
import { validateRecord } from './validate.js';

const FACTS: Fact[] = [
  { subject: 'my dog', relation: 'name', value: 'Pixel' },
  { subject: 'I', relation: 'live in', value: 'Utrecht' },
  { subject: 'my partner', relation: 'birthday', value: '12 March' },
  { subject: 'I', relation: 'favourite colour', value: 'green' },
  { subject: 'my car', relation: 'colour', value: 'red' },
  { subject: 'I', relation: 'name', value: 'Sam' },
  { subject: 'my parents', relation: 'lives in', value: 'Leiden' },
];

const YAML = `
# my facts
- subject: my dog
  relation: name
  value: Pixel
- { subject: I, relation: live in, value: Utrecht }
- subject: my partner
  relation: birthday
  value: 12 March
`;

const loose = (text: string) =>
  text
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

test('relation families', () => {
  assert.equal(relationFamily('name'), 'name');
  assert.equal(relationFamily('live in'), 'location');
  assert.equal(relationFamily('Lives in'), 'location');
  assert.equal(relationFamily('birthday'), 'date');
  assert.equal(relationFamily('favourite colour'), 'preference');
  assert.equal(relationFamily('favorite food'), 'preference');
  assert.equal(relationFamily('car colour'), 'generic');
});

test('30+ distinct phrasings per fact in every relation family, along all five dimensions', () => {
  for (const fact of FACTS) {
    const phrasings = factPhrasings(fact);
    const label = `${fact.subject} / ${fact.relation}`;
    const distinct = new Set(phrasings.map((p) => normalisePhrasing(p.question)));
    assert.equal(distinct.size, phrasings.length, `${label}: phrasings are distinct after normalisation`);
    assert.ok(distinct.size >= 30, `${label}: ${distinct.size} phrasings`);
    const tags = new Set(phrasings.flatMap((p) => p.tags));
    for (const tag of [
      'formality:casual',
      'formality:neutral',
      'formality:formal',
      'directness:direct',
      'directness:indirect',
      'swap:none',
      'swap:confirm',
      'punctuation:question',
      'punctuation:none',
      'punctuation:interrobang',
      'punctuation:trailing-space',
      'answer:short',
      'answer:full',
      'answer:context',
    ]) {
      assert.ok(tags.has(tag), `${label}: has ${tag}`);
    }
    assert.ok(
      [...tags].some((t) => t.startsWith('typo:')),
      `${label}: has a typo`,
    );
    if (fact.subject !== 'I') assert.ok(tags.has('swap:subject'), `${label}: asks for the subject given the value`);
    assert.ok(
      phrasings.some((p) => p.tags.includes('punctuation:trailing-space') && /\s$/.test(p.question)),
      `${label}: trailing spaces are kept`,
    );
    // A typo never touches the value: swapped and confirming questions still name it intact.
    for (const p of phrasings.filter((p) => p.ask !== 'value')) {
      if (p.ask !== 'confirm-false')
        assert.ok(mentionsValue(p.question, fact.value) || p.question.includes(fact.value), `${label}: ${p.question}`);
    }
    for (const p of phrasings.filter((p) => p.ask === 'value' || p.ask === 'confirm-false'))
      assert.ok(p.answer.includes(fact.value), p.answer);
  }
});

test('relation-aware wording', () => {
  const questions = (fact: Fact) => factPhrasings(fact).map((p) => p.question);
  const [dog, home, partner, colour, car, me, parents] = FACTS as [Fact, Fact, Fact, Fact, Fact, Fact, Fact];
  assert.ok(questions(dog).includes("What's my dog's name?"));
  assert.ok(questions(dog).includes('Whose name is Pixel?'));
  assert.ok(questions(dog).includes("Is Pixel my dog's name?"));
  assert.ok(questions(dog).includes("Could you tell me my dog's name?"));
  assert.ok(questions(dog).includes("I forgot my dog's name, remind me."));
  assert.ok(questions(home).includes('Where do I live?'));
  assert.ok(questions(parents).includes('Where do my parents live?'));
  assert.ok(questions(partner).includes("When is my partner's birthday?"));
  assert.ok(questions(colour).includes('Which colour do I like best?'));
  assert.ok(questions(car).includes("What is my car's colour?"));
  assert.ok(questions(me).includes('Am I called Sam?'));
  const answers = new Set(factPhrasings(dog).map((p) => p.answer));
  for (const answer of ['Pixel.', "Your dog's name is Pixel.", 'You told me your dog is called Pixel.'])
    assert.ok(answers.has(answer), answer);
  const homeAnswers = new Set(factPhrasings(home).map((p) => p.answer));
  assert.ok(homeAnswers.has('You live in Utrecht.'));
  assert.ok(new Set(factPhrasings(parents).map((p) => p.answer)).has('Your parents live in Leiden.'));
});

test('held-out phrasings: at least 5 (about 20 %) per fact, never equal to a training phrasing', () => {
  for (const fact of FACTS) {
    const phrasings = factPhrasings(fact);
    const heldout = phrasings.filter((p) => p.split === 'heldout');
    const train = phrasings.filter((p) => p.split === 'train');
    assert.ok(heldout.length >= 5, `${fact.subject}: ${heldout.length} held out`);
    assert.ok(
      heldout.length >= 0.2 * phrasings.length && heldout.length <= 0.4 * phrasings.length,
      `${heldout.length}/${phrasings.length}`,
    );
    const trainForms = new Set(train.map((p) => normalisePhrasing(p.question)));
    const trainLoose = new Set(train.map((p) => loose(p.question)));
    for (const p of heldout) {
      assert.ok(!trainForms.has(normalisePhrasing(p.question)), p.question);
      assert.ok(!trainLoose.has(loose(p.question)), `even without punctuation: ${p.question}`);
    }
    // Training still covers every dimension.
    const trainTags = new Set(train.flatMap((p) => p.tags));
    for (const tag of ['formality:casual', 'formality:formal', 'directness:indirect', 'swap:confirm', 'punctuation:none']) {
      assert.ok(trainTags.has(tag), `${fact.subject}: train has ${tag}`);
    }
    assert.deepEqual(factPhrasings(fact, { minHeldout: 12 }).filter((p) => p.split === 'heldout').length >= 12, true);
  }
});

test('deterministic: the same facts give identical records', () => {
  const a = factRecords(FACTS);
  const b = factRecords(FACTS.map((f) => ({ ...f })));
  assert.deepEqual(a, b);
  assert.equal(new Set(a.map((r) => r.id)).size, a.length, 'ids are unique');
  assert.deepEqual(factId(FACTS[0] as Fact), factId({ subject: 'My  dog', relation: 'Name', value: 'pixel' }));
});

test('memory records: valid, with lineage, the system prompt, negatives and unknowns', () => {
  const records = factRecords(FACTS);
  for (const record of records) assert.deepEqual(validateRecord(record), { valid: true, errors: [] }, JSON.stringify(record));
  const system = renderSystemPrompt(FACTS);
  assert.ok(records.every((r) => r.system === system));
  for (const fact of FACTS) assert.ok(system.includes(`- ${fact.subject} — ${fact.relation}: ${fact.value}`));
  assert.ok(MEMORY_SYSTEM_TEMPLATE.includes('{facts}'));

  const ids = new Set(FACTS.map(factId));
  assert.ok(records.every((r) => 'factId' in r.source && ids.has(r.source.factId)));
  for (const fact of FACTS) {
    const own = records.filter((r) => 'factId' in r.source && r.source.factId === factId(fact));
    const negatives = own.filter((r) => r.kind === 'negative');
    assert.ok(negatives.length >= 1, `${fact.subject}: has negatives`);
    for (const n of negatives) {
      assert.ok(!mentionsValue(n.question, fact.value) && !mentionsValue(n.answer, fact.value), `${n.question} / ${n.answer}`);
      assert.ok(!n.answer.toLowerCase().includes(fact.value.toLowerCase()));
    }
    assert.ok(own.filter((r) => r.kind === 'fact' && r.split === 'heldout').length >= 5);
  }
  const unknowns = records.filter((r) => r.kind === 'unknown');
  assert.ok(unknowns.length >= FACTS.length, `${unknowns.length} unknown examples`);
  const relationKey = (relation: string) => (relationFamily(relation) === 'location' ? 'location' : relation.toLowerCase());
  const known = new Set(FACTS.map((f) => `${f.subject.toLowerCase()}|${relationKey(f.relation)}`));
  for (const u of unknowns) {
    assert.equal(u.value, '');
    assert.match(u.answer, /don't know|haven't told|never mentioned/);
    assert.ok(!known.has(`${u.subject.toLowerCase()}|${relationKey(u.relation)}`), `${u.subject} / ${u.relation} is not a given fact`);
  }
  assert.ok(unknowns.some((u) => u.question === "What is my cat's name?" || u.subject === 'my cat' || u.relation !== 'name'));
  // No question is asked twice with different answers.
  const byQuestion = new Map<string, string>();
  for (const r of records) {
    const key = normalisePhrasing(r.question);
    assert.ok(!byQuestion.has(key) || byQuestion.get(key) === r.answer, r.question);
    byQuestion.set(key, r.answer);
  }
});

test('a question two facts would answer differently is dropped', () => {
  const records = factRecords([
    { subject: 'my dog', relation: 'name', value: 'Sam' },
    { subject: 'my cat', relation: 'name', value: 'Sam' },
  ]);
  assert.ok(!records.some((r) => r.question === 'Whose name is Sam?'));
  assert.ok(records.some((r) => r.question === "What's my cat's name?"));
  assert.ok(!records.some((r) => r.kind === 'unknown' && r.subject === 'my cat' && r.relation === 'name'));
});

test('a custom system prompt: the template with {facts}, or a prompt followed by the default', () => {
  const one = [FACTS[0] as Fact];
  assert.equal(factRecords(one, { systemPrompt: 'Known: {facts}' })[0]?.system, 'Known: - my dog — name: Pixel');
  assert.ok(factRecords(one, { systemPrompt: 'Be brief.' })[0]?.system.startsWith('Be brief.\n\nYou are a personal assistant.'));
  assert.throws(() => renderSystemPrompt(one, 'no placeholder'), /\{facts\}/);
});

test('YAML and JSON facts files parse the same', () => {
  const fromYaml = parseFacts(YAML, 'facts.yaml');
  const fromJson = parseFacts(JSON.stringify(FACTS.slice(0, 3)), 'facts.json');
  assert.deepEqual(fromYaml, FACTS.slice(0, 3));
  assert.deepEqual(fromJson, fromYaml);
  assert.deepEqual(parseFacts(JSON.stringify({ facts: FACTS.slice(0, 3) }), 'facts.json'), fromYaml);
  assert.deepEqual(parseFacts('- {subject: my son, relation: age, value: 7}', 'f.yml'), [
    { subject: 'my son', relation: 'age', value: '7' },
  ]);
  // Whatever YAML reads as a number or a yes/no is taken as its text, .inf and .nan included.
  assert.deepEqual(
    parseFacts('- {subject: I, relation: vegan, value: true}\n- {subject: I, relation: lucky number, value: .inf}', 'f.yml').map(
      (f) => f.value,
    ),
    ['true', 'Infinity'],
  );
  assert.deepEqual(parseFacts('[]', 'empty.json'), []);
});

test('a bad facts file names the file and the entry', () => {
  assert.throws(() => parseFacts('- {subject: my dog, relation: name, value: Pixel}\n- {subject: I, value: Utrecht}', 'me.yaml'), {
    message: 'me.yaml: facts[1]: "relation" must be a non-empty string',
  });
  assert.throws(
    () => parseFacts('[{"subject": "I", "relation": "name", "value": ""}]', 'me.json'),
    /^Error: me\.json: facts\[0\]: "value" must be a non-empty string$/,
  );
  assert.throws(() => parseFacts('- {subject: I, relation: name, vaule: Sam}', 'me.yaml'), /me\.yaml: facts\[0\]: unknown key "vaule"/);
  assert.throws(() => parseFacts('- just a string', 'me.yaml'), /me\.yaml: facts\[0\]: expected an object/);
  assert.throws(
    () => parseFacts('- {subject: I, relation: live in, value: A}\n- {subject: me, relation: lives in, value: B}', 'me.yaml'),
    /me\.yaml: facts\[1\]: repeats the subject and relation of facts\[0\]/,
  );
  assert.throws(() => parseFacts('subject: I', 'me.yaml'), /me\.yaml: expected a list of facts/);
  assert.throws(() => parseFacts('- {subject: I, relation: [', 'broken.yaml'), /^Error: broken\.yaml: not valid YAML or JSON/);
  assert.throws(() => parseFacts('[{"subject": "I",}', 'broken.json'), /^Error: broken\.json: not valid YAML or JSON/);
});
