/** The key algorithms the internal CA issues TSA certificates for. */
export type TsaAlgorithm = 'sm2' | 'rsa' | 'p256';
export const TSA_ALGORITHMS: readonly TsaAlgorithm[] = ['sm2', 'rsa', 'p256'];
