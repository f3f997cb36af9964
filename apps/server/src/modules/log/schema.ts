import { Type } from '@fastify/type-provider-typebox';

/** A tree size or leaf index in a query string: canonical decimal (range-checked by the service). */
const treeNumber = (description: string) =>
  Type.String({ pattern: '^(0|[1-9][0-9]{0,19})$', maxLength: 20, description });

export const CheckpointQuery = Type.Object(
  { size: Type.Optional(treeNumber('a stored checkpoint by tree size (default: latest)')) },
  { additionalProperties: false },
);

export const InclusionQuery = Type.Object(
  {
    index: treeNumber('leaf index (the log index of a receipt)'),
    size: Type.Optional(treeNumber('tree size (default: the latest checkpoint)')),
  },
  { additionalProperties: false },
);

export const ConsistencyQuery = Type.Object(
  {
    from: treeNumber('the earlier tree size (≥ 1)'),
    to: treeNumber('the later tree size'),
  },
  { additionalProperties: false },
);

const Base64Hash = Type.String({ description: 'base64 of a 32-byte hash', contentEncoding: 'base64' });

export const CheckpointSchema = Type.Object(
  {
    origin: Type.String({ description: 'the log origin (also the signing key name)' }),
    hash: Type.Union([Type.Literal('sm3'), Type.Literal('sha256')], { description: 'RFC 9162 tree hash' }),
    size: Type.Integer({ minimum: 0 }),
    rootHash: Base64Hash,
    note: Type.String({ description: 'C2SP tlog-checkpoint in a C2SP signed note (SM2 signature)' }),
    createdAt: Type.String({ format: 'date-time' }),
    publicKey: Type.String({ description: 'the platform SM2 public key (PEM) that signs checkpoints' }),
    timestampToken: Type.Optional(
      Type.String({
        description:
          'base64 DER RFC 3161 TimeStampToken of the platform TSA over the note bytes (UTF-8), chaining to the ' +
          'internal root (GET /ca/root.pem); absent until the checkpoint is stamped',
        contentEncoding: 'base64',
      }),
    ),
  },
  { $id: 'LogCheckpoint' },
);

export const InclusionProofSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    treeSize: Type.Integer({ minimum: 1 }),
    leafHash: Base64Hash,
    proof: Type.Array(Base64Hash, { description: 'RFC 9162 §2.1.3 inclusion path, leaf to root' }),
  },
  { $id: 'LogInclusionProof' },
);

export const ConsistencyProofSchema = Type.Object(
  {
    from: Type.Integer({ minimum: 1 }),
    to: Type.Integer({ minimum: 1 }),
    proof: Type.Array(Base64Hash, { description: 'RFC 9162 §2.1.4 consistency path' }),
  },
  { $id: 'LogConsistencyProof' },
);
