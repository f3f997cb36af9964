/** `POST /api/v1/timestamps/verify`: verifies any RFC 3161 token (or TimeStampResp) against data or a digest. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { gmSm2Provider, verifyTimeStampToken, type ParsedCertificate } from '@yizheng/pki';
import { YzError } from '../../errors.js';
import { signedApiErrors, signedApiSecurity } from '../shared-schema.js';

const VerifyBody = Type.Object(
  {
    token: Type.String({
      minLength: 1,
      maxLength: 262_144,
      description: 'TimeStampToken or TimeStampResp, base64 DER',
    }),
    data: Type.Optional(Type.String({ maxLength: 16_777_216, description: 'the stamped data, base64' })),
    digest: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{40,128}$', description: 'its digest, hex' })),
    nonce: Type.Optional(Type.String({ pattern: '^[0-9]{1,40}$', description: 'the nonce sent, decimal' })),
  },
  { additionalProperties: false },
);

const VerifyResult = Type.Object({
  valid: Type.Boolean(),
  /** trusted: the TSA certificate chains to the internal root (or a configured anchor). */
  trusted: Type.Boolean(),
  failures: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
  genTime: Type.Optional(Type.String()),
  serialNumber: Type.Optional(Type.String()),
  tsa: Type.Optional(Type.String()),
  tsaCertificate: Type.Optional(Type.String()),
  policy: Type.Optional(Type.String()),
  hashAlgorithm: Type.Optional(Type.String()),
  nonce: Type.Optional(Type.String()),
});

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const timestampRoutes: FastifyPluginAsyncTypebox<{ anchors: () => readonly ParsedCertificate[] }> = (
  app,
  { anchors },
) => {
  app.post(
    '/timestamps/verify',
    {
      schema: {
        tags: ['timestamps'],
        summary: '验证时间戳 / verify an RFC 3161 timestamp token',
        security: signedApiSecurity,
        body: VerifyBody,
        response: { 200: VerifyResult, ...signedApiErrors },
      },
    },
    (request) => {
      const { token, data, digest, nonce } = request.body;
      if (!base64.test(token) || (data !== undefined && !base64.test(data))) {
        throw new YzError('REQUEST_BODY_INVALID', 'token and data are base64');
      }
      if ((data === undefined) === (digest === undefined)) {
        throw new YzError('REQUEST_BODY_INVALID', 'give exactly one of data and digest');
      }
      const common = {
        token: new Uint8Array(Buffer.from(token, 'base64')),
        ...(data !== undefined ? { data: new Uint8Array(Buffer.from(data, 'base64')) } : {}),
        ...(digest !== undefined ? { digest: new Uint8Array(Buffer.from(digest, 'hex')) } : {}),
        ...(nonce !== undefined ? { nonce: BigInt(nonce) } : {}),
        policy: { sm2: gmSm2Provider },
      };
      // Cryptographic check first; then whether it chains to a trust anchor (the internal root by default).
      const r = verifyTimeStampToken(common);
      const trusted = r.valid && verifyTimeStampToken({ ...common, trustAnchors: anchors() }).valid;
      return Promise.resolve({
        valid: r.valid,
        trusted,
        failures: r.failures.map((f) => ({ code: f.code, message: f.message })),
        ...(r.genTime ? { genTime: r.genTime.toISOString() } : {}),
        ...(r.serialNumber !== undefined ? { serialNumber: r.serialNumber.toString() } : {}),
        ...(r.tsa !== undefined ? { tsa: r.tsa } : {}),
        ...(r.tsaCertificate ? { tsaCertificate: r.tsaCertificate.subject } : {}),
        ...(r.policy !== undefined ? { policy: r.policy } : {}),
        ...(r.hashAlgorithm !== undefined ? { hashAlgorithm: r.hashAlgorithm } : {}),
        ...(r.nonce !== undefined ? { nonce: r.nonce.toString() } : {}),
      });
    },
  );
  return Promise.resolve();
};
