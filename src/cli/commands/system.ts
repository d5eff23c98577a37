// `berth version`, `berth info`, `berth system df`, laid out as docker prints them.
import { arch, release } from 'node:os';
import type { Command } from 'commander';
import type { ApiClient } from '../client.js';
import { CLIENT_API_VERSION } from '../client.js';
import { defineCommand } from '../command.js';
import { renderInspect } from './volume.js';
import { bytesSize, humanSize } from '../../go/units.js';
import { tabwrite } from '../format/tabwriter.js';
import { compileTemplate } from '../../go/template.js';
import { renderList } from '../format/formatter.js';
import { ContainerContext, CONTAINER_HEADERS, IMAGE_HEADERS, imageRows } from './contexts.js';
import type { ApiContainerSummary, ApiImageSummary } from '../../api/types/index.js';

const CLI_VERSION = '0.1.0';
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

function kv(indent: string, pairs: Array<[string, string | number | boolean]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${indent}${`${k}:`.padEnd(width)}${v}\n`).join('');
}

export function registerSystemCommands(program: Command, client: () => ApiClient): void {
  defineCommand<{ format?: string }>(
    program,
    { name: 'version', use: '[OPTIONS]', description: 'Show the berth version information', arity: { none: true } },
    (cmd) => cmd.option('-f, --format <string>', 'Format output using a custom template'),
    async (_args, opts) => {
      const clientInfo = {
        Version: CLI_VERSION,
        ApiVersion: CLIENT_API_VERSION,
        NodeVersion: process.version,
        Os: 'linux',
        Arch: GO_ARCH[arch()] ?? arch(),
      };
      let server: Record<string, unknown> | undefined;
      let serverError: unknown;
      try {
        server = await client().json<Record<string, unknown>>('GET', '/version');
      } catch (e) {
        serverError = e;
      }
      if (opts.format) {
        const t = compileTemplate(opts.format);
        process.stdout.write(`${t({ Client: clientInfo, Server: server ?? null })}\n`);
      } else {
        let out = 'Client:\n';
        out += kv(' ', [
          ['Version', clientInfo.Version],
          ['API version', `${await client().apiVersion().catch(() => CLIENT_API_VERSION)}`],
          ['Node version', clientInfo.NodeVersion],
          ['OS/Arch', `${clientInfo.Os}/${clientInfo.Arch}`],
        ]);
        if (server) {
          const platform = (server.Platform as { Name?: string } | undefined)?.Name ?? '';
          out += `\nServer: ${platform}\n Engine:\n`;
          out += kv('  ', [
            ['Version', String(server.Version)],
            ['API version', `${String(server.ApiVersion)} (minimum version ${String(server.MinAPIVersion)})`],
            ['Runtime', String(server.GoVersion)],
            ['OS/Arch', `${String(server.Os)}/${String(server.Arch)}`],
            ['Kernel', String(server.KernelVersion ?? release())],
          ]);
        }
        process.stdout.write(out);
      }
      if (serverError) throw serverError;
    },
  );

  defineCommand<{ format?: string }>(
    program,
    { name: 'info', use: '[OPTIONS]', description: 'Display system-wide information', arity: { none: true } },
    (cmd) => cmd.option('-f, --format <string>', 'Format output using a custom template'),
    async (_args, opts) => {
      const info = await client().json<Record<string, unknown>>('GET', '/info');
      if (opts.format) {
        process.stdout.write(renderInspect([info], opts.format, (o) => o).replace(/^\[\n?|\n?\]\n$/g, ''));
        return;
      }
      const plugins = (info.Plugins ?? {}) as { Volume?: string[]; Network?: string[]; Log?: string[] };
      let out = 'Server:\n';
      out += kv(' ', [
        ['Containers', Number(info.Containers ?? 0)],
      ]);
      out += kv('  ', [
        ['Running', Number(info.ContainersRunning ?? 0)],
        ['Paused', Number(info.ContainersPaused ?? 0)],
        ['Stopped', Number(info.ContainersStopped ?? 0)],
      ]);
      out += kv(' ', [
        ['Images', Number(info.Images ?? 0)],
        ['Server Version', String(info.ServerVersion)],
        ['Storage Driver', String(info.Driver)],
        ['Logging Driver', String(info.LoggingDriver)],
      ]);
      out += ' Plugins:\n';
      out += kv('  ', [
        ['Volume', (plugins.Volume ?? []).join(' ')],
        ['Network', (plugins.Network ?? []).join(' ')],
        ['Log', (plugins.Log ?? []).join(' ')],
      ]);
      out += kv(' ', [
        ['Default Runtime', String(info.DefaultRuntime ?? 'runc')],
        ['Kernel Version', String(info.KernelVersion)],
        ['Operating System', String(info.OperatingSystem)],
        ['OSType', String(info.OSType)],
        ['Architecture', String(info.Architecture)],
        ['CPUs', Number(info.NCPU ?? 0)],
        ['Total Memory', bytesSize(Number(info.MemTotal ?? 0))],
        ['Name', String(info.Name)],
        ['ID', String(info.ID)],
        ['Berth Root Dir', String(info.DockerRootDir)],
      ]);
      process.stdout.write(out);
    },
  );

  const system = program.command('system').description('Manage berth').usage('COMMAND');
  defineCommand<{ verbose?: boolean; format?: string }>(
    system,
    { name: 'df', use: '[OPTIONS]', description: 'Show berth disk usage', arity: { none: true } },
    (cmd) => cmd.option('-v, --verbose', 'Show detailed information on space usage').option('--format <string>', 'Format output using a custom template'),
    async (_args, opts) => {
      const df = await client().json<DiskUsage>('GET', '/system/df');
      process.stdout.write(opts.verbose ? renderDfVerbose(df) : renderDf(df));
    },
  );
}

interface DiskUsage {
  LayersSize?: number;
  Images: Array<{ Size: number; SharedSize: number; Containers: number }> | null;
  Containers: Array<{ SizeRw?: number; State?: string }> | null;
  Volumes: Array<{ Name: string; UsageData: { RefCount: number; Size: number } }> | null;
  BuildCache: unknown[] | null;
}

/** "1.5MB (40%)", or just "0B" when there is nothing (as docker prints it). */
function reclaimable(part: number, total: number): string {
  if (total <= 0) return humanSize(part);
  return `${humanSize(part)} (${Math.round((part * 100) / total)}%)`;
}

function renderDf(df: DiskUsage): string {
  const images = df.Images ?? [];
  const containers = df.Containers ?? [];
  const volumes = df.Volumes ?? [];
  const imgActive = images.filter((i) => i.Containers > 0).length;
  const imgSize = df.LayersSize ?? images.reduce((a, i) => a + i.Size, 0);
  // docker: the CLI's own formula; images whose sizes are unknown (-1) count as reclaimable.
  const imgUsed = images.filter((i) => i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1).reduce((a, i) => a + i.Size - i.SharedSize, 0);
  const imgReclaim = imgSize - imgUsed;
  // docker's isActive: running, paused and restarting containers are in use.
  const active = (c: { State?: string }): boolean => /running|paused|restarting/.test(c.State ?? '');
  const cActive = containers.filter(active).length;
  const cSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const cReclaim = containers.filter((c) => !active(c)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const vActive = volumes.filter((v) => v.UsageData.RefCount > 0).length;
  const vSize = volumes.reduce((a, v) => a + Math.max(0, v.UsageData.Size), 0);
  const vReclaim = volumes.filter((v) => v.UsageData.RefCount === 0).reduce((a, v) => a + Math.max(0, v.UsageData.Size), 0);
  const rows = [
    'TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE',
    `Images\t${images.length}\t${imgActive}\t${humanSize(imgSize)}\t${reclaimable(imgReclaim, imgSize)}`,
    `Containers\t${containers.length}\t${cActive}\t${humanSize(cSize)}\t${reclaimable(cReclaim, cSize)}`,
    `Local Volumes\t${volumes.length}\t${vActive}\t${humanSize(vSize)}\t${reclaimable(vReclaim, vSize)}`,
    `Build Cache\t0\t0\t0B\t0B`,
  ];
  return tabwrite(rows.join('\n') + '\n');
}

function renderDfVerbose(df: DiskUsage): string {
  // docker's `system df -v` tables (cli/command/formatter/disk_usage.go).
  const images = (df.Images ?? []) as unknown as ApiImageSummary[];
  const imageCtx = images.flatMap((img) => imageRows(img, true, false));
  let out = 'Images space usage:\n\n';
  out += renderList(imageCtx, {
    format: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
    quiet: false,
    defaultTable: '',
    quietTemplate: '',
    headers: IMAGE_HEADERS as Record<string, string>,
    context: (c) => c,
  });
  out += '\nContainers space usage:\n\n';
  const containers = (df.Containers ?? []) as unknown as ApiContainerSummary[];
  out += renderList(containers, {
    format: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
    quiet: false,
    defaultTable: '',
    quietTemplate: '',
    headers: CONTAINER_HEADERS as Record<string, string>,
    context: (c) => new ContainerContext(c, true),
  });
  const volumes = [...(df.Volumes ?? [])];
  out += '\nLocal Volumes space usage:\n\n';
  out += tabwrite(['VOLUME NAME\tLINKS\tSIZE', ...volumes.map((v) => `${v.Name}\t${v.UsageData.RefCount}\t${humanSize(Math.max(0, v.UsageData.Size))}`)].join('\n') + '\n');
  out += '\nBuild cache usage: 0B\n\n';
  out += tabwrite('CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED\n');
  return out;
}

