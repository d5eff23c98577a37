// Image manifests as registries serve them (Docker schema 2 and OCI, single
// images and lists/indexes): media types, parsing, and choosing the entry of
// a list for a platform.
import { z } from 'zod';
import { InvalidParameter, NotFound } from '../errors.js';
import { dictSchema } from '../util/dict.js';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** What a GET of a manifest accepts (schema 1 only so that it can be refused by name). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerSchema1Signed,
  MEDIA_TYPES.dockerSchema1,
];

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** How a layer blob of `mediaType` is compressed; null for a type berth cannot unpack. */
export function layerCompression(mediaType: string): LayerCompression | null {
  switch (mediaType) {
    case MEDIA_TYPES.dockerLayerGzip:
    case MEDIA_TYPES.ociLayerGzip:
      return 'gzip';
    case MEDIA_TYPES.ociLayerZstd:
      return 'zstd';
    case MEDIA_TYPES.dockerLayer:
    case MEDIA_TYPES.ociLayer:
      return 'none';
    default:
      return null;
  }
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

const PlatformSchema = z.looseObject({
  architecture: z.string(),
  os: z.string(),
  variant: z.string().optional(),
  'os.version': z.string().optional(),
});
export type Platform = { os: string; architecture: string; variant?: string };

export const DescriptorSchema = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string().regex(DIGEST, 'digest must be sha256:<64 hex>'),
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: dictSchema(z.string()).optional(),
  platform: PlatformSchema.optional(),
});
export type Descriptor = z.infer<typeof DescriptorSchema>;

const ImageManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
});
const IndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
});

export type ImageManifest = z.infer<typeof ImageManifestSchema>;
export type ManifestIndex = z.infer<typeof IndexSchema>;

export type ParsedManifest = { kind: 'image'; mediaType: string; manifest: ImageManifest } | { kind: 'index'; mediaType: string; index: ManifestIndex };

/** moby's DeprecatedSchema1ImageError text. */
function schema1Refusal(name: string): InvalidParameter {
  return new InvalidParameter(
    'Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. ' +
      `Suggest the author of ${name} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. ` +
      'More information at https://docs.docker.com/go/deprecated-image-specs/',
  );
}

/**
 * Parses manifest bytes served with `contentType`. The media type in the body
 * wins when present (registries sometimes answer application/json).
 * `name` is the full reference name, for messages.
 */
export function parseManifest(bytes: Buffer, contentType: string, name: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InvalidParameter(`invalid manifest for ${name}: ${(e as Error).message}`);
  }
  const body = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  const declared = typeof body.mediaType === 'string' ? body.mediaType : contentType.split(';')[0]!.trim();
  if (body.schemaVersion === 1 || declared === MEDIA_TYPES.dockerSchema1 || declared === MEDIA_TYPES.dockerSchema1Signed) {
    throw schema1Refusal(name);
  }
  const isIndex = declared === MEDIA_TYPES.dockerManifestList || declared === MEDIA_TYPES.ociIndex || (declared !== MEDIA_TYPES.ociManifest && Array.isArray(body.manifests));
  if (isIndex) {
    const r = IndexSchema.safeParse(doc);
    if (!r.success) throw new InvalidParameter(`invalid manifest list for ${name}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return { kind: 'index', mediaType: declared || MEDIA_TYPES.ociIndex, index: r.data };
  }
  const r = ImageManifestSchema.safeParse(doc);
  if (!r.success) throw new InvalidParameter('unsupported manifest format');
  return { kind: 'image', mediaType: declared || MEDIA_TYPES.ociManifest, manifest: r.data };
}

/** Parses `os[/arch[/variant]]` as containerd's platforms.Parse does for the common cases. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) throw new InvalidParameter(`"${spec}": unknown operating system or architecture: invalid argument`);
  const [os, architecture, variant] = parts as [string, string?, string?];
  const arch = normalizeArch(architecture ?? hostArch(), variant);
  return { os, architecture: arch.architecture, ...(arch.variant !== undefined ? { variant: arch.variant } : {}) };
}

function hostArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
}

/** containerd's normalizeArch: aliases and default variants. */
function normalizeArch(arch: string, variant: string | undefined): { architecture: string; variant?: string } {
  switch (arch) {
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return { architecture: 'amd64', ...(variant !== undefined && variant !== 'v1' ? { variant } : {}) };
    case 'aarch64':
    case 'arm64':
      return { architecture: 'arm64', ...(variant !== undefined && variant !== '8' && variant !== 'v8' ? { variant } : {}) };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      return { architecture: 'arm', variant: variant === undefined || variant === '7' ? 'v7' : /^\d$/.test(variant) ? `v${variant}` : variant };
    case 'i386':
      return { architecture: '386', ...(variant !== undefined ? { variant } : {}) };
    default:
      return { architecture: arch, ...(variant !== undefined ? { variant } : {}) };
  }
}

/** The platform images default to here: linux and this host's architecture. */
export function defaultPlatform(): Platform {
  return parsePlatform(`linux/${hostArch()}`);
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== '').join('/');
}

/** Whether a list entry's platform serves `want` (the variant is compared only when `want` has one). */
export function platformMatches(entry: Platform, want: Platform): boolean {
  const e = normalizeArch(entry.architecture, entry.variant);
  if (entry.os !== want.os || e.architecture !== want.architecture) return false;
  return want.variant === undefined || e.variant === undefined || e.variant === want.variant;
}

/** The manifest of a list for `want`; Docker's error when there is none. */
export function selectManifest(index: ManifestIndex, want: Platform): Descriptor {
  const candidates = index.manifests.filter((m) => m.platform !== undefined && platformMatches(m.platform, want));
  // An exact variant match beats an entry without a variant.
  const best = candidates.find((m) => m.platform?.variant === want.variant) ?? candidates[0];
  if (best === undefined) throw new NotFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  return best;
}
