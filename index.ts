/**
 * zkinfer as a library: the gateway client for protocols that need verifiable inference.
 * (Node runs this through index.mjs, which loads the TypeScript with tsx: no build step.)
 */
export {
  GatewayClient,
  GatewayClientError,
  type GatewayClientOptions,
  type GatewayModel,
  type GatewayResult,
  type LocalVerification,
} from './verifier/gateway/client.ts';
