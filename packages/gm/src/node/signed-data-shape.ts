/** The Node entry's CMS SignedData locator: the native addon's when built, else undefined. */
import type { SignedDataShape } from '../signed-data-shape.js';
import { loadNativeSignedDataShape } from '../sm2/native-engine.js';

export const signedDataShape: SignedDataShape | undefined = loadNativeSignedDataShape();
