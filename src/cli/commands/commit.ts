// `docker commit` / `docker container commit` with docker CLI 28.2's flags;
// prints the new image's ID.
import type { Command } from 'commander';
import type { ApiClient } from '../client.js';
import { collect, defineCommand } from '../command.js';
import { CliError } from '../errors.js';
import { fullName, parseReference } from '../../images/reference.js';

interface CommitFlags {
  author?: string;
  change?: string[];
  message?: string;
  pause?: boolean | string;
}

function defineCommit(parent: Command, client: () => ApiClient): void {
  defineCommand<CommitFlags>(
    parent,
    {
      name: 'commit',
      use: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
      description: "Create a new image from a container's changes",
      arity: { range: [1, 2] },
      stopAtFirstArg: true,
    },
    (cmd) =>
      cmd
        .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
        .option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect)
        .option('-m, --message <string>', 'Commit message')
        .option('-p, --pause [bool]', 'Pause container during commit', true),
    async (args, opts) => {
      const [container, reference] = args as [string, string | undefined];
      let repo = '';
      let tag = '';
      if (reference !== undefined && reference !== '') {
        const ref = parseReference(reference);
        if (ref.digest !== undefined) throw new CliError('refusing to create a tag with a digest reference');
        repo = fullName(ref);
        tag = ref.tag ?? 'latest';
      }
      const pause = opts.pause !== false && String(opts.pause) !== 'false';
      const params = new URLSearchParams({ author: opts.author ?? '', comment: opts.message ?? '', container, repo, tag });
      for (const c of opts.change ?? []) params.append('changes', c);
      if (!pause) params.set('pause', '0');
      const r = await client().json<{ Id: string }>('POST', `/commit?${params.toString()}`);
      process.stdout.write(`${r.Id}\n`);
    },
  );
}

/** commit at the top level and under `container`. */
export function registerCommitCommands(program: Command, client: () => ApiClient): void {
  defineCommit(program, client);
  const container = program.commands.find((c) => c.name() === 'container');
  if (container !== undefined) defineCommit(container, client);
}
