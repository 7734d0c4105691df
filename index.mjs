// The package entry for Node: loads the TypeScript sources through tsx (types: index.ts).
import { tsImport } from 'tsx/esm/api';

const lib = await tsImport('./index.ts', import.meta.url);
export const GatewayClient = lib.GatewayClient;
export const GatewayClientError = lib.GatewayClientError;
