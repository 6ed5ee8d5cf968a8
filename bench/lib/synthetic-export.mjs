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

export const TOOL_CALL_MARK = 'zzToolCallMark';
export const TOOL_OUTPUT_MARK = 'zzToolOutputMark';

/** mulberry32: a small seeded PRNG, numbers in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
function toolChain(tree, parent, random) {
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
  if (random() < 0.85) at = tree.text(at, 'assistant', `Based on what I found: ${pick(random, ANSWERS)}`);
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
  const random = prng(seed);
  return Array.from({ length: count }, (_, i) => syntheticConversation(i, random));
}
