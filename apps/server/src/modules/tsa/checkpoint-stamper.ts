/**
 * The platform TSA as the log's {@link CheckpointStamper}: an SM3 TimeStampReq over the checkpoint's note bytes,
 * answered by the SM2 key when active, else the default key (its RFC 3161 token chains to the internal root). A rejection — the clock monitor's
 * drift refusal above all — becomes CHECKPOINT_STAMP_REFUSED with the TSA's reason.
 */
import { buildTimeStampReq, gmSm2Provider, parseTimeStampResp } from '@yizheng/pki';
import { CheckpointStampError, type CheckpointStamper } from '../../log/stamper.js';
import type { Tsa } from './service.js';

export function tsaCheckpointStamper(tsa: Pick<Tsa, 'stamp' | 'identities'>): CheckpointStamper {
  const key = tsa.identities.has('sm2') ? 'sm2' : undefined;
  return {
    async stamp(data) {
      const req = buildTimeStampReq({
        data,
        hash: 'sm3',
        certReq: true,
        algorithmPolicy: { sm2: gmSm2Provider },
      });
      const reply = await tsa.stamp(req.der, key);
      let resp: ReturnType<typeof parseTimeStampResp>;
      try {
        resp = parseTimeStampResp(reply);
      } catch (e) {
        throw new CheckpointStampError(
          'CHECKPOINT_STAMP_INVALID',
          `the TSA reply does not parse (${String(e)})`,
        );
      }
      if (resp.token === undefined) {
        const why = [resp.statusName ?? String(resp.status), ...resp.failInfo, ...resp.statusStrings];
        throw new CheckpointStampError('CHECKPOINT_STAMP_REFUSED', why.join('; '));
      }
      return resp.token;
    },
  };
}
