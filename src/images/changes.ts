// `docker import --change` / `docker commit --change`: Dockerfile
// instructions applied to a container config. As dockerd's
// BuildFromConfig, the changes are joined with newlines and parsed as a
// Dockerfile (so line continuations work), only the instructions that
// change the config are taken, and each is expanded against the
// environment before it and applied with the builder's own dispatchers.
import { InvalidParameter } from '../errors.js';
import { parseDockerfile } from '../build/dockerfile/parser.js';
import { parseInstruction } from '../build/dockerfile/instructions.js';
import { envFromList, ShellLex } from '../build/dockerfile/shell-lex.js';
import { applyConfigInstruction, expandInstruction, isConfigInstruction, normalizeWorkdir, type ConfigState } from '../build/config-instructions.js';
import type { ImageRuntimeConfig } from './types.js';

const VALID = new Set(['cmd', 'entrypoint', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir', 'healthcheck']);

/**
 * Applies `changes` (each a Dockerfile instruction, e.g. `CMD ["sh"]`,
 * `ENV A=1 B=2`) to a copy of `base` and returns it.
 */
export function applyChanges(changes: readonly string[], base: ImageRuntimeConfig = {}): ImageRuntimeConfig {
  const state: ConfigState = { runConfig: structuredClone(base), cmdSet: false, maintainer: '' };
  if (changes.length === 0) return state.runConfig;
  const { nodes, escapeToken } = parseDockerfile(changes.join('\n'));
  for (const node of nodes) if (!VALID.has(node.value.toLowerCase())) throw new InvalidParameter(`${node.value} is not a valid change command`);
  const lex = new ShellLex(escapeToken);
  for (const node of nodes) {
    const c = state.runConfig;
    const env = envFromList(c.Env ?? []);
    const instruction = parseInstruction(node);
    if (!('kind' in instruction)) continue;
    const expanded = expandInstruction(instruction, lex, env);
    if (expanded.kind === 'workdir') c.WorkingDir = normalizeWorkdir(c.WorkingDir ?? '', expanded.path);
    else if (isConfigInstruction(expanded)) applyConfigInstruction(state, expanded, lex, env, () => undefined);
  }
  return state.runConfig;
}
