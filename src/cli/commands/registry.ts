// pull, push, login and logout with docker CLI 28.2's flags and output.
// Credentials come from config.json (docker-config.ts) and travel as
// X-Registry-Auth; a pull or push the daemon answers 401 asks for
// credentials once, as docker's privilege function does ("Login prior to
// pull:").
import type { Command } from 'commander';
import type { IncomingMessage } from 'node:http';
import { DaemonError, type ApiClient } from '../client.js';
import { defineCommand } from '../command.js';
import { CliError } from '../errors.js';
import { readInput, readSecret } from '../prompt.js';
import { authKey, convertToHostname, configPath, eraseAuth, INDEX_SERVER, registryAuthHeader, storeAuth, storedAuth } from '../docker-config.js';
import { displayJSONMessages, stdoutDisplay } from './jsonmessage.js';
import { encodeAuthHeader, hasCredentials, type AuthConfig } from '../../registry/auth.js';
import { familiarName, fullName, fullString, parseReference, type Reference } from '../../images/reference.js';

type Client = () => ApiClient;

const REGISTER_SUGGEST =
  "Log in with your Docker ID or email address to push and pull images from Docker Hub. If you don't have a Docker ID, head over to https://hub.docker.com/ to create one.";
const PAT_SUGGEST =
  'You can log in with your password or a Personal Access Token (PAT). Using a limited-scope PAT grants better security and is required for organizations using SSO. Learn more at https://docs.docker.com/go/access-tokens/';
const UNENCRYPTED_WARNING = (file: string): string =>
  `\nWARNING! Your credentials are stored unencrypted in '${file}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;

/** docker's PromptUserForCredentials. */
async function promptCredentials(argUser: string, argPassword: string, defaultUser: string, serverAddress: string): Promise<AuthConfig> {
  let user = argUser.trim();
  if (user === '') {
    if (serverAddress === INDEX_SERVER) {
      process.stdout.write(`${REGISTER_SUGGEST}\n`);
      if (!/^(0|false)$/i.test(process.env.DOCKER_CLI_HINTS ?? '')) process.stdout.write(`${PAT_SUGGEST}\n\n`);
    }
    const d = defaultUser.trim();
    user = (await readInput(d === '' ? 'Username: ' : `Username (${d}): `)) || d;
    if (user === '') throw new CliError('Error: Non-null Username Required');
  }
  let password = argPassword.trim();
  if (password === '') {
    password = await readSecret('Password: ');
    if (password === '') throw new CliError('Error: Password Required');
  }
  return { username: user, password, serveraddress: serverAddress };
}

/**
 * A pull or push as a JSON stream. With `action`, a 401 asks for credentials
 * once, as docker pull/push do; docker run's pull has no such prompt.
 */
async function registryStream(api: ApiClient, path: string, query: Record<string, string | undefined>, ref: Reference, action?: string): Promise<IncomingMessage> {
  const send = (auth: string): Promise<IncomingMessage> =>
    api.stream('POST', path, { query, headers: { 'X-Registry-Auth': auth } }).then((r) => r.res);
  try {
    return await send(registryAuthHeader(ref.domain));
  } catch (e) {
    if (action === undefined || !(e instanceof DaemonError) || e.status !== 401) throw e;
    process.stdout.write(`\nLogin prior to ${action}:\n`);
    // docker 28.2 prompts with Docker Hub's address whatever the registry (its privilege function does).
    const auth = await promptCredentials('', '', storedAuth(authKey(ref.domain)).username ?? '', INDEX_SERVER);
    return send(encodeAuthHeader(auth));
  }
}

/** The query a pull sends: fromImage is the full name, tag the tag or digest (none for all tags). */
function pullQuery(ref: Reference, platform: string | undefined): Record<string, string | undefined> {
  return { fromImage: fullName(ref), tag: ref.digest ?? ref.tag, platform: platform || undefined };
}

/** Pulls `ref`, printing the progress to `out` (null: nowhere); `prompt` asks for credentials on a 401 (docker pull, not run). */
export async function pullImage(api: ApiClient, ref: Reference, out: NodeJS.WritableStream | null, opts: { platform?: string; prompt?: boolean } = {}): Promise<void> {
  const res = await registryStream(api, '/images/create', pullQuery(ref, opts.platform), ref, opts.prompt ? 'pull' : undefined);
  const sink = out ?? { write: () => true };
  await displayJSONMessages(res, sink as NodeJS.WritableStream, out === process.stdout ? stdoutDisplay() : {});
}

/** distribution's ParseNormalizedNamed, with the CLI's wording for a bad reference. */
function parseNamed(input: string): Reference {
  try {
    return parseReference(input);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** A reference without tag or digest gets latest (and says so unless quiet); with `all`, a tag is refused. */
function withDefaultTag(ref: Reference, all: boolean, quiet: boolean): Reference {
  const nameOnly = ref.tag === undefined && ref.digest === undefined;
  if (all && !nameOnly) throw new CliError("tag can't be used with --all-tags/-a");
  if (all || !nameOnly) return ref;
  if (!quiet) process.stdout.write('Using default tag: latest\n');
  return { ...ref, tag: 'latest' };
}

function defineTransferCommands(parent: Command, client: Client): void {
  defineCommand<{ allTags?: boolean; quiet?: boolean; platform?: string; disableContentTrust?: boolean }>(
    parent,
    { name: 'pull', use: '[OPTIONS] NAME[:TAG|@DIGEST]', description: 'Download an image from a registry', arity: { exact: 1 } },
    (cmd) =>
      cmd
        .option('-a, --all-tags', 'Download all tagged images in the repository')
        .option('--disable-content-trust', 'Skip image verification', true)
        .option('--platform <string>', 'Set platform if server is multi-platform capable', process.env.DOCKER_DEFAULT_PLATFORM)
        .option('-q, --quiet', 'Suppress verbose output'),
    async (args, opts) => {
      const ref = withDefaultTag(parseNamed(args[0]!), !!opts.allTags, !!opts.quiet);
      await pullImage(client(), ref, opts.quiet ? null : process.stdout, { platform: opts.platform, prompt: true });
      process.stdout.write(`${fullString(ref)}\n`);
    },
  );

  defineCommand<{ allTags?: boolean; quiet?: boolean; platform?: string; disableContentTrust?: boolean }>(
    parent,
    { name: 'push', use: '[OPTIONS] NAME[:TAG]', description: 'Upload an image to a registry', arity: { exact: 1 } },
    (cmd) =>
      cmd
        .option('-a, --all-tags', 'Push all tags of an image to the repository')
        .option('--disable-content-trust', 'Skip image signing', true)
        .option('--platform <string>', 'Push a platform-specific manifest as a single-platform image to the registry.')
        .option('-q, --quiet', 'Suppress verbose output'),
    async (args, opts) => {
      const ref = withDefaultTag(parseNamed(args[0]!), !!opts.allTags, !!opts.quiet);
      if (ref.digest !== undefined) throw new CliError('cannot push a digest reference');
      const res = await registryStream(client(), `/images/${familiarName(ref)}/push`, { tag: ref.tag }, ref, 'push');
      if (opts.quiet) {
        await displayJSONMessages(res, { write: () => true } as unknown as NodeJS.WritableStream, { onAux: () => undefined });
        process.stdout.write(`${fullString(ref)}\n`);
        return;
      }
      await displayJSONMessages(res, process.stdout, stdoutDisplay(() => undefined));
    },
  );
}

function defineLoginCommands(program: Command, client: Client): void {
  defineCommand<{ username?: string; password?: string; passwordStdin?: boolean }>(
    program,
    { name: 'login', use: '[OPTIONS] [SERVER]', description: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.', arity: { max: 1 } },
    (cmd) =>
      cmd
        .option('-p, --password <string>', 'Password or Personal Access Token (PAT)')
        .option('--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin')
        .option('-u, --username <string>', 'Username'),
    async (args, opts) => {
      const user = opts.username ?? '';
      let password = opts.password ?? '';
      if (password !== '') {
        process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
        if (opts.passwordStdin) throw new CliError('--password and --password-stdin are mutually exclusive');
      }
      if (opts.passwordStdin) {
        if (user === '') throw new CliError('username is empty');
        const chunks: Buffer[] = [];
        for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
        password = Buffer.concat(chunks).toString('utf8').replace(/\n$/, '').replace(/\r$/, '');
      }
      const given = args[0] ?? '';
      const server = given !== '' && given !== 'docker.io' ? given : INDEX_SERVER;
      const key = server === INDEX_SERVER ? server : convertToHostname(server);
      const api = client();

      // Stored credentials first, when none were given.
      const stored = user === '' && password === '' ? storedAuth(key) : {};
      if (hasCredentials(stored) && stored.username !== undefined) {
        process.stderr.write(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
        process.stderr.write("\n Info -> To login with a different account, run 'docker logout' followed by 'docker login'\n\n\n");
        try {
          const r = await api.json<{ Status: string; IdentityToken?: string }>('POST', '/auth', { body: { ...stored, serveraddress: key } });
          if (storeAuth({ ...stored, serveraddress: key })) process.stderr.write(UNENCRYPTED_WARNING(configPath()));
          process.stdout.write(`${r.Status}\n`);
          return;
        } catch (e) {
          if (!(e instanceof DaemonError)) throw e;
          process.stderr.write(e.status === 401 ? 'Stored credentials invalid or expired\n' : `Login did not succeed, error: Error response from daemon: ${e.message}\n`);
        }
      }
      if ((user === '' || password === '') && process.stdin.isTTY !== true) {
        throw new CliError('Error: Cannot perform an interactive login from a non TTY device');
      }
      const auth = await promptCredentials(user, password, stored.username ?? '', key);
      const r = await api.json<{ Status: string; IdentityToken?: string }>('POST', '/auth', { body: auth });
      const toStore: AuthConfig = r.IdentityToken ? { username: auth.username, identitytoken: r.IdentityToken, serveraddress: key } : { ...auth, serveraddress: key };
      if (storeAuth(toStore)) process.stderr.write(UNENCRYPTED_WARNING(configPath()));
      process.stdout.write(`${r.Status}\n`);
    },
  );

  defineCommand(
    program,
    { name: 'logout', use: '[SERVER]', description: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.', arity: { max: 1 } },
    (cmd) => cmd,
    async (args) => {
      const given = args[0] ?? '';
      if (given === '') {
        process.stdout.write(`Removing login credentials for ${INDEX_SERVER}\n`);
        eraseAuth([INDEX_SERVER]);
        return;
      }
      const host = convertToHostname(given);
      process.stdout.write(`Removing login credentials for ${host}\n`);
      eraseAuth([given, host, `http://${host}`, `https://${host}`]);
    },
  );
}

/** pull and push at the top level and under `image`; login and logout at the top level. */
export function registerRegistryCommands(program: Command, imageGroup: Command, client: Client): void {
  defineTransferCommands(program, client);
  defineTransferCommands(imageGroup, client);
  defineLoginCommands(program, client);
}
