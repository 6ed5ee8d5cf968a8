// Examples for the refinement model: every user turn of the annotated real conversations that
// reacts to an answer, with the features the segmenter computes and whether the gold marks it as
// the trigger of a refinement episode. Shared by the fitting script and the quality bench (which
// scores the model leave-one-conversation-out).
import { conversationRefinementTurns, turnEvidence } from '@trajectory/segmentation';
import { loadRefinementGold } from './refinement-gold.mjs';

/** Examples of one conversation, given its gold annotation. */
export function conversationExamples(conversation, annotation) {
  const { messageIds, turns, cues } = conversationRefinementTurns(conversation);
  const triggers = new Set((annotation?.refinements ?? []).map((r) => r.trigger));
  const examples = [];
  turns.forEach((_, i) => {
    const evidence = turnEvidence(turns, i, cues);
    if (evidence) examples.push({ group: conversation.id, features: evidence.features, label: triggers.has(messageIds[i]) ? 1 : 0 });
  });
  return examples;
}

/** The annotated conversations of the given gold sets with their examples. */
export async function refinementExamples(sets = ['dev', 'heldout']) {
  const all = [];
  for (const set of sets) {
    const { gold, conversations } = await loadRefinementGold(set);
    for (const conversation of conversations) {
      const annotation = gold.conversations[conversation.id];
      if (!annotation) continue;
      all.push({ set, conversation, annotation, examples: conversationExamples(conversation, annotation) });
    }
  }
  return all;
}
