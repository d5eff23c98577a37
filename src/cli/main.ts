#!/usr/bin/env -S node --
// berth: the command line. Every command talks to berthd over the Engine API.
import { Command } from 'commander';
import { ApiClient } from './client.js';
import { installErrorHandling, UsageExit } from './command.js';
import { exitCodeFor, formatError } from './errors.js';
import { registerVolumeCommands } from './commands/volume.js';
import { registerSystemCommands } from './commands/system.js';
import { registerContainerCommands } from './commands/container.js';
import { registerImageCommands } from './commands/image.js';
import { registerInspectCommand } from './commands/inspect.js';
import { registerCommitCommands } from './commands/commit.js';
import { registerBackupCommands } from './commands/backup.js';

let client: ApiClient | undefined;
const getClient = () => (client ??= new ApiClient());

const program = new Command('berth')
  .description('A Docker-compatible volume engine')
  .usage('[OPTIONS] COMMAND')
  .option('-H, --host <string>', 'Daemon socket to connect to')
  .version('0.1.0', '-v, --version', 'Print version information and quit');
installErrorHandling(program);
program.hook('preAction', (thisCommand) => {
  const host = thisCommand.opts<{ host?: string }>().host;
  if (host) process.env.BERTH_HOST = host.startsWith('/') ? `unix://${host}` : host;
});

registerVolumeCommands(program, getClient);
registerSystemCommands(program, getClient);
registerContainerCommands(program, getClient);
registerImageCommands(program, getClient);
registerCommitCommands(program, getClient);
registerInspectCommand(program, getClient);
registerBackupCommands(program, getClient);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof UsageExit) process.exit(e.code);
  process.stderr.write(formatError(e));
  process.exit(exitCodeFor(e));
}
