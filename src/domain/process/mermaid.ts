// Draws a process as a Mermaid state diagram (`settle process diagram`, the README), so
// the picture is generated from the same data the engine runs and can never drift.
import { DEFAULT_SETTINGS } from '../settings.js';
import { formatTimeExpr, type TimePolicies } from './time.js';
import { START, branchesOf, resolveTarget, type ProcessDefinition } from './types.js';

export interface MermaidOptions {
  /** Policy values to show in deadlines (default: the default settings); null shows the policy names. */
  policies?: TimePolicies | null;
  /** Add each transition's guards to its label. */
  guards?: boolean;
  /** Add each state's description. */
  descriptions?: boolean;
}

// Mermaid reads '#…;' as an entity and ';' as a statement end; '<', '>' become HTML.
const clean = (text: string) => text.replace(/[;#<>\n\r]/g, ' ').replace(/\s+/g, ' ').trim();
const node = (state: string) => (state === START ? '[*]' : state);

export function toMermaid(process: ProcessDefinition, options: MermaidOptions = {}): string {
  const policies = options.policies === undefined ? DEFAULT_SETTINGS : (options.policies ?? undefined);
  const lines = ['stateDiagram-v2', `  %% ${clean(`${process.name} process, version ${process.version}`)} (generated)`];
  if (options.descriptions !== false) {
    for (const s of process.states) lines.push(`  ${s.name} : ${clean(s.description)}`);
  }
  for (const t of process.transitions) {
    let label = `${t.name} [${t.actors.join(', ')}]`;
    if (options.guards && t.guards?.length) label += ` if ${t.guards.join(' and ')}`;
    if (t.at) label += ` at ${formatTimeExpr(t.at, policies)}`;
    if (t.scheduledBy) label += ` at ${t.scheduledBy.replaceAll('_', ' ')}`;
    const branches = branchesOf(t);
    for (const from of t.from) {
      for (const b of branches) {
        const when = b.when ? ` when ${b.when}` : branches.length > 1 ? ' otherwise' : '';
        lines.push(`  ${node(from)} --> ${node(resolveTarget(b.to, from))} : ${clean(label + when)}`);
      }
    }
  }
  for (const s of process.states) if (s.terminal) lines.push(`  ${s.name} --> [*]`);
  return lines.join('\n') + '\n';
}
