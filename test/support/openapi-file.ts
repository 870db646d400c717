import { fileURLToPath } from 'node:url';

/** The committed OpenAPI document (from dist/test/support/, three levels up is the repository). */
export const OPENAPI_FILE = fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));
