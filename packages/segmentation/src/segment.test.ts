import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Edge, Message } from '@trajectory/contracts';
import { RELATION_TABLE } from '@trajectory/relations';
import { conversationOf } from './conversation.test-helper.js';
import { compileMarkers } from './markers.js';
import { type Segmentation, segmentConversation } from './segment.js';

const textOf = (s: Segmentation, id: string) => s.nodes.find((n) => n.id === id)?.text ?? `?${id}`;
/** Edges of one relation as "from text => to text", for readable assertions. */
const relations = (s: Segmentation, relation: string) =>
  s.edges.filter((e) => e.relation === relation).map((e) => `${textOf(s, e.fromId)} => ${textOf(s, e.toId)}`);
const edgeOf = (s: Segmentation, relation: string, fromText: RegExp): Edge | undefined =>
  s.edges.find((e) => e.relation === relation && fromText.test(textOf(s, e.fromId)));

/**
 * A variant of the design's own example (fixtures/seed/laptop.md): the last user turn restates the
 * first question, refined by the pushback.
 */
const LAPTOP: [string, string][] = [
  ['user', 'Which laptop should I buy for software development?'],
  [
    'assistant',
    'For software development a MacBook Air M2 with 8 GB of RAM is a good start: it is light, quiet and the battery lasts all day.',
  ],
  ['user', "8 GB won't be enough, I run Docker with several containers and a VM at the same time."],
  [
    'assistant',
    "You're right, with Docker and a VM you want 16 GB of RAM at least. A ThinkPad T14 with 16 GB or a MacBook Pro with 16 GB would handle that workload.",
  ],
  ['user', 'So which laptop with 16 GB of RAM for software development with Docker should I buy, under 1500 euros?'],
  ['assistant', 'Within 1500 euros the ThinkPad T14 Gen 4 with 16 GB of RAM is the best fit for Docker and a VM.'],
];

test('the laptop example: the last user turn refines the first question and a chain ends there', async () => {
  const s = await segmentConversation(conversationOf(LAPTOP), { embedder: null });
  const first = s.nodes.find((n) => n.text.startsWith('Which laptop'));
  const last = s.nodes.find((n) => n.text.startsWith('So which laptop'));
  assert.ok(first && last);
  const refines = s.edges.find((e) => e.relation === 'refines' && e.fromId === last.id && e.toId === first.id);
  assert.ok(refines, `expected "So which laptop" refines "Which laptop", got refines: ${relations(s, 'refines').join(' | ')}`);
  assert.ok(refines.confidence > 0.5 && refines.confidence <= 1);

  assert.equal(s.chains.length, 1);
  const [chain] = s.chains;
  assert.ok(chain);
  assert.equal(chain.nodeIds[0], first.id);
  assert.equal(chain.nodeIds.at(-1), last.id, 'the chain ends at the restated question');
  assert.deepEqual(chain.steps, ['idea', 'answer', 'challenge', 'revision', 'convergence']);
  assert.deepEqual(chain.tags, ['converged:restated', 'kind:pushback']);
  assert.ok(s.edges.some((e) => e.relation === 'iteration_final' && e.fromId === first.id && e.toId === last.id));
  // The revised answer refines the answer that was challenged.
  assert.deepEqual(
    relations(s, 'refines').filter((r) => r.startsWith("You're right")),
    [`${LAPTOP[3]?.[1]} => ${LAPTOP[1]?.[1]}`],
  );
  // Sequential edges stay beside the chain's: every node but the first follows its predecessor.
  assert.equal(relations(s, 'follows').length, s.nodes.length - 1);
  assert.equal(relations(s, 'responds').length, 3);
});

test('a message holds several nodes where a correction or a new paragraph topic starts; a node never mixes authors', async () => {
  const s = await segmentConversation(
    conversationOf([
      [
        'user',
        'I think the crash comes from the parser because the stack trace mentions tokens. Actually, the lexer emits the bad token first, so the bug is there.',
      ],
      ['assistant', 'So look at how the lexer handles unterminated strings at the end of the file.'],
    ]),
    { embedder: null },
  );
  const user = s.nodes.filter((n) => n.role === 'user');
  assert.deepEqual(
    user.map((n) => n.text),
    [
      'I think the crash comes from the parser because the stack trace mentions tokens.',
      'Actually, the lexer emits the bad token first, so the bug is there.',
    ],
  );
  assert.deepEqual(
    user.map((n) => [n.sentenceStart, n.sentenceEnd]),
    [
      [0, 1],
      [1, 2],
    ],
  );
  for (const node of s.nodes) assert.equal(node.messageIds.length, 1);
  assert.ok(edgeOf(s, 'refines', /^Actually, the lexer/), 'the correction refines the hypothesis');
  assert.ok(edgeOf(s, 'derives', /^So look at/), '"So" derives from the previous thought');
  assert.ok(edgeOf(s, 'responds', /^So look at/));
});

test('each marker relation is found from its opening words, with a confidence and the marker as a tag', async () => {
  const cases: [string, string, string][] = [
    ['derives', 'user', 'Therefore the cache has to be invalidated on every write to the table.'],
    ['hypothesizes', 'user', 'Maybe the timeout is too short for the first request after a deploy.'],
    ['speculates', 'user', 'What if every service kept its own copy of the schema in memory?'],
    ['clarifies', 'user', 'To clarify, I only need the read path to be fast, writes can wait.'],
    ['contrasts', 'user', 'But the old version handled this case without any retries at all.'],
    ['restarts', 'user', 'By the way, how do I rotate the API keys of the staging cluster?'],
  ];
  for (const [relation, role, text] of cases) {
    const s = await segmentConversation(
      conversationOf([
        ['assistant', 'The service writes each record to the table and caches it for five minutes.'],
        [role, text],
      ]),
      { embedder: null },
    );
    const edge = edgeOf(s, relation, new RegExp(`^${text.slice(0, 10)}`));
    assert.ok(edge, `${relation}: got ${s.edges.map((e) => e.relation).join(', ')}`);
    assert.ok(edge.confidence >= 0.5 && edge.confidence <= 1, `${relation} confidence ${edge.confidence}`);
    assert.ok(
      edge.tags.some((t) => t.startsWith('marker:')),
      `${relation} tags ${edge.tags}`,
    );
  }
});

test('markers of the second language: German openers give the same relations', async () => {
  const cases: [string, string][] = [
    ['derives', 'Deshalb muss der Cache bei jedem Schreiben geleert werden.'],
    ['hypothesizes', 'Vielleicht ist das Timeout für die erste Anfrage zu kurz.'],
    ['contrasts', 'Aber die alte Version kam ganz ohne Wiederholungen aus.'],
    ['restarts', 'Übrigens, wie rotiere ich die API-Schlüssel des Clusters?'],
    ['speculates', 'Was wäre wenn jeder Dienst das Schema selbst im Speicher hält?'],
    ['clarifies', 'Mit anderen Worten, nur der Lesepfad muss schnell sein.'],
  ];
  for (const [relation, text] of cases) {
    const s = await segmentConversation(
      conversationOf([
        ['assistant', 'Der Dienst schreibt jeden Datensatz in die Tabelle.'],
        ['user', text],
      ]),
      { embedder: null, languages: ['en', 'de'] },
    );
    const edge = edgeOf(s, relation, new RegExp(`^${text.slice(0, 8)}`));
    assert.ok(edge, `${relation}: got ${s.edges.map((e) => e.relation).join(', ')}`);
    assert.ok(edge.tags.includes('lang:de'));
  }
  // Without German configured, the German openers carry no relation.
  const english = await segmentConversation(
    conversationOf([
      ['assistant', 'Der Dienst schreibt jeden Datensatz in die Tabelle.'],
      ['user', 'Deshalb muss der Cache bei jedem Schreiben geleert werden.'],
    ]),
    { embedder: null, languages: ['en'] },
  );
  assert.deepEqual(english.edges.map((e) => e.relation).sort(), ['follows']);
});

test('responds links an answer to the question; follows links every node to its predecessor along branches', async () => {
  const conversation = conversationOf([
    ['user', 'How do I read a file line by line in Python?'],
    ['assistant', 'Open it with a with-statement and iterate over the file object.'],
  ]);
  // A regenerated answer: a sibling of m1 off the current branch.
  conversation.messages.push(
    Message.fromPartial({
      id: 'm1b',
      parentId: 'm0',
      role: 'assistant',
      text: 'Use readlines() and loop over the list.',
      onCurrentBranch: false,
    }),
  );
  const s = await segmentConversation(conversation, { embedder: null });
  assert.deepEqual(relations(s, 'responds').sort(), [
    'Open it with a with-statement and iterate over the file object. => How do I read a file line by line in Python?',
    'Use readlines() and loop over the list. => How do I read a file line by line in Python?',
  ]);
  assert.equal(relations(s, 'follows').length, 2);
  assert.ok(s.nodes.find((n) => n.text.startsWith('Use readlines'))?.onCurrentBranch === false);
});

test('a topic restart: explicit marker and a lexical shift both give restarts edges and topic boundaries', async () => {
  const turns: [string, string][] = [
    ['user', 'How long should I knead bread dough for a sourdough loaf?'],
    ['assistant', 'Knead the sourdough dough for about ten minutes until the dough is smooth and elastic.'],
    ['user', 'Should the sourdough dough rest in the fridge overnight?'],
    ['assistant', 'Yes, a cold overnight rest gives the sourdough loaf more flavour and an open crumb.'],
    ['user', 'New topic: my car battery dies every night, what drains a car battery when parked?'],
    ['assistant', 'A parked car battery is often drained by a faulty alternator diode or a light left on in the car.'],
    ['user', 'How do I test the car battery and the alternator myself?'],
    ['assistant', 'Measure the car battery voltage with a multimeter, then again with the engine running to test the alternator.'],
  ];
  const s = await segmentConversation(conversationOf(turns), { embedder: null });
  assert.deepEqual(s.topicBoundaries, [4]);
  const restart = edgeOf(s, 'restarts', /^New topic/);
  assert.ok(restart);
  assert.ok(restart.tags.includes('topic-shift'));
  assert.ok(s.nodes.find((n) => n.text.startsWith('New topic'))?.tags.includes('topic-start'));
});

test('a chain that converges on acceptance ends at the accepted revision, and none without a challenge', async () => {
  const accepted = await segmentConversation(
    conversationOf([
      ['user', 'How do I make the build faster in our CI pipeline?'],
      ['assistant', 'Cache node_modules between runs keyed on the lockfile.'],
      ['user', "That doesn't work, the cache is evicted after every run on our runners."],
      ['assistant', 'Instead, keep the npm cache folder and run npm ci with --prefer-offline.'],
      ['user', 'Thanks, that works: the build takes half the time now.'],
    ]),
    { embedder: null },
  );
  assert.equal(accepted.chains.length, 1);
  // What the chain settled on is the accepted revision, not the thanks.
  assert.deepEqual(accepted.chains[0]?.steps, ['idea', 'answer', 'challenge', 'revision']);
  assert.deepEqual(accepted.chains[0]?.tags, ['converged:accepted', 'kind:pushback']);
  assert.equal(
    textOf(accepted, accepted.chains[0]?.nodeIds.at(-1) ?? ''),
    'Instead, keep the npm cache folder and run npm ci with --prefer-offline.',
  );
  assert.ok(edgeOf(accepted, 'iteration_final', /^How do I make the build faster/));

  const plain = await segmentConversation(
    conversationOf([
      ['user', 'What is the capital of Australia?'],
      ['assistant', 'Canberra is the capital of Australia.'],
      ['user', 'And its population?'],
      ['assistant', 'About 460,000 people live in Canberra.'],
    ]),
    { embedder: null },
  );
  assert.deepEqual(plain.chains, []);
  assert.deepEqual(relations(plain, 'iteration_final'), []);
});

test('the same conversation always gives the same node ids, edges and chains', async () => {
  const a = await segmentConversation(conversationOf(LAPTOP), { embedder: null });
  const b = await segmentConversation(structuredClone(conversationOf(LAPTOP)), { embedder: null });
  assert.deepEqual(b, a);
  const other = await segmentConversation(conversationOf(LAPTOP, 'another'), { embedder: null });
  assert.equal(
    other.nodes.filter((n) => a.nodes.some((m) => m.id === n.id)).length,
    0,
    'ids include the conversation: equal text elsewhere is another node',
  );
  assert.equal(new Set(a.nodes.map((n) => n.id)).size, a.nodes.length);
});

test('code blocks stay with their explanation; a step cue opens a new node', async () => {
  const s = await segmentConversation(
    conversationOf([
      ['user', 'How do I deploy the service?'],
      [
        'assistant',
        'First, build the image with the service name as a build argument:\n\n```\ndocker build --build-arg SERVICE=graph .\n```\n\nNext, push the image to the registry and restart the deployment so that the new pods start.',
      ],
    ]),
    { embedder: null },
  );
  const assistant = s.nodes.filter((n) => n.role === 'assistant');
  assert.equal(assistant.length, 2);
  assert.ok(assistant[0]?.text.includes('```\ndocker build'));
  assert.ok(assistant[0]?.tags.includes('code'));
  assert.ok(assistant[1]?.text.startsWith('Next, push'));
});

test('the relation table drives detection: a new row is found with no code change', () => {
  const table = [
    ...RELATION_TABLE,
    {
      name: 'summarizes',
      detect: 'marker' as const,
      weight: 1,
      description: 'A summary of what came before.',
      markers: { start: { en: ['in short', 'tl;dr'] } },
    },
  ];
  const markers = compileMarkers(['en'], table);
  assert.equal(markers.relationOf('In short, the cache was stale.', 'user')?.relation, 'summarizes');
  assert.throws(() => compileMarkers(['xx']), /no relation markers for language\(s\) xx/);
});

test('with the embedding model: the laptop chain and its restated question, and a different segmenter name', async (t) => {
  const { loadSentenceEmbedder } = await import('@trajectory/embeddings');
  const embedder = await loadSentenceEmbedder();
  if (!embedder) {
    // devstack's setup fetches the model; under CI its absence is a broken setup, not a skip.
    assert.ok(!process.env.CI, 'CI is set but the embedding model is missing: run node packages/embeddings/scripts/fetch-model.mjs');
    t.skip('no embedding model here');
    return;
  }
  try {
    const s = await segmentConversation(conversationOf(LAPTOP), { embedder });
    assert.match(s.segmenter, /^cognitive\/v1\+all-MiniLM-L6-v2/);
    const [chain] = s.chains;
    assert.ok(chain);
    assert.equal(textOf(s, chain.nodeIds.at(-1) ?? ''), LAPTOP[4]?.[1]);
    const restated = s.edges.find((e) => e.relation === 'refines' && e.tags.includes('restated'));
    assert.equal(restated?.toId, chain.nodeIds[0]);
    assert.deepEqual(chain.steps, ['idea', 'answer', 'challenge', 'revision', 'convergence']);
    // Same input, same model: same output.
    assert.deepEqual(await segmentConversation(conversationOf(LAPTOP), { embedder }), s);
  } finally {
    await embedder.close();
  }
});

test('a marker must be the word it means: "Wait, ..." contrasts, "Wait for ..." does not', async () => {
  const markers = compileMarkers(['en', 'de']);
  assert.equal(markers.relationOf('Wait, that is the wrong flag.', 'user')?.relation, 'contrasts');
  assert.equal(markers.relationOf('Wait for the starter to peak, then mix.', 'assistant'), undefined);
  assert.equal(markers.relationOf('Sofort, ich prüfe das.', 'user'), undefined);
  assert.equal(markers.relationOf('Soon the release ships.', 'user'), undefined, '"so" needs a word boundary');
});

test('refinement cues: a correcting opener after an answer refines the request, in each configured language', async () => {
  const cases: [string, string, string][] = [
    ['en', 'Actually, I need it to run on Windows as well, not just Linux.', 'lang:en'],
    ['de', 'Eigentlich brauche ich das auch unter Windows, nicht nur unter Linux.', 'lang:de'],
    ['nl', 'Eigenlijk wil ik dat het ook op Windows draait, niet alleen op Linux.', 'lang:nl'],
  ];
  for (const [language, text, tag] of cases) {
    const s = await segmentConversation(
      conversationOf([
        ['user', 'How do I package the tool for Linux?'],
        ['assistant', 'Build a static binary and ship it as a tarball with an install script.'],
        ['user', text],
        ['assistant', 'Then cross-compile: build a second binary for Windows and ship a zip beside the tarball.'],
      ]),
      { embedder: null, languages: ['en', language] },
    );
    const edge = edgeOf(s, 'refines', new RegExp(`^${text.slice(0, 10)}`));
    assert.ok(edge, `${language}: got ${relations(s, 'refines').join(' | ')}`);
    assert.equal(textOf(s, edge.toId), 'How do I package the tool for Linux?', 'a self-refinement refines the request');
    assert.ok(edge.tags.includes('self-refine') && edge.tags.includes('cue:narrowing') && edge.tags.includes(tag), `${edge.tags}`);
    assert.equal(s.chains.length, 1);
  }
});

test('pushback: a pasted error after an answer is challenged and the next answer revises it', async () => {
  const s = await segmentConversation(
    conversationOf([
      ['user', 'How do I read the settings file in my Django view?'],
      ['assistant', 'Import it with `from myapp import settings_loader` and call `settings_loader.read()`.'],
      ['user', "I get: ModuleNotFoundError: No module named 'myapp.settings_loader'"],
      ['assistant', 'The error you are seeing means the module is not on the path: create myapp/settings_loader.py first.'],
      ['user', 'How do I add a second language to the site?'],
      ['assistant', 'Add LocaleMiddleware and list both languages in LANGUAGES.'],
    ]),
    { embedder: null },
  );
  const pushback = edgeOf(s, 'contrasts', /^I get: ModuleNotFoundError/);
  assert.ok(pushback, `contrasts: ${relations(s, 'contrasts').join(' | ')}`);
  assert.ok(pushback.tags.includes('pushback') && pushback.tags.includes('cue:error'), `${pushback.tags}`);
  assert.ok(edgeOf(s, 'refines', /^The error you are seeing/)?.tags.includes('after-pushback'));
  const [chain] = s.chains;
  assert.deepEqual(chain?.steps, ['idea', 'answer', 'challenge', 'revision']);
  assert.deepEqual(chain?.tags, ['converged:moved-on', 'kind:pushback']);
});

test('not refinements: a plain follow-up question, a request to reformat, an error in the first message', async () => {
  for (const turns of [
    [
      ['user', 'How do I sort a list of dicts by a key in Python?'],
      ['assistant', 'Use sorted(items, key=lambda d: d["name"]).'],
      ['user', 'And how do I sort it in reverse order?'],
      ['assistant', 'Pass reverse=True to sorted.'],
    ],
    [
      ['user', 'Write a short bio for my website.'],
      ['assistant', 'Pieter builds prototypes from ideas, with a heart for data.'],
      ['user', 'Can you put this in a table with one row per sentence?'],
      ['assistant', '| sentence |\n|---|\n| Pieter builds prototypes from ideas, with a heart for data. |'],
    ],
    [
      ['user', 'I get the following error: TypeError: Object of type datetime is not JSON serializable. What does it mean?'],
      ['assistant', 'json.dumps cannot serialise datetime objects: convert them with isoformat() first.'],
    ],
  ] as [string, string][][]) {
    const s = await segmentConversation(conversationOf(turns), { embedder: null });
    assert.deepEqual(relations(s, 'refines'), [], turns.map((t) => t[1]).join(' / '));
    assert.deepEqual(s.chains, []);
  }
});

test('markers are read in the language of the message: English "Also," and "Non-linear" carry no German or French marker', async () => {
  const s = await segmentConversation(
    conversationOf([
      ['user', 'How do I make the tests of my Django app run faster?'],
      [
        'assistant',
        'Run them in parallel with the --parallel flag of manage.py test.\n\nAlso, the database can be kept between runs with --keepdb, which saves the migrations.\n\nNon-linear speed-ups come from mocking slow network calls in the tests.',
      ],
    ]),
    { embedder: null },
  );
  assert.deepEqual(relations(s, 'derives'), [], 'German "also" (therefore) is not English "Also,"');
  assert.deepEqual(relations(s, 'contrasts'), [], 'French "non" is not the start of "Non-linear"');
  const german = await segmentConversation(
    conversationOf([
      ['user', 'Wie mache ich die Tests meiner Django-App schneller?'],
      [
        'assistant',
        'Die Tests laufen nacheinander und die Datenbank wird jedes Mal neu angelegt.\n\nAlso lohnt es sich, die Datenbank mit --keepdb zu behalten.',
      ],
    ]),
    { embedder: null },
  );
  assert.ok(edgeOf(german, 'derives', /^Also lohnt es sich/), `German "Also" derives: ${relations(german, 'derives')}`);
});
