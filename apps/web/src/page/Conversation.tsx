import type { CognitiveNode, ConversationGraph, Edge } from '@trajectory/contracts/messages';
import { useState } from 'react';
import { api } from './api.js';
import { Show, useLoad } from './common.js';
import { excerpt, when } from './format.js';
import { href, navigate } from './router.js';

/** A conversation as its node graph: any conversation id, or one opened from a chain or a record. */
export function Conversation({ params }: { params: URLSearchParams }) {
  const id = params.get('id') ?? '';
  const [input, setInput] = useState(id);
  const [graph] = useLoad(id || undefined, (key) => api.conversation(key));
  return (
    <section>
      <h1>Conversation</h1>
      <form
        className="controls"
        onSubmit={(event) => {
          event.preventDefault();
          if (input.trim()) navigate(href('/conversation', { id: input.trim() }));
        }}
      >
        <label>
          Conversation id <input aria-label="conversation id" value={input} onChange={(e) => setInput(e.target.value)} size={40} />
        </label>
        <button type="submit">Open</button>
      </form>
      {id ? (
        <Show loaded={graph}>{(g) => <GraphView key={g.conversationId} graph={g} focus={params.get('focus')} />}</Show>
      ) : (
        <p className="muted">Open a conversation from a chain or a spot-check record, or paste its id.</p>
      )}
    </section>
  );
}

/*
 * The layout: one row per node in conversation order, the person's nodes in the left column, the
 * assistant's in the right, any other role between them. An edge between the columns is a curve
 * across the gap; one inside a column an arc on its outer side. Every edge carries its relation.
 */
const ROW = 64;
const BOX_W = 300;
const BOX_H = 46;
const MARGIN = 130;
const GAP = 240;
const COLUMN_X: Record<string, number> = { user: MARGIN, assistant: MARGIN + BOX_W + GAP };
const MIDDLE_X = MARGIN + (BOX_W + GAP) / 2;
const WIDTH = MARGIN * 2 + BOX_W * 2 + GAP;

const columnX = (role: string) => COLUMN_X[role] ?? MIDDLE_X;

interface Placed {
  node: CognitiveNode;
  x: number;
  y: number;
}

function layout(nodes: CognitiveNode[]): Map<string, Placed> {
  return new Map(nodes.map((node, i) => [node.id, { node, x: columnX(node.role), y: 20 + i * ROW }]));
}

/**
 * An edge's path and where its label goes. `lane` separates edges between the same two nodes
 * (a refines and an iteration_final between the same pair would otherwise lie on each other).
 */
function edgePath(from: Placed, to: Placed, lane: number): { d: string; lx: number; ly: number } {
  const y1 = from.y + BOX_H / 2;
  const y2 = to.y + BOX_H / 2;
  if (from.x !== to.x) {
    const leftToRight = from.x < to.x;
    const x1 = leftToRight ? from.x + BOX_W : from.x;
    const x2 = leftToRight ? to.x : to.x + BOX_W;
    const mx = (x1 + x2) / 2 + lane * 36;
    return { d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`, lx: mx, ly: (y1 + y2) / 2 + lane * 12 };
  }
  // Same column: out to the outer side and back, further out the more rows it spans.
  const outward = from.x < MIDDLE_X ? -1 : 1;
  const side = outward < 0 ? from.x : from.x + BOX_W;
  const rows = Math.abs(y2 - y1) / ROW;
  const reach = Math.min(MARGIN - 10, 16 + 14 * rows + 30 * lane);
  const cx = side + outward * reach;
  return {
    d: `M ${side} ${y1} C ${cx} ${y1}, ${cx} ${y2}, ${side} ${y2}`,
    lx: side + outward * reach * 0.75,
    ly: (y1 + y2) / 2 + lane * 12,
  };
}

/** Each edge's lane: 0 for the first edge between its two nodes, 1 for the second, ... */
function lanes(edges: Edge[]): number[] {
  const seen = new Map<string, number>();
  return edges.map((e) => {
    const pair = [e.fromId, e.toId].sort().join('\n');
    const lane = seen.get(pair) ?? 0;
    seen.set(pair, lane + 1);
    return lane;
  });
}

function GraphView({ graph, focus }: { graph: ConversationGraph; focus: string | null }) {
  const [selected, setSelected] = useState<string | null>(focus);
  const [showFollows, setShowFollows] = useState(true);
  const placed = layout(graph.nodes);
  const edges = graph.edges.filter((e) => showFollows || e.relation !== 'follows');
  const edgeLanes = lanes(edges);
  const height = 40 + graph.nodes.length * ROW;
  const chosen = selected ? placed.get(selected)?.node : undefined;
  const inChain = new Set(graph.chains.flatMap((c) => c.nodeIds));
  const relations = [...new Set(graph.edges.map((e) => e.relation))].sort();
  return (
    <div className="conversation">
      <h2>{graph.title || graph.conversationId}</h2>
      <p className="muted">
        {graph.nodes.length} nodes, {graph.edges.length} edges, {graph.chains.length} refinement chain{graph.chains.length === 1 ? '' : 's'}{' '}
        · {relations.join(', ')}
      </p>
      <div className="legend">
        <span className="swatch role-user">user</span>
        <span className="swatch role-assistant">assistant</span>
        <span className="swatch role-other">other</span>
        <span className="swatch in-chain">in a refinement chain</span>
        <label>
          <input type="checkbox" checked={showFollows} onChange={(e) => setShowFollows(e.target.checked)} /> follows edges
        </label>
      </div>
      <div className="graph-and-detail">
        <svg
          className="graph"
          viewBox={`0 0 ${WIDTH} ${height}`}
          style={{ maxWidth: WIDTH }}
          role="img"
          aria-label={`node graph of ${graph.title || graph.conversationId}`}
        >
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" className="arrowhead" />
            </marker>
          </defs>
          <text x={MARGIN} y={12} className="column-title">
            user
          </text>
          <text x={COLUMN_X.assistant} y={12} className="column-title">
            assistant
          </text>
          {edges.map((edge, i) => (
            <EdgeView key={`${edge.fromId}-${edge.relation}-${edge.toId}`} edge={edge} placed={placed} lane={edgeLanes[i] ?? 0} />
          ))}
          {graph.nodes.map((node) => {
            const p = placed.get(node.id);
            if (!p) return null;
            const roleClass = COLUMN_X[node.role] !== undefined ? node.role : 'other';
            return (
              // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>; it takes the role and keys instead.
              <g
                key={node.id}
                className={`node role-${roleClass}${inChain.has(node.id) ? ' in-chain' : ''}${node.onCurrentBranch ? '' : ' off-branch'}${node.id === selected ? ' selected' : ''}`}
                transform={`translate(${p.x}, ${p.y})`}
                onClick={() => setSelected(node.id)}
                onKeyDown={(e) => e.key === 'Enter' && setSelected(node.id)}
                tabIndex={0}
                role="button"
                aria-label={`${node.role}: ${excerpt(node.text, 60)}`}
              >
                <rect width={BOX_W} height={BOX_H} rx={6} />
                <text x={8} y={18} className="node-meta">
                  {node.role} · {when(node.createdAt)}
                </text>
                <text x={8} y={36} className="node-text">
                  {excerpt(node.text, 44)}
                </text>
              </g>
            );
          })}
        </svg>
        <aside className="detail" aria-live="polite">
          {chosen ? (
            <>
              <h3>
                {chosen.role} · {when(chosen.createdAt)}
              </h3>
              <p className="node-full">{chosen.text}</p>
              <p className="muted small">
                node <code>{chosen.id}</code>
                <br />
                message{chosen.messageIds.length > 1 ? 's' : ''} <code>{chosen.messageIds.join(', ')}</code>
                {chosen.tags.length > 0 && (
                  <>
                    <br />
                    tags {chosen.tags.join(', ')}
                  </>
                )}
                {!chosen.onCurrentBranch && (
                  <>
                    <br />
                    on a branch the conversation left (a regenerated or edited turn)
                  </>
                )}
              </p>
              <ul className="small">
                {graph.edges
                  .filter((e) => e.fromId === chosen.id || e.toId === chosen.id)
                  .map((e) => (
                    <li key={`${e.fromId}-${e.relation}-${e.toId}`}>
                      {e.fromId === chosen.id ? 'this' : excerpt(placed.get(e.fromId)?.node.text ?? e.fromId, 30)} <b>{e.relation}</b>{' '}
                      {e.toId === chosen.id ? 'this' : excerpt(placed.get(e.toId)?.node.text ?? e.toId, 30)}
                      {e.confidence > 0 && e.confidence < 1 && <span className="muted"> ({e.confidence.toFixed(2)})</span>}
                    </li>
                  ))}
              </ul>
            </>
          ) : (
            <p className="muted">Click a node to read it whole.</p>
          )}
        </aside>
      </div>
    </div>
  );
}

function EdgeView({ edge, placed, lane }: { edge: Edge; placed: Map<string, Placed>; lane: number }) {
  const from = placed.get(edge.fromId);
  const to = placed.get(edge.toId);
  if (!from || !to) return null;
  const { d, lx, ly } = edgePath(from, to, lane);
  return (
    <g className={`edge rel-${edge.relation}`}>
      <path d={d} markerEnd="url(#arrow)" />
      <text x={lx} y={ly} textAnchor="middle" className="edge-label">
        {edge.relation}
      </text>
    </g>
  );
}
