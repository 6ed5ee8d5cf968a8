import type { CognitiveNode, RefinementChainView } from '@trajectory/contracts/messages';
import { useState } from 'react';
import { api } from './api.js';
import { Link, Show, useLoad } from './common.js';
import { excerpt, when } from './format.js';
import { href, navigate } from './router.js';

const ORDERS = [
  { value: 'longest', title: 'Longest' },
  { value: 'recent', title: 'Most recent' },
  { value: 'oldest', title: 'Oldest' },
] as const;

type Order = (typeof ORDERS)[number]['value'];

const LIMIT = 50;

/** Refinement chains: an idea worked over, from the first idea through challenge and revision to where it settled. */
export function Chains({ params }: { params: URLSearchParams }) {
  const order: Order = ORDERS.find((o) => o.value === params.get('order'))?.value ?? 'longest';
  const tag = params.get('tag') ?? '';
  const open = params.get('chain');
  const [tagInput, setTagInput] = useState(tag);
  const [chains] = useLoad(`${order}\n${tag}`, () => api.chains(order, tag, LIMIT));
  const go = (next: { order?: Order; tag?: string; chain?: string | undefined }) =>
    navigate(
      href('/chains', { order: next.order ?? order, tag: next.tag ?? tag, chain: 'chain' in next ? next.chain : (open ?? undefined) }),
    );
  return (
    <section>
      <h1>Refinement chains</h1>
      <p className="lead">
        Each chain is an idea worked over in one conversation: the first idea, the challenge, the revision, where it settled.
      </p>
      <div className="controls">
        <fieldset className="segmented" aria-label="order">
          {ORDERS.map((o) => (
            <button key={o.value} type="button" aria-pressed={o.value === order} onClick={() => go({ order: o.value, chain: undefined })}>
              {o.title}
            </button>
          ))}
        </fieldset>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            go({ tag: tagInput.trim(), chain: undefined });
          }}
        >
          <label>
            Tag <input aria-label="tag" value={tagInput} onChange={(e) => setTagInput(e.target.value)} placeholder="any" />
          </label>
          <button type="submit">Filter</button>
          {tag && (
            <button
              type="button"
              onClick={() => {
                setTagInput('');
                go({ tag: '', chain: undefined });
              }}
            >
              Any tag
            </button>
          )}
        </form>
      </div>
      <Show loaded={chains}>
        {(list) =>
          list.length === 0 ? (
            <p className="muted">No refinement chains{tag ? ` tagged ${tag}` : ''} yet.</p>
          ) : (
            <ol className="chains">
              {list.map((view) => {
                const id = view.chain?.id ?? '';
                const isOpen = id === open;
                return (
                  <li key={id} className={isOpen ? 'open' : undefined}>
                    <button
                      type="button"
                      className="chain-summary"
                      aria-expanded={isOpen}
                      onClick={() => go({ chain: isOpen ? undefined : id })}
                    >
                      <span className="steps-count">{view.chain?.nodeIds.length ?? 0} steps</span>
                      <span className="chain-title">{view.conversationTitle || view.chain?.conversationId}</span>
                      <span className="muted">
                        {when(view.nodes[0]?.createdAt)} · {excerpt(view.nodes[0]?.text ?? '', 90)}
                      </span>
                      <span className="tags">
                        {view.chain?.tags.map((t) => (
                          <span key={t} className="tag">
                            {t}
                          </span>
                        ))}
                      </span>
                    </button>
                    {isOpen && <Timeline view={view} onTag={(t) => go({ tag: t, chain: undefined })} />}
                  </li>
                );
              })}
            </ol>
          )
        }
      </Show>
    </section>
  );
}

/** A chain as a timeline: each step with its role in the chain, who said it, when, and the message it came from. */
function Timeline({ view, onTag }: { view: RefinementChainView; onTag: (tag: string) => void }) {
  const chain = view.chain;
  if (!chain) return null;
  const nodes = new Map(view.nodes.map((n) => [n.id, n]));
  const steps = chain.nodeIds.map((id, i) => ({ node: nodes.get(id), id, step: chain.steps[i] ?? '' }));
  return (
    <div className="timeline" data-testid="timeline">
      <ol>
        {steps.map(({ node, id, step }, i) => (
          <li key={id} className={`step step-${step} role-${node?.role ?? 'unknown'}`}>
            <div className="step-head">
              <span className="step-name">{step || `step ${i + 1}`}</span>
              {i === steps.length - 1 && steps.length > 1 && <span className="final">iteration_final</span>}
              <span className="muted">{when(node?.createdAt)}</span>
            </div>
            <div className="step-who">{node?.role ?? '?'}</div>
            <p>{node?.text ?? `(node ${id} is not in the graph)`}</p>
            <MessageIds node={node} />
          </li>
        ))}
      </ol>
      <div className="timeline-foot">
        <Link to={href('/conversation', { id: chain.conversationId, focus: chain.nodeIds[0] })}>Open the conversation</Link>
        {chain.tags.map((t) => (
          <button key={t} type="button" className="tag" onClick={() => onTag(t)}>
            {t}
          </button>
        ))}
      </div>
    </div>
  );
}

function MessageIds({ node }: { node: CognitiveNode | undefined }) {
  if (!node || node.messageIds.length === 0) return null;
  return (
    <div className="muted small">
      from message{node.messageIds.length > 1 ? 's' : ''} <code>{node.messageIds.join(', ')}</code>
    </div>
  );
}
