/** TypeBox request/response types of the evidence API (they also produce the OpenAPI document). */
import { Type, type Static } from '@fastify/type-provider-typebox';

const Text = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, ...(description ? { description } : {}) });
const Base64 = (description: string) =>
  Type.String({ minLength: 1, pattern: '^[A-Za-z0-9+/\\s]*={0,2}\\s*$', description });

export const DIGEST_ALGORITHMS = ['sm3', 'sha256', 'sha384', 'sha512'] as const;
export const DigestAlgorithm = Type.Union(
  [Type.Literal('sm3'), Type.Literal('sha256'), Type.Literal('sha384'), Type.Literal('sha512')],
  { description: '摘要算法' },
);

const Department = Type.Object(
  { code: Type.Optional(Text(64, '科室编码')), name: Type.Optional(Text(200, '科室名称')) },
  { additionalProperties: false },
);
const Patient = Type.Object(
  {
    id: Type.Optional(Text(128, '患者 ID (encrypted at rest, exact-match searchable)')),
    name: Type.Optional(Text(200, '患者姓名 (encrypted at rest, exact-match searchable)')),
    visitNumber: Type.Optional(Text(128, '就诊号')),
  },
  { additionalProperties: false },
);
const Tags = Type.Array(Text(64), { maxItems: 32, description: '标签' });
const Metadata = Type.Record(
  Type.String({ minLength: 1, maxLength: 64 }),
  // One `type` list, not a union: the server's Ajv coerces types, and under anyOf it would turn 12 into "12"
  // (first branch wins); with a type list Ajv coerces only when the value matches none of the types.
  Type.Unsafe<string | number | boolean | null>({
    type: ['string', 'integer', 'boolean', 'null'],
    maxLength: 4096,
  }),
  { maxProperties: 64, description: 'Free metadata: string, integer, boolean or null values' },
);

/** Fields common to every kind of evidence. */
const Common = {
  serialNumber: Text(128, '业务流水号'),
  businessType: Type.Optional(Text(128, '业务类型')),
  sourceSystem: Type.Optional(Text(128, '来源系统')),
  department: Type.Optional(Department),
  tags: Type.Optional(Tags),
  metadata: Type.Optional(Metadata),
};

export const SignatureValue = Type.Object(
  {
    format: Type.Union([Type.Literal('cms'), Type.Literal('raw')], {
      description:
        'cms: CMS/PKCS#7 SignedData (attached or detached); raw: a signature value + signer certificate',
    }),
    value: Base64('签名值: CMS DER, or the raw signature value'),
    certificate: Type.Optional(
      Type.String({ minLength: 1, maxLength: 65536, description: 'Signer certificate, base64 DER or PEM' }),
    ),
    certificates: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 65536 }), {
        maxItems: 8,
        description: 'Intermediate certificates, base64 DER or PEM',
      }),
    ),
    algorithm: Type.Optional(
      Type.String({
        pattern: '^[0-9]+(\\.[0-9]+)+$',
        maxLength: 64,
        description: 'Raw: signature algorithm OID',
      }),
    ),
  },
  { additionalProperties: false },
);

export const SignaturePush = Type.Object(
  {
    ...Common,
    patient: Type.Optional(Patient),
    signer: Type.Optional(Text(200, '签名者')),
    signature: SignatureValue,
    original: Type.Optional(Base64('原文, base64')),
    originalDigest: Type.Optional(
      Type.Object(
        {
          algorithm: DigestAlgorithm,
          value: Type.String({ pattern: '^[0-9a-fA-F]{40,128}$', description: 'hex' }),
        },
        { additionalProperties: false, description: '原文摘要 (when the original is not sent)' },
      ),
    ),
    timestampToken: Type.Optional(
      Base64('时间戳签名值: RFC 3161 TimeStampToken or TimeStampResp, base64 DER'),
    ),
    signedAt: Type.Optional(Type.String({ format: 'date-time', description: '签名时间' })),
  },
  { additionalProperties: false, $id: 'SignaturePush' },
);
export type SignaturePushBody = Static<typeof SignaturePush>;

export const MAX_BATCH = 1000;
export const SignatureBatch = Type.Object(
  { items: Type.Array(Type.Ref('SignaturePush'), { minItems: 1, description: `at most ${MAX_BATCH}` }) },
  { additionalProperties: false },
);

export const DigestPush = Type.Object(
  {
    ...Common,
    category: Type.Optional(Text(128, '分类')),
    algorithm: DigestAlgorithm,
    value: Type.String({ pattern: '^[0-9a-fA-F]{40,128}$', description: '摘要值, hex' }),
  },
  { additionalProperties: false },
);
export type DigestPushBody = Static<typeof DigestPush>;

/** The JSON `meta` part of POST /files. */
export const FileMeta = Type.Object(
  {
    ...Common,
    patient: Type.Optional(Patient),
    signer: Type.Optional(Text(200, '签名者')),
    signature: Type.Optional(Base64('Detached CMS SignedData over the file, base64 DER')),
    certificates: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 65536 }), { maxItems: 8 })),
    timestampToken: Type.Optional(Base64('RFC 3161 token over the signature value or the file')),
    signedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type FileMetaBody = Static<typeof FileMeta>;

export const Receipt = Type.Object(
  {
    type: Type.Literal('yizheng-receipt/1'),
    id: Type.String({ description: '数据编号' }),
    kind: Type.String(),
    projectId: Type.String(),
    appId: Type.String(),
    serialNumber: Type.String(),
    evidenceHash: Type.String({ description: 'hex SM3 of the canonical record (the log leaf entry)' }),
    logIndex: Type.Integer(),
    receivedAt: Type.String(),
    verification: Type.Unknown({ description: 'verification summary' }),
    signature: Type.Object({
      algorithm: Type.Literal('SM3withSM2'),
      userId: Type.String(),
      keyId: Type.String(),
      value: Type.String(),
    }),
  },
  { $id: 'Receipt', description: 'Signed receipt (see README: verifying a receipt)' },
);

export const BatchResult = Type.Object({
  results: Type.Array(
    Type.Object({
      index: Type.Integer(),
      status: Type.Integer({ description: '201 stored, 200 stored before (first receipt), 4xx rejected' }),
      receipt: Type.Optional(Type.Ref('Receipt')),
      error: Type.Optional(Type.Ref('Problem')),
    }),
  ),
});

export const ListQuery = Type.Object(
  {
    id: Type.Optional(Text(64, '数据编号')),
    appId: Type.Optional(Text(64, '应用 (接入编号)')),
    serialNumber: Type.Optional(Text(128, '业务流水号')),
    patientId: Type.Optional(Text(128, '患者 ID (exact)')),
    patientName: Type.Optional(Text(200, '患者姓名 (exact)')),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'received at ≥ from' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'received at < to' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);
export type ListQueryType = Static<typeof ListQuery>;

export const IdParams = Type.Object({ id: Text(64) });

export const EvidenceView = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    projectId: Type.String(),
    appId: Type.String(),
    serialNumber: Type.String(),
    businessType: Type.Union([Type.String(), Type.Null()]),
    sourceSystem: Type.Union([Type.String(), Type.Null()]),
    department: Type.Object({
      code: Type.Union([Type.String(), Type.Null()]),
      name: Type.Union([Type.String(), Type.Null()]),
    }),
    patient: Type.Object({
      id: Type.Union([Type.String(), Type.Null()]),
      name: Type.Union([Type.String(), Type.Null()]),
      visitNumber: Type.Union([Type.String(), Type.Null()]),
    }),
    signer: Type.Union([Type.String(), Type.Null()]),
    category: Type.Union([Type.String(), Type.Null()]),
    signatureFormat: Type.Union([Type.String(), Type.Null()]),
    original: Type.Union([
      Type.Object({ sm3: Type.String(), size: Type.Union([Type.Integer(), Type.Null()]) }),
      Type.Null(),
    ]),
    digest: Type.Union([Type.Object({ algorithm: Type.String(), value: Type.String() }), Type.Null()]),
    file: Type.Union([
      Type.Object({
        sm3: Type.String(),
        size: Type.Integer(),
        name: Type.Union([Type.String(), Type.Null()]),
        contentType: Type.Union([Type.String(), Type.Null()]),
      }),
      Type.Null(),
    ]),
    signedAt: Type.Union([Type.String(), Type.Null()]),
    receivedAt: Type.String(),
    tags: Type.Array(Type.String()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    verification: Type.Unknown(),
    evidenceHash: Type.String(),
    logIndex: Type.Integer(),
  },
  { $id: 'Evidence' },
);

export const EvidenceDetail = Type.Intersect([
  Type.Ref('Evidence'),
  Type.Object({
    payload: Type.Object({
      original: Type.Union([Type.String(), Type.Null()]),
      signature: Type.Union([Type.String(), Type.Null()]),
      certificates: Type.Array(Type.String()),
      timestampToken: Type.Union([Type.String(), Type.Null()]),
    }),
  }),
]);

export const EvidencePage = Type.Object({
  items: Type.Array(Type.Ref('Evidence')),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const VerifyReport = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  intact: Type.Boolean({ description: 'true when nothing was found tampered and the signature re-verifies' }),
  tampered: Type.Array(Type.String(), { description: 'the parts found altered' }),
  checks: Type.Array(
    Type.Object({
      part: Type.String(),
      ok: Type.Boolean(),
      detail: Type.String(),
      code: Type.Optional(Type.String()),
    }),
  ),
  log: Type.Object({
    status: Type.String({ description: 'included | pending | tampered' }),
    index: Type.Integer(),
    treeSize: Type.Optional(Type.Integer()),
    checkpoint: Type.Optional(Type.String({ description: 'the signed checkpoint note' })),
    proof: Type.Optional(Type.Array(Type.String(), { description: 'inclusion proof, hex' })),
  }),
  verifiedAt: Type.String(),
});

export const ReceiptKey = Type.Object({
  algorithm: Type.Literal('SM2'),
  keyId: Type.String(),
  publicKeyPem: Type.String(),
});
