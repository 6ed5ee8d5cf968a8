// Seeded synthetic ChatGPT exports (conversations.json with the `mapping` tree) for property
// tests: what real exports hold and a record generator must survive. Tool chains (browsing with
// tether_browsing_display and tether_quote, the code interpreter with execution_output, a plugin
// with an author name, a chain that the user interrupts), code blocks, regenerated answers and
// edited prompts (branches), empty, whitespace-only and image-only messages, very long messages,
// several languages and scripts, visible and hidden system messages, CRLF line endings, pasted
// transcripts whose lines start with "User:" / "Assistant:", and refinement episodes (pushback
// with an acknowledged revision, self-refinement, a restated question).
//
// Every tool call's text holds TOOL_CALL_MARK and every tool output's text TOOL_OUTPUT_MARK, so a
// test can tell where they went.

import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { mulberry32 } from '@trajectory/config/util';
import yazl from 'yazl';

export const TOOL_CALL_MARK = 'zzToolCallMark';
export const TOOL_OUTPUT_MARK = 'zzToolOutputMark';

const QUESTIONS = [
  'How do I configure multiple databases in Django?',
  'What does the -d flag do in docker compose?',
  'Can you explain how cookiecutter templates work?',
  'Hoe schrijf ik een offerte voor een softwareproject?',
  'Wie konfiguriere ich einen Reverse Proxy mit nginx?',
  'Comment fonctionne le ramasse-miettes de Python ?',
  '¿Cómo puedo ordenar una lista de diccionarios por una clave?',
  'Explain the difference between a process and a thread.',
  'Write a bash script that backs up my home folder every night.',
  '如何在 Python 中读取一个 CSV 文件？',
  'Как настроить SSH-ключи для GitHub?',
  'ما هو الفرق بين TCP و UDP؟',
  'Give me three names for a sourdough starter 🍞',
  'Why is my React component rendering twice?',
];

const ANSWERS = [
  'You can define several entries in the DATABASES setting and route queries with a database router.',
  'The -d flag starts the containers in detached mode: they run in the background and the command returns.',
  'Cookiecutter asks for the values of a template and renders a new project folder from it.',
  'Begin met de scope, de aannames en een planning per fase; noem de risico’s en wat buiten scope valt.',
  'Lege einen server-Block mit proxy_pass an und setze die Header Host und X-Forwarded-For.',
  'Python compte les références et un ramasse-miettes générationnel libère les cycles.',
  'Usa sorted(lista, key=lambda d: d["clave"]) o itemgetter del módulo operator.',
  'A process has its own memory; threads share the memory of their process.',
  '使用 csv 模块：with open("a.csv") as f: rows = list(csv.reader(f))',
  'Создайте ключ командой ssh-keygen и добавьте открытый ключ в настройки GitHub.',
  'TCP يضمن وصول البيانات بالترتيب، أما UDP فلا يضمن ذلك لكنه أسرع.',
  'Clint Yeastwood, Bread Pitt and Doughnald are classics.',
  'In development, React.StrictMode renders components twice to find side effects.',
];

const CODE = [
  '```python\nimport csv\nwith open("data.csv") as f:\n    for row in csv.reader(f):\n        print(row)\n```',
  '```bash\n#!/bin/sh\ntar czf "$HOME/backup-$(date +%F).tgz" "$HOME/docs"\n```',
  '```yaml\nservices:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: example\n```',
  '```\nUser: this line is code, not a turn\nAssistant: neither is this one\n```',
];

const PUSHBACK = [
  "That's wrong, I still get this error:\nTypeError: 'NoneType' object is not subscriptable",
  'This does not work, the container exits immediately.',
  'No, I asked for one DATABASES dictionary, not two settings files.',
  'Dat klopt niet, het script werkt niet.',
  'Das funktioniert nicht, ich bekomme immer noch einen Fehler.',
];
const SELF_REFINE = [
  "Actually, I'd rather have it limited to the standard library.",
  'I wasn’t clear: my laptop only has 16GB RAM.',
  'Kun je het daarop aanpassen? Het moet ook op Windows werken.',
];
const ACK = [
  "You're right, I apologize for the confusion. Here is a corrected version that uses a single dictionary.",
  'Excuseer, ik heb me vergist. Hier is een versie die wel werkt.',
  'Entschuldigung, das war falsch. So funktioniert es.',
  'Good point. With only 16GB of RAM, use a quantised 7B model instead.',
];
const FOLLOW_UPS = ['Please continue', 'Thanks, that works!', 'ok', 'Can you give an example?', 'And for Windows?', 'yes'];

const pick = (random, list) => list[Math.floor(random() * list.length)];

/** A user message of one of the kinds real exports hold. */
function userText(random, i) {
  const r = random();
  if (r < 0.04) return ''; // empty: dropped at ingestion
  if (r < 0.07) return ' \n\t '; // whitespace only
  if (r < 0.12) return `${pick(random, QUESTIONS)}\r\nLine two of a Windows message.\r\nUser: pasted line\r\n`;
  if (r < 0.17)
    return `Here is our chat from yesterday:\nUser: how do I start?\nAssistant: Run the installer.\nUser: and then?\nAssistant: Reboot.\n${pick(random, QUESTIONS)}`;
  if (r < 0.22) return `${pick(random, QUESTIONS)}\n\n${pick(random, CODE)}`;
  // very long: a pasted log line of 40-80k characters, and a pasted document of 150-300 sentences
  if (r < 0.24) return `${'data '.repeat(8000 + Math.floor(random() * 8000))}\n\nWhat is wrong with this log?`;
  if (r < 0.26) return `${'Very long pasted document. '.repeat(150 + Math.floor(random() * 150))}\n\nSummarise this.`;
  if (r < 0.3) return `   ${pick(random, QUESTIONS)}   `;
  if (r < 0.35) return pick(random, FOLLOW_UPS);
  return `${pick(random, QUESTIONS)} (${i})`;
}

function assistantText(random) {
  const r = random();
  if (r < 0.2) return `${pick(random, ANSWERS)}\n\n${pick(random, CODE)}\n\nDoes this help?`;
  if (r < 0.25) return `${'A long explanation. '.repeat(200)}\n\`\`\`\n${'x = 1\n'.repeat(3000)}\`\`\`\nIn short: ${pick(random, ANSWERS)}`;
  if (r < 0.3) return `Assistant: ${pick(random, ANSWERS)}\nUser: (an example of what you might ask next)`;
  return pick(random, ANSWERS);
}

/** Builds one conversation's mapping, node by node. */
class Tree {
  constructor(id, random, start) {
    this.id = id;
    this.random = random;
    this.mapping = { [`${id}-root`]: { id: `${id}-root`, message: null, parent: null, children: [] } };
    this.n = 0;
    this.time = start;
  }
  add(parent, role, content, { name = null, recipient = 'all', hidden = false } = {}) {
    const key = `${this.id}-m${this.n++}`;
    this.time += 1 + Math.floor(this.random() * 90);
    this.mapping[key] = {
      id: key,
      message: {
        id: key,
        author: { role, name, metadata: {} },
        create_time: this.time,
        update_time: null,
        content,
        status: 'finished_successfully',
        end_turn: role === 'assistant' ? true : null,
        weight: 1,
        metadata: hidden ? { is_visually_hidden_from_conversation: true } : {},
        recipient,
      },
      parent,
      children: [],
    };
    this.mapping[parent].children.push(key);
    return key;
  }
  text(parent, role, text, options) {
    return this.add(parent, role, { content_type: 'text', parts: [text] }, options);
  }
}

/** An assistant turn that works through a tool before (maybe) answering; returns the last node. */
function toolChain(tree, parent, random, answer = () => `Based on what I found: ${pick(random, ANSWERS)}`) {
  const kind = pick(random, ['browser', 'python', 'plugin']);
  let at = parent;
  const steps = 1 + Math.floor(random() * 3);
  for (let s = 0; s < steps; s++) {
    if (kind === 'browser') {
      at = tree.add(
        at,
        'assistant',
        { content_type: 'code', language: 'unknown', text: `# ${TOOL_CALL_MARK} look it up\nsearch("query ${s}")` },
        { recipient: 'browser' },
      );
      at = tree.add(
        at,
        'tool',
        s % 2 === 0
          ? {
              content_type: 'tether_browsing_display',
              result: `${TOOL_OUTPUT_MARK}\nURL: https://example.org/${s}\n【0†Docs】\nUser: a line of the page\n${'page text '.repeat(50)}`,
            }
          : {
              content_type: 'tether_quote',
              url: 'https://example.org',
              domain: 'example.org',
              title: 'Example',
              text: `${TOOL_OUTPUT_MARK} quoted text`,
            },
        { name: 'browser' },
      );
    } else if (kind === 'python') {
      at = tree.add(
        at,
        'assistant',
        { content_type: 'code', language: 'unknown', text: `# ${TOOL_CALL_MARK}\nimport math\nprint(math.pi)` },
        { recipient: 'python' },
      );
      at = tree.add(at, 'tool', { content_type: 'execution_output', text: `${TOOL_OUTPUT_MARK} 3.141592653589793` }, { name: 'python' });
    } else {
      at = tree.text(at, 'assistant', `{"route": "${TOOL_CALL_MARK}"}`, { recipient: 'show_me.get_MermaidRoute' });
      at = tree.text(at, 'tool', `${TOOL_OUTPUT_MARK} {"diagram": "graph TB; A-->B"}`, { name: 'show_me.get_MermaidRoute' });
    }
  }
  // Most chains end in an answer; some are interrupted by the user.
  if (random() < 0.85) at = tree.text(at, 'assistant', answer());
  return at;
}

/** One synthetic conversation in the ChatGPT export shape. */
export function syntheticConversation(index, random) {
  const id = `synthetic-${String(index).padStart(4, '0')}`;
  const tree = new Tree(id, random, 1_700_000_000 + index * 86_400);
  let at = `${id}-root`;
  if (random() < 0.7) at = tree.text(at, 'system', '', { hidden: true });
  if (random() < 0.15) at = tree.text(at, 'system', 'You are a helpful assistant. Answer briefly.');
  if (random() < 0.1)
    at = tree.add(
      at,
      'user',
      { content_type: 'user_editable_context', user_profile: 'I live in Utrecht.', user_instructions: 'Be brief.' },
      { hidden: true },
    );
  const exchanges = 1 + Math.floor(random() * 7);
  for (let i = 0; i < exchanges; i++) {
    const r = random();
    let prompt;
    if (i > 0 && r < 0.15) prompt = pick(random, PUSHBACK);
    else if (i > 0 && r < 0.25) prompt = pick(random, SELF_REFINE);
    else if (r < 0.28)
      prompt = null; // an image only
    else prompt = userText(random, i);
    if (random() < 0.1) {
      // an edited prompt: the original stays as a branch with its own answer
      const old = tree.text(at, 'user', `${userText(random, i)} (first try)`);
      tree.text(old, 'assistant', assistantText(random));
    }
    at =
      prompt === null
        ? tree.add(at, 'user', {
            content_type: 'multimodal_text',
            parts: [{ content_type: 'image_asset_pointer', asset_pointer: 'file-service://file-abc' }],
          })
        : tree.text(at, 'user', prompt);
    const acknowledged = PUSHBACK.includes(prompt) || SELF_REFINE.includes(prompt);
    if (random() < 0.15) {
      // a regenerated answer: the first reply is a branch the user left
      tree.text(at, 'assistant', assistantText(random));
      if (random() < 0.3) tree.text(at, 'assistant', assistantText(random));
    }
    if (random() < 0.05) {
      // a regenerated tool call, left behind
      toolChain(tree, at, random);
    }
    if (random() < 0.2) at = toolChain(tree, at, random);
    else at = tree.text(at, 'assistant', acknowledged ? pick(random, ACK) : assistantText(random));
    if (random() < 0.05) at = tree.text(at, 'assistant', 'Continuing where I stopped: the rest of the answer.');
  }
  if (random() < 0.2) {
    // the first question asked again in its refined form
    const first = Object.values(tree.mapping).find((n) => n.message?.author.role === 'user' && n.message.content.parts?.[0]);
    at = tree.text(at, 'user', `So maybe the real question is: ${first?.message.content.parts[0] ?? pick(random, QUESTIONS)}`);
    at = tree.text(at, 'assistant', pick(random, ANSWERS));
  }
  return {
    title: `Synthetic ${index}`,
    create_time: 1_700_000_000 + index * 86_400,
    update_time: tree.time,
    mapping: tree.mapping,
    moderation_results: [],
    current_node: at,
    plugin_ids: null,
    conversation_id: id,
    id,
  };
}

/** `count` synthetic conversations from `seed`: the same seed gives the same export. */
export function syntheticExport(count, seed = 1) {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => syntheticConversation(i, random));
}

// ---------- histories: seed-sized exports of many long conversations ----------
//
// syntheticConversation above is for property tests (every odd shape, in short conversations);
// a history is what `trajectory run` sees from a heavy user: conversations over years, most of
// them working through one problem with many turns, multi-paragraph answers with step cues and
// code, and the iterations real work has (a pasted error, a challenge and an acknowledged
// revision, a changed requirement, a restart, a restated question), in several languages, with
// the branches, tool chains and images of a real export. Text is slot-filled from small word
// lists with the seeded PRNG, so no two answers are near-duplicates (the samples service's gate
// fails a history that repeats itself) and the segmenter embeds sentences it has not cached.

/** The history the seed pipeline reported on (its counts, as BENCHMARKS.md cites them): what the default corpus is sized after. */
export const SEED_HISTORY = {
  conversations: 1122,
  nodes: 259_534,
  edges: 273_918,
  samples: 547_836,
  chains: 15_506,
  from: '2023-01-01T00:00:00Z',
  to: '2026-11-30T00:00:00Z',
};

const DOMAINS = [
  {
    things: ['CSV loader', 'pandas DataFrame', 'ETL job', 'parquet file', 'date column', 'groupby', 'schema', 'null values', 'batch size'],
    tools: ['pandas', 'polars', 'DuckDB', 'pyarrow', 'Airflow'],
    language: 'python',
    error: (r, n) =>
      `Traceback (most recent call last):\n  File "etl_${n}.py", line ${10 + (n % 90)}, in <module>\n    df = load(path)\n  File "etl_${n}.py", line ${3 + (n % 7)}, in load\n    return pd.read_csv(path, parse_dates=["created"])\nValueError: Missing column provided to 'parse_dates': 'created_${pick(r, ['at', 'on', 'ts'])}'`,
  },
  {
    things: [
      'Dockerfile',
      'compose file',
      'volume',
      'healthcheck',
      'reverse proxy',
      'TLS certificate',
      'container',
      'environment variable',
    ],
    tools: ['Docker', 'nginx', 'Traefik', 'systemd', 'Caddy'],
    language: 'yaml',
    error: (_r, n) =>
      `Error response from daemon: driver failed programming external connectivity on endpoint web_${n}: Bind for 0.0.0.0:${8000 + (n % 1000)} failed: port is already allocated`,
  },
  {
    things: ['React component', 'useEffect hook', 'state update', 'props', 'form', 'API call', 'render loop', 'context provider'],
    tools: ['React', 'Vite', 'TypeScript', 'Zustand', 'React Query'],
    language: 'tsx',
    error: (_r, n) =>
      `Uncaught Error: Too many re-renders. React limits the number of renders to prevent an infinite loop.\n    at renderWithHooks (react-dom.development.js:${14000 + n})\n    at OrderList_${n % 50} (OrderList.tsx:${20 + (n % 40)}:11)`,
  },
  {
    things: ['learning rate', 'LoRA adapter', 'tokenizer', 'eval loss', 'batch', 'checkpoint', 'gradient', 'quantised model'],
    tools: ['PyTorch', 'transformers', 'PEFT', 'bitsandbytes', 'vLLM'],
    language: 'python',
    error: (_r, n) =>
      `torch.OutOfMemoryError: CUDA out of memory. Tried to allocate ${(1 + (n % 9)) * 256}.00 MiB (GPU 0; 23.65 GiB total capacity; ${18 + (n % 5)}.12 GiB already allocated)`,
  },
  {
    things: ['query', 'index', 'join', 'migration', 'foreign key', 'transaction', 'query plan', 'table'],
    tools: ['PostgreSQL', 'SQLite', 'Neo4j', 'Prisma', 'SQLAlchemy'],
    language: 'sql',
    error: (_r, n) =>
      `ERROR:  duplicate key value violates unique constraint "orders_${n % 300}_pkey"\nDETAIL:  Key (id)=(${1000 + n}) already exists.`,
  },
  {
    things: ['thesis chapter', 'abstract', 'argument', 'literature review', 'paragraph', 'citation', 'outline', 'conclusion'],
    tools: ['Zotero', 'LaTeX', 'Overleaf', 'Word', 'Obsidian'],
    language: 'latex',
    error: (_r, n) => `! LaTeX Error: File \`chapter${n % 9}.bib' not found.\nl.${40 + (n % 60)} \\bibliography{chapter${n % 9}}`,
  },
  {
    things: ['sourdough starter', 'hydration', 'bulk fermentation', 'crumb', 'oven spring', 'levain', 'proof', 'crust'],
    tools: ['Dutch oven', 'banneton', 'scale', 'thermometer', 'stand mixer'],
    language: 'text',
    error: (_r, n) =>
      `Day ${1 + (n % 9)}: starter smells like acetone, rose only ${10 + (n % 40)}% in ${4 + (n % 8)} hours, kitchen at ${18 + (n % 6)} °C`,
  },
  {
    things: ['training plan', 'long run', 'tempo run', 'heart rate zone', 'rest day', 'race pace', 'taper', 'interval'],
    tools: ['Garmin', 'Strava', 'a treadmill', 'a heart rate strap', 'a spreadsheet'],
    language: 'text',
    error: (_r, n) =>
      `Week ${1 + (n % 16)}: ${20 + (n % 40)} km, average HR ${140 + (n % 30)}, left knee sore after the ${5 + (n % 10)} km tempo`,
  },
  {
    things: ['budget', 'invoice', 'quote', 'hourly rate', 'tax return', 'pension', 'savings goal', 'expense'],
    tools: ['a spreadsheet', 'YNAB', 'Excel', 'the bank app', 'Moneybird'],
    language: 'text',
    error: (_r, n) => `#VALUE! in cell D${2 + (n % 200)}: =SUMIFS(B:B;A:A;">="&DATE(2024;${1 + (n % 12)};1))`,
  },
];

const NAMES = ['orders', 'users', 'invoices', 'events', 'sessions', 'payments', 'notes', 'tickets', 'metrics', 'reports'];
const ADJECTIVES = ['slow', 'flaky', 'stale', 'too large', 'missing', 'duplicated', 'out of order', 'empty', 'inconsistent', 'fragile'];

// Words the sentence frames draw from: enough of them that two answers share about as many
// character 5-grams as two real answers do (Jaccard ~0.05, as the samples service's near-duplicate
// detection sees them), so its candidate pairs and the segmenter's work are those of real prose.
const WORDS = {
  noun: (
    'cache buffer queue worker thread request response header token session cookie router handler endpoint payload ' +
    'column row cursor transaction lock timeout retry backoff snapshot backup replica shard partition cluster pod ' +
    'image layer mount permission owner policy secret certificate signature checksum encoder decoder parser compiler ' +
    'linter formatter fixture mock assertion coverage benchmark profile trace span metric alert dashboard rotation ' +
    'archive upload download mirror proxy gateway firewall socket stream pipe channel topic subscriber publisher ' +
    'consumer producer offset epoch weight bias activation embedding vector matrix tensor kernel filter window frame ' +
    'deadline estimate contract meeting draft section footnote reference recipe ingredient oven dough flour starter ' +
    'schedule route hotel flight visa garden bike battery charger laptop monitor keyboard printer camera lens album ' +
    'playlist chord guitar spreadsheet formula pivot chart invoice receipt ledger account mortgage pension landlord ' +
    'neighbour teacher manager colleague client supplier warehouse shipment parcel label barcode sensor thermostat ' +
    'heater boiler radiator window roof ladder drill screw hinge paint primer brush canvas sketch font margin heading'
  ).split(' '),
  verb: (
    'check cache move split merge rename delete restore retry skip validate parse compile deploy restart rotate upgrade ' +
    'pin patch refactor profile measure compare sort filter group count stream buffer flush sync lock release schedule ' +
    'cancel queue publish index migrate seed encode decode compress extract load save export import upload download ' +
    'tag label wrap trim pad round clamp normalise resize crop rewrite simplify document review test debug log trace ' +
    'monitor throttle limit expand reduce replace swap reorder prefetch warm reset print plot weigh knead bake proof ' +
    'book pack ship email call plan budget invoice file sign scan paint sand drill mount fix clean'
  ).split(' '),
  adjective: (
    'small large stale fresh slow fast noisy quiet strict loose brittle robust cheap expensive local remote global ' +
    'nested flat sparse dense partial complete optional mandatory legacy modern verbose terse shared private public ' +
    'hidden visible manual automatic implicit explicit temporary permanent recursive iterative lazy eager blocking ' +
    'idle busy cold warm dirty clean broken stable random sorted encrypted compressed oversized undersized ' +
    'misconfigured outdated duplicated truncated corrupted readable unreadable'
  ).split(' '),
  adverb: (
    'quickly slowly carefully usually rarely already still mostly roughly exactly separately together later first ' +
    'again twice safely manually automatically gradually immediately eventually silently explicitly'
  ).split(' '),
};
/** Verbs and adjectives of the other languages (nouns stay English, as people write about their tools). */
const LOCAL_WORDS = {
  nl: {
    verb: 'controleren verplaatsen splitsen samenvoegen hernoemen verwijderen herstellen overslaan valideren opschonen testen meten vergelijken sorteren filteren tellen opslaan laden exporteren importeren uploaden bijwerken vervangen herschrijven vereenvoudigen'.split(
      ' ',
    ),
    adjective:
      'klein groot oud nieuw traag snel streng los kwetsbaar robuust goedkoop duur lokaal gedeeld verborgen handmatig automatisch tijdelijk kapot stabiel'.split(
        ' ',
      ),
  },
  de: {
    verb: 'prüfen verschieben aufteilen zusammenführen umbenennen löschen wiederherstellen überspringen validieren bereinigen testen messen vergleichen sortieren filtern zählen speichern laden exportieren importieren hochladen aktualisieren ersetzen umschreiben vereinfachen'.split(
      ' ',
    ),
    adjective:
      'klein groß alt neu langsam schnell streng locker fragil robust billig teuer lokal geteilt versteckt manuell automatisch temporär kaputt stabil'.split(
        ' ',
      ),
  },
  fr: {
    verb: 'vérifier déplacer découper fusionner renommer supprimer restaurer ignorer valider nettoyer tester mesurer comparer trier filtrer compter enregistrer charger exporter importer téléverser remplacer réécrire simplifier'.split(
      ' ',
    ),
    adjective:
      'petit grand ancien nouveau lent rapide strict fragile robuste coûteux local partagé caché manuel automatique temporaire cassé stable'.split(
        ' ',
      ),
  },
  es: {
    verb: 'revisar mover dividir fusionar renombrar borrar restaurar omitir validar limpiar probar medir comparar ordenar filtrar contar guardar cargar exportar importar subir reemplazar reescribir simplificar'.split(
      ' ',
    ),
    adjective:
      'pequeño grande antiguo nuevo lento rápido estricto frágil robusto caro local compartido oculto manual automático temporal roto estable'.split(
        ' ',
      ),
  },
};

/** English third person and past tense, regular forms: enough for generated prose. */
const thirdPerson = (v) => (/(s|sh|ch|x|z)$/.test(v) ? `${v}es` : /[^aeiou]y$/.test(v) ? `${v.slice(0, -1)}ies` : `${v}s`);
const pastTense = (v) => (v.endsWith('e') ? `${v}d` : /[^aeiou]y$/.test(v) ? `${v.slice(0, -1)}ied` : `${v}ed`);

/** Sentences per language: slots {t} and {u} (things), {x} (a tool), {n} (a number), {a} (an adjective), {f} (a file). */
const SENTENCES = {
  en: {
    ask: [
      'How do I make the {t} work with {x} when the {u} is {a}?',
      'What is the best way to handle the {t} for about {n} rows of {f}?',
      'Can you help me set up the {t} in {x}? The {u} keeps being {a}.',
      'I want to move the {t} from {x} to something simpler; where do I start?',
      'Why is my {t} {a} after I changed the {u}?',
      'Could you compare {x} and the {u} approach for the {t}?',
      'Should I {V} the {N} before or after the {t}? It is {J} right now.',
      'My {N} {Vs} the {u} {R} and I do not know why; the {t} is {J}.',
      'What is a {J} way to {V} the {N} in {x}?',
    ],
    explain: [
      'The {t} depends on the {u}, so when the {u} is {a} the result is {a} as well.',
      '{x} reads the {t} before it looks at the {u}, which is why the order matters here.',
      'With {n} items the {t} stays manageable, but the {u} will need a separate step.',
      'Keep the {t} small and let {x} take care of the {u} in one place.',
      'A common cause is that the {u} in {f} was written by an older version of {x}.',
      'This works because the {t} is computed once and the {u} only reads it.',
      'If the {u} grows beyond {n}, split the {t} into parts and process them one by one.',
      'The setting that matters most is the {t}; the {u} follows from it.',
      'You can check this quickly by printing the {t} right after {x} loads {f}.',
      'Most people run into this when the {u} and the {t} disagree about the format.',
      'The {N} {Vs} the {t} only when the {u} is {J}.',
      'If you {V} the {N} {R}, the {t} stays {J} and {x} does not need to {V} it again.',
      '{x} will {V} every {N} in {f}, which is {J} for about {n} entries.',
      'A {J} {N} usually means the {u} was not {Ved} before the {t}.',
      'You could {V} the {N} first and {V} the {u} afterwards; that keeps the {t} {J}.',
      'Try to {V} the {N} with {x}, then {V} the {u} {R}.',
      'Because the {N} is {J}, the {t} has to {V} the {u} {R}.',
      'In my experience the {J} {N} is the part that breaks once the {u} grows past {n}.',
      'Note that {x} does not {V} a {J} {N} by default, so {V} it yourself.',
      'The {u} in {f} looks {J}: {V} it and compare the {N} before and after.',
      'Another option is a {J} {N} that you {V} once per {u}.',
      'That way the {t} never has to {V} the {J} {N} twice.',
      'Keep an eye on the {N}: when it gets {J}, {V} the {u} before anything else.',
      'What matters is whether the {N} was {Ved} {R} or by {x} itself.',
    ],
    steps: ['First, ', 'Next, ', 'Then ', 'Finally, ', 'Step {k}: ', 'Option {k}: '],
    turns: ['However, ', 'Actually, ', 'So ', 'Instead, ', 'Because of that, ', 'On the other hand, ', 'In short, '],
    pushback: [
      "That's not right: the {t} is still {a} after your change.",
      'No, that does not work, I still get the same error with {x}.',
      'This is wrong, the {u} should not change at all.',
    ],
    error: ['I get this error when I run it:', 'Now it fails with this:', 'Running your version gives me:'],
    ack: [
      "You're right, I made a mistake with the {t}. Here is a corrected version.",
      'Sorry, that was wrong: the {u} has to be handled before the {t}. This version fixes it.',
      'Good catch. The error comes from the {u}; here is the revised {t}.',
    ],
    refine: [
      'Actually, I need the {t} to work without {x}.',
      'I forgot to mention that the {u} can be {a}; can you adapt it?',
      'Can you change it so the {t} also covers {f}?',
    ],
    restart: [
      "Let's start over. Forget the {t}; I want to try {x} instead.",
      'Scratch that, new approach: what if we drop the {u} completely?',
    ],
    restate: ['So the real question is: how do I keep the {t} from becoming {a}?', 'To put it differently: what should the {u} look like?'],
    short: [
      'Thanks, that works!',
      'ok',
      'Please continue',
      'Can you give an example with {f}?',
      'And for {x}?',
      'yes, go on',
      'Nice, the {N} is {J} now.',
      'ok, and how do I {V} the {N}?',
    ],
    detail: [
      'This is for {f}, about {n} rows.',
      'I run it with {x} on a {J} {N}.',
      'It has to {V} {n} of them every night.',
      'The {N} is {J} and I cannot {V} it.',
      'We {Ved} the {N} last week.',
    ],
    image: ['Here is a screenshot of the {t}, what do you see?', 'This is what the {u} looks like now.'],
  },
  nl: {
    ask: [
      'Hoe krijg ik de {t} werkend met {x} als de {u} {a} is?',
      'Wat is de beste manier om de {t} te regelen voor ongeveer {n} regels in {f}?',
      'Kun je me helpen de {t} op te zetten in {x}? De {u} blijft {a}.',
    ],
    explain: [
      'De {t} hangt af van de {u}, dus als de {u} {a} is wordt het resultaat dat ook.',
      '{x} leest eerst de {t} en kijkt daarna pas naar de {u}.',
      'Met {n} items blijft de {t} overzichtelijk, maar de {u} heeft een aparte stap nodig.',
      'Houd de {t} klein en laat {x} de {u} op één plek afhandelen.',
      'Een veelvoorkomende oorzaak is dat de {u} in {f} door een oudere versie van {x} is geschreven.',
      'Je kunt dit snel controleren door de {t} te printen nadat {x} {f} heeft geladen.',
      'Je kunt de {N} eerst {V} en daarna de {u}; dan blijft de {t} {J}.',
      'Als de {N} {J} is, moet je eerst de {u} {V}.',
      'Probeer de {N} met {x} te {V}, want de {t} is nu {J}.',
      'Een {J} {N} betekent meestal dat niemand de {u} heeft willen {V}.',
      'Met {n} regels in {f} is het beter om de {N} apart te {V}.',
    ],
    steps: ['Eerst ', 'Daarna ', 'Vervolgens ', 'Tot slot ', 'Stap {k}: '],
    turns: ['Maar ', 'Eigenlijk ', 'Dus ', 'In plaats daarvan ', 'Kortom, '],
    pushback: ['Dat klopt niet, de {t} is nog steeds {a}.', 'Nee, het werkt niet, ik krijg dezelfde fout met {x}.'],
    error: ['Ik krijg deze fout:', 'Nu gaat het hier mis:'],
    ack: [
      'Je hebt gelijk, ik heb me vergist met de {t}. Hier is een verbeterde versie.',
      'Excuses, de {u} moet eerst. Deze versie werkt wel.',
    ],
    refine: ['Eigenlijk wil ik de {t} zonder {x}.', 'Kun je het aanpassen zodat de {u} ook {a} mag zijn?'],
    restart: ['Laten we opnieuw beginnen. Vergeet de {t}, ik wil {x} proberen.'],
    restate: ['Dus de echte vraag is: hoe voorkom ik dat de {t} {a} wordt?'],
    short: ['Dank je, het werkt!', 'ok', 'Ga door', 'Kun je een voorbeeld geven met {f}?'],
    image: ['Hier is een screenshot van de {t}, wat zie je?'],
    detail: ['Het gaat om {f}, ongeveer {n} regels.', 'De {N} is {J} en ik kan hem niet {V}.'],
  },
  de: {
    ask: [
      'Wie bekomme ich die {t} mit {x} zum Laufen, wenn die {u} {a} ist?',
      'Was ist der beste Weg, die {t} für etwa {n} Zeilen in {f} zu behandeln?',
      'Kannst du mir helfen, die {t} in {x} einzurichten? Die {u} ist immer {a}.',
    ],
    explain: [
      'Die {t} hängt von der {u} ab, deshalb ist das Ergebnis auch {a}, wenn die {u} {a} ist.',
      '{x} liest zuerst die {t} und schaut erst dann auf die {u}.',
      'Mit {n} Einträgen bleibt die {t} überschaubar, aber die {u} braucht einen eigenen Schritt.',
      'Halte die {t} klein und lass {x} die {u} an einer Stelle erledigen.',
      'Eine häufige Ursache ist, dass die {u} in {f} von einer älteren Version von {x} stammt.',
      'Du kannst zuerst den {N} {V} und danach die {u}; so bleibt die {t} {J}.',
      'Wenn der {N} {J} ist, musst du zuerst die {u} {V}.',
      'Versuch, den {N} mit {x} zu {V}, denn die {t} ist gerade {J}.',
      'Ein {J} {N} heißt meistens, dass niemand die {u} {V} wollte.',
      'Bei {n} Zeilen in {f} ist es besser, den {N} getrennt zu {V}.',
    ],
    steps: ['Zuerst ', 'Danach ', 'Dann ', 'Zum Schluss ', 'Schritt {k}: '],
    turns: ['Aber ', 'Eigentlich ', 'Deshalb ', 'Stattdessen ', 'Kurz gesagt, '],
    pushback: ['Das stimmt nicht, die {t} ist immer noch {a}.', 'Das funktioniert nicht, ich bekomme denselben Fehler mit {x}.'],
    error: ['Ich bekomme diesen Fehler:', 'Jetzt scheitert es hier:'],
    ack: [
      'Du hast recht, ich habe mich bei der {t} geirrt. Hier ist eine korrigierte Version.',
      'Entschuldigung, die {u} muss zuerst kommen. So funktioniert es.',
    ],
    refine: ['Eigentlich brauche ich die {t} ohne {x}.', 'Kannst du es so anpassen, dass die {u} auch {a} sein darf?'],
    restart: ['Fangen wir von vorne an. Vergiss die {t}, ich will {x} ausprobieren.'],
    restate: ['Die eigentliche Frage ist also: wie verhindere ich, dass die {t} {a} wird?'],
    short: ['Danke, es funktioniert!', 'ok', 'Mach weiter', 'Kannst du ein Beispiel mit {f} geben?'],
    image: ['Hier ist ein Screenshot der {t}, was siehst du?'],
    detail: ['Es geht um {f}, etwa {n} Zeilen.', 'Der {N} ist {J} und ich kann ihn nicht {V}.'],
  },
  fr: {
    ask: [
      'Comment faire fonctionner le {t} avec {x} quand le {u} est {a} ?',
      'Quelle est la meilleure façon de gérer le {t} pour environ {n} lignes de {f} ?',
    ],
    explain: [
      'Le {t} dépend du {u}, donc si le {u} est {a} le résultat le sera aussi.',
      '{x} lit le {t} avant de regarder le {u}, et l’ordre compte ici.',
      'Avec {n} éléments le {t} reste gérable, mais le {u} demande une étape à part.',
      'Une cause fréquente est que le {u} dans {f} a été écrit par une ancienne version de {x}.',
      'Tu peux d’abord {V} le {N} puis le {u} ; le {t} reste alors {J}.',
      'Si le {N} est {J}, il faut d’abord {V} le {u}.',
      'Essaie de {V} le {N} avec {x}, car le {t} est {J} en ce moment.',
      'Avec {n} lignes dans {f}, il vaut mieux {V} le {N} à part.',
    ],
    steps: ["D'abord, ", 'Ensuite, ', 'Puis ', 'Enfin, ', 'Étape {k} : '],
    turns: ['Mais ', 'En fait, ', 'Donc ', 'Au lieu de cela, ', 'En bref, '],
    pushback: ["Ce n'est pas ça, le {t} est toujours {a}.", 'Non, ça ne marche pas, même erreur avec {x}.'],
    error: ["J'obtiens cette erreur :"],
    ack: ['Vous avez raison, je me suis trompé sur le {t}. Voici une version corrigée.'],
    refine: ['En fait, il me faut le {t} sans {x}.'],
    restart: ['Recommençons. Oublie le {t}, je veux essayer {x}.'],
    restate: ['Donc la vraie question est : comment éviter que le {t} devienne {a} ?'],
    short: ['Merci, ça marche !', 'ok', 'Continue'],
    image: ["Voici une capture d'écran du {t}."],
    detail: ["C'est pour {f}, environ {n} lignes.", 'Le {N} est {J} et je ne peux pas le {V}.'],
  },
  es: {
    ask: [
      '¿Cómo hago que el {t} funcione con {x} cuando el {u} está {a}?',
      '¿Cuál es la mejor forma de manejar el {t} para unas {n} filas de {f}?',
    ],
    explain: [
      'El {t} depende del {u}, así que si el {u} está {a} el resultado también.',
      '{x} lee el {t} antes de mirar el {u}, por eso el orden importa.',
      'Con {n} elementos el {t} sigue siendo manejable, pero el {u} necesita un paso aparte.',
      'Una causa común es que el {u} en {f} lo escribió una versión antigua de {x}.',
      'Puedes {V} primero el {N} y después el {u}; así el {t} sigue {J}.',
      'Si el {N} está {J}, primero tienes que {V} el {u}.',
      'Intenta {V} el {N} con {x}, porque el {t} está {J} ahora.',
      'Con {n} filas en {f}, es mejor {V} el {N} por separado.',
    ],
    steps: ['Primero, ', 'Después, ', 'Luego ', 'Por último, ', 'Paso {k}: '],
    turns: ['Pero ', 'En realidad, ', 'Entonces ', 'En cambio, ', 'En resumen, '],
    pushback: ['Eso no es correcto, el {t} sigue {a}.', 'No funciona, sigo con el mismo error en {x}.'],
    error: ['Me da este error:'],
    ack: ['Tienes razón, me equivoqué con el {t}. Aquí tienes una versión corregida.'],
    refine: ['En realidad necesito el {t} sin {x}.'],
    restart: ['Empecemos de nuevo. Olvida el {t}, quiero probar {x}.'],
    restate: ['Entonces la verdadera pregunta es: ¿cómo evito que el {t} esté {a}?'],
    short: ['¡Gracias, funciona!', 'ok', 'Sigue'],
    image: ['Aquí tienes una captura del {t}.'],
    detail: ['Es para {f}, unas {n} filas.', 'El {N} está {J} y no puedo {V}lo.'],
  },
};
/** Languages of a history's conversations, most English, as the seed pipeline's history was. */
const LANGUAGES = [
  ['en', 0.72],
  ['nl', 0.1],
  ['de', 0.08],
  ['fr', 0.05],
  ['es', 0.05],
];
/** Questions in scripts the marker table has no words for: a message now and then, as people switch. */
const OTHER_SCRIPTS = QUESTIONS.filter((q) => /[\u0400-\u04ff\u0600-\u06ff\u4e00-\u9fff]/.test(q));

/** Fills a sentence's slots from the conversation's domain and the language's words. */
function fill(random, template, domain, lang = 'en', k = 1) {
  const local = LOCAL_WORDS[lang] ?? WORDS;
  return template.replace(/\{(Vs|Ved|[tuxnafkNVJR])\}/g, (_, slot) => {
    if (slot === 't' || slot === 'u') return pick(random, domain.things);
    if (slot === 'x') return pick(random, domain.tools);
    if (slot === 'n') return String(10 + Math.floor(random() * 99_990));
    if (slot === 'a') return lang === 'en' ? pick(random, ADJECTIVES) : pick(random, local.adjective);
    if (slot === 'f')
      return `${pick(random, NAMES)}_${Math.floor(random() * 10_000)}.${pick(random, ['csv', 'json', 'md', 'log', 'xlsx'])}`;
    if (slot === 'N') return pick(random, WORDS.noun);
    if (slot === 'V') return pick(random, local.verb);
    if (slot === 'Vs') return thirdPerson(pick(random, WORDS.verb));
    if (slot === 'Ved') return pastTense(pick(random, WORDS.verb));
    if (slot === 'J') return pick(random, local.adjective);
    if (slot === 'R') return pick(random, WORDS.adverb);
    return String(k);
  });
}

function codeBlock(random, domain, n) {
  const name = `${pick(random, NAMES)}_${n}`;
  const lines = 4 + Math.floor(random() * 14);
  const body = Array.from({ length: lines }, (_, i) => {
    const v = `${pick(random, NAMES)}${i}`;
    return domain.language === 'sql'
      ? `  ${i ? 'AND ' : ''}${v}.id = ${Math.floor(random() * 1000)}`
      : domain.language === 'yaml'
        ? `  ${v}: "${Math.floor(random() * 100_000)}"`
        : `    ${v} = ${name}(${Math.floor(random() * 1000)})  # ${pick(random, ADJECTIVES)}`;
  });
  const head = domain.language === 'sql' ? `SELECT * FROM ${name} WHERE` : domain.language === 'yaml' ? `${name}:` : `def ${name}(x):`;
  return `\`\`\`${domain.language}\n${head}\n${body.join('\n')}\n\`\`\``;
}

/** An assistant answer: paragraphs of 1-4 sentences, some opening with a step cue or a turn marker, maybe code. */
function historyAnswer(random, lang, domain, { opening } = {}) {
  const s = SENTENCES[lang];
  const paragraphs = [];
  if (opening) paragraphs.push(`${fill(random, opening, domain, lang)} ${fill(random, pick(random, s.explain), domain, lang)}`);
  const count = 2 + Math.floor(random() * 5);
  const stepped = random() < 0.35;
  for (let p = 0; p < count; p++) {
    const sentences = Array.from({ length: 1 + Math.floor(random() * 4) }, () => fill(random, pick(random, s.explain), domain, lang));
    let lead = '';
    if (stepped) lead = fill(random, s.steps[Math.min(p, s.steps.length - 1)], domain, lang, p + 1);
    else if (p > 0 && random() < 0.3) lead = pick(random, s.turns);
    const first = sentences[0];
    sentences[0] = lead ? `${lead}${first[0].toLowerCase()}${first.slice(1)}` : first;
    paragraphs.push(sentences.join(' '));
    if (random() < 0.12) paragraphs.push(codeBlock(random, domain, Math.floor(random() * 10_000)));
  }
  return paragraphs.join('\n\n');
}

/** What the user does next: asks, follows up, pastes an error, pushes back, changes the requirement, restarts, restates. */
function historyMove(random, i) {
  if (i === 0) return 'ask';
  const r = random();
  if (r < 0.3) return 'ask';
  if (r < 0.38) return 'short';
  if (r < 0.5) return 'error';
  if (r < 0.62) return 'pushback';
  if (r < 0.72) return 'refine';
  if (r < 0.76) return 'restart';
  if (r < 0.8) return 'restate';
  if (r < 0.85) return 'image';
  return 'ask';
}

/** Exchanges of a conversation: most are short, a few very long (log-normal, mean about `mean`). */
function exchangeCount(random, mean) {
  const sigma = 1;
  const mu = Math.log(mean) - (sigma * sigma) / 2;
  const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.max(1, Math.min(Math.round(mean * 12), Math.round(Math.exp(mu + sigma * normal))));
}

/**
 * One conversation of a history, started at `start` (unix seconds), with about `meanExchanges`
 * user turns on average over many conversations.
 */
export function historyConversation(index, random, { start, meanExchanges }) {
  const id = `history-${String(index).padStart(5, '0')}`;
  const domain = pick(random, DOMAINS);
  let lang = 'en';
  for (let r = random(), acc = 0, k = 0; k < LANGUAGES.length; k++) {
    acc += LANGUAGES[k][1];
    if (r < acc) {
      lang = LANGUAGES[k][0];
      break;
    }
  }
  const s = SENTENCES[lang];
  const tree = new Tree(id, random, start);
  let at = `${id}-root`;
  at = tree.text(at, 'system', '', { hidden: true });
  if (random() < 0.1)
    at = tree.add(
      at,
      'user',
      { content_type: 'user_editable_context', user_profile: 'I work as a developer.', user_instructions: 'Be concise.' },
      { hidden: true },
    );
  const exchanges = exchangeCount(random, meanExchanges);
  let first = '';
  for (let i = 0; i < exchanges; i++) {
    // Now and then a conversation is taken up again days later.
    if (random() < 0.03) tree.time += 86_400 * (1 + Math.floor(random() * 20));
    const move = historyMove(random, i);
    const say = (list) => fill(random, pick(random, list), domain, lang);
    // What a person adds to a terse turn: the file, the numbers, the tool at hand.
    const detail = (text) => (random() < 0.7 ? `${text} ${say(s.detail)}` : text);
    let prompt;
    let opening;
    if (move === 'ask') {
      prompt = say(s.ask);
      if (random() < 0.3) prompt += `\n\n${say(s.explain)}`;
      if (random() < 0.02) prompt = `${pick(random, OTHER_SCRIPTS)} (${fill(random, '{x}, {f}', domain)})`;
      if (!first) first = prompt;
    } else if (move === 'short') prompt = say(s.short);
    else if (move === 'error')
      prompt = `${detail(pick(random, s.error))}\n\n\`\`\`\n${domain.error(random, Math.floor(random() * 100_000))}\n\`\`\``;
    else if (move === 'pushback' || move === 'refine') {
      prompt = detail(say(s[move]));
      opening = pick(random, s.ack);
    } else if (move === 'restart' || move === 'restate') prompt = detail(say(s[move]));
    if (move === 'error' && random() < 0.6) opening = pick(random, s.ack);

    if (random() < 0.06) {
      // an edited prompt: the first wording stays as a branch with its own answer
      const old = tree.text(at, 'user', say(s.ask));
      tree.text(old, 'assistant', historyAnswer(random, lang, domain));
    }
    at =
      move === 'image'
        ? tree.add(at, 'user', {
            content_type: 'multimodal_text',
            parts: [
              {
                content_type: 'image_asset_pointer',
                asset_pointer: `file-service://file-${index}-${i}`,
                size_bytes: 100_000 + Math.floor(random() * 900_000),
                width: 1024,
                height: 768,
              },
              detail(say(s.image)),
            ],
          })
        : tree.text(at, 'user', prompt);
    if (random() < 0.08) {
      // a regenerated answer: the first reply is a branch the user left
      tree.text(at, 'assistant', historyAnswer(random, lang, domain, { opening }));
    }
    const answer = () => historyAnswer(random, lang, domain, { opening });
    at = random() < 0.04 ? toolChain(tree, at, random, answer) : tree.text(at, 'assistant', answer());
  }
  if (first && random() < 0.1) {
    at = tree.text(at, 'user', `${fill(random, pick(random, s.restate), domain, lang)} ${first}`);
    at = tree.text(at, 'assistant', historyAnswer(random, lang, domain));
  }
  const title = fill(random, pick(random, s.ask), domain, lang).slice(0, 60);
  return {
    title,
    create_time: start,
    update_time: tree.time,
    mapping: tree.mapping,
    moderation_results: [],
    current_node: at,
    plugin_ids: null,
    conversation_id: id,
    id,
    default_model_slug: pick(random, ['gpt-4', 'gpt-4o', 'gpt-4o-mini', 'o3']),
  };
}

/**
 * A history of `count` conversations from `seed`, started at sorted random times between `from`
 * and `to` (more of them later, as use grows), yielded newest first as ChatGPT exports list them,
 * one at a time (a seed-sized history is ~200 MB of JSON). The same arguments give the same
 * history. `meanExchanges` (user turns per conversation, on average) sets its length: the default
 * gives about SEED_HISTORY.nodes / SEED_HISTORY.conversations cognitive nodes per conversation
 * with the service's segmenter (bench/generate-export.mjs --measure counts them).
 */
export function* historyConversations(count, { seed = 1, from = SEED_HISTORY.from, to = SEED_HISTORY.to, meanExchanges = 55 } = {}) {
  const random = mulberry32(seed);
  const t0 = Date.parse(from) / 1000;
  const span = Date.parse(to) / 1000 - t0;
  // sqrt: the density of conversations grows linearly over the years.
  const starts = Array.from({ length: count }, () => Math.floor(t0 + span * Math.sqrt(random()))).sort((a, b) => a - b);
  for (let i = count - 1; i >= 0; i--) yield historyConversation(i, random, { start: starts[i], meanExchanges });
}

/** historyConversations as an array. */
export const syntheticHistory = (count, options) => [...historyConversations(count, options)];

/**
 * Writes conversations (any iterable, consumed one shard at a time) as a ChatGPT export zip:
 * `conversations-000.json`, `-001`, ... of `perShard` conversations each, as large exports are
 * split, beside the account files a real export holds. Returns the zip's size, its shards and
 * the number of conversations.
 */
export async function writeExportZip(path, conversations, { perShard = 100 } = {}) {
  // A fixed time in the entries' headers: the same history gives the same bytes.
  const mtime = new Date(SEED_HISTORY.to);
  const zip = new yazl.ZipFile();
  const out = createWriteStream(path);
  zip.outputStream.pipe(out);
  const shards = [];
  let count = 0;
  let shard = [];
  const flush = async () => {
    const name = `conversations-${String(shards.length).padStart(3, '0')}.json`;
    const input = Readable.from([Buffer.from(JSON.stringify(shard))]);
    zip.addReadStream(input, name, { mtime });
    shards.push(name);
    shard = [];
    // yazl reads entries in order: once this one is read, the next shard may be generated.
    await once(input, 'end');
  };
  for (const conversation of conversations) {
    shard.push(conversation);
    count += 1;
    if (shard.length === perShard) await flush();
  }
  if (shard.length > 0 || shards.length === 0) await flush();
  zip.addBuffer(Buffer.from(JSON.stringify({ id: 'user-synthetic', email: 'someone@example.org', chatgpt_plus_user: true })), 'user.json', {
    mtime,
  });
  zip.addBuffer(Buffer.from('[]'), 'message_feedback.json', { mtime });
  zip.addBuffer(Buffer.from('<html><body>synthetic export</body></html>'), 'chat.html', { mtime });
  zip.end();
  await once(out, 'finish');
  return { bytes: statSync(path).size, shards, conversations: count };
}
