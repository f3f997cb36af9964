/** TypeBox pieces shared by modules: the problem+json error body (also documents every error in OpenAPI). */
import { Type } from '@fastify/type-provider-typebox';
import { ERRORS } from '../errors.js';

export const Problem = Type.Object(
  {
    type: Type.String({ description: 'urn:yizheng:error:<code>' }),
    title: Type.String({ description: 'Localised message (Accept-Language: zh-CN default, en-US)' }),
    status: Type.Integer(),
    code: Type.String({ enum: Object.keys(ERRORS), description: 'Stable error code' }),
    detail: Type.String(),
    instance: Type.String({ description: 'Request id (also in the server log)' }),
  },
  { $id: 'Problem', description: 'application/problem+json (RFC 9457)' },
);

/** The error responses every signed-API route may return. */
export const signedApiErrors = {
  401: Type.Ref('Problem'),
  403: Type.Ref('Problem'),
  429: Type.Ref('Problem'),
} as const;

/** Security requirement + header documentation for signed routes. */
export const signedApiSecurity = [{ YzApp: [], YzTimestamp: [], YzNonce: [], YzSignature: [] }];
