import { GATEWAY_ERRORS } from './gatewayError.ts';

/**
 * The gateway's OpenAPI 3.1 document (served at /openapi.json). Schemas are JSON Schema 2020-12;
 * the tests check every response the gateway sends against them, so this is what it really does.
 */
const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const error = (description: string) => json(ref('Error'), description);
const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const obj = (properties: Record<string, object>, required: readonly string[] = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
});

const schemas = {
  Error: obj({
    error: obj({
      code: { type: 'string', enum: Object.keys(GATEWAY_ERRORS) },
      message: str,
    }),
  }),
  Model: obj(
    {
      modelId: {
        ...hex64,
        description: 'sha256 of the canonical verification key (of the slice ids, when sliced)',
      },
      name: str,
      input: obj({
        name: str,
        shape: { type: 'array', items: int },
        size: int,
        range: { type: 'array', items: num, minItems: 2, maxItems: 2 },
        bits: int,
        scale: int,
        min: int,
        max: int,
      }),
      outputs: {
        type: 'array',
        items: obj({ name: str, shape: { type: 'array', items: int }, scale: int, size: int }),
      },
      outputsHashed: { type: 'boolean' },
      constraints: int,
      slices: {
        type: ['integer', 'null'],
        description: 'how many chained circuits prove it; null for one circuit',
      },
      settlement: { type: 'boolean', description: 'whether settle: true is available for this model' },
    },
    ['modelId', 'name', 'input', 'outputs', 'outputsHashed', 'constraints', 'slices', 'settlement'],
  ),
  ModelList: obj({ models: { type: 'array', items: ref('Model') } }),
  VerificationKey: {
    type: 'object',
    description: 'snarkjs verification key (groth16, bn128); for a sliced model, { slices: [key, ...] }',
  },
  InferenceRequest: {
    ...obj(
      {
        model: { ...str, description: 'a modelId or a model name' },
        input: { type: 'array', items: num, minItems: 1 },
        redundancy: {
          ...int,
          minimum: 1,
          description: 'miners asked at once; the first verified answer wins',
        },
        deadlineMs: { ...int, minimum: 100 },
        settle: { type: 'boolean', description: 'settle the verified proof on the AVS' },
        async: { type: 'boolean', description: 'answer 202 at once; fetch or stream the result by id' },
      },
      ['model', 'input'],
    ),
    additionalProperties: false,
  },
  Binding: obj(
    {
      value: str,
      nonce: str,
      validatorHotkey: str,
      minerHotkey: str,
      avs: {
        ...obj({ chainId: str, taskManager: str, taskId: int, prover: str }),
        description: "set when settled: the proof carries the AVS task manager's bindingOf(taskId, prover)",
      },
    },
    ['value', 'nonce', 'validatorHotkey', 'minerHotkey'],
  ),
  Settlement: obj({
    taskId: int,
    status: { enum: ['settled', 'pending', 'failed'] },
    txHash: { type: ['string', 'null'] },
    error: { type: ['string', 'null'] },
  }),
  InferenceResult: obj(
    {
      id: { type: 'string', format: 'uuid' },
      status: { const: 'verified' },
      verified: { const: true },
      modelId: hex64,
      model: str,
      input: { type: 'array', items: num },
      output: { type: 'array', items: num, description: 'dequantized, in output order' },
      class: int,
      inputHash: str,
      binding: ref('Binding'),
      bundle: {
        type: 'object',
        description:
          'a zkinfer proof bundle (zkinfer/bundle@1, or zkinfer-sliced-bundle/1 for a sliced model)',
        required: ['format', 'binding', 'outputs', 'predictedClass'],
      },
      miner: str,
      latencyMs: { ...num, description: "the miner's answer time, measured by the validator" },
      proverTimings: {
        ...obj({ queueMs: num, witnessMs: num, proveMs: num }),
        description: 'what the miner reports of its time (informative, unchecked)',
      },
      totalMs: { ...num, description: 'from the request to the verified answer, in the gateway' },
      createdAt: { type: 'string', format: 'date-time' },
      settlement: {
        oneOf: [{ type: 'null' }, ref('Settlement')],
        description: 'with settle: true, the AVS task and the transaction that settled it by the proven path',
      },
    },
    [
      'id',
      'status',
      'verified',
      'modelId',
      'model',
      'input',
      'output',
      'class',
      'inputHash',
      'binding',
      'bundle',
      'miner',
      'latencyMs',
      'proverTimings',
      'totalMs',
      'createdAt',
      'settlement',
    ],
  ),
  Accepted: obj({
    id: { type: 'string', format: 'uuid' },
    status: { const: 'pending' },
    result: str,
    events: str,
  }),
  StoredResult: {
    oneOf: [
      ref('InferenceResult'),
      obj({
        id: { type: 'string', format: 'uuid' },
        status: { const: 'pending' },
        modelId: hex64,
        createdAt: str,
      }),
      obj({
        id: { type: 'string', format: 'uuid' },
        status: { const: 'failed' },
        modelId: hex64,
        createdAt: str,
        error: ref('Error/properties/error'),
      }),
    ],
  },
  ResultList: obj({
    results: {
      type: 'array',
      items: obj(
        {
          id: str,
          status: { enum: ['pending', 'verified', 'failed'] },
          modelId: hex64,
          createdAt: str,
          class: { type: ['integer', 'null'] },
          miner: { type: ['string', 'null'] },
          latencyMs: { type: ['number', 'null'] },
        },
        ['id', 'status', 'modelId', 'createdAt', 'class', 'miner', 'latencyMs'],
      ),
    },
  }),
  Miners: obj({
    round: int,
    miners: {
      type: 'array',
      items: obj({
        hotkey: str,
        score: num,
        weight: num,
        verified: int,
        invalid: int,
        transport: int,
        coolingDown: { type: 'boolean' },
      }),
    },
    history: {
      type: 'array',
      description: 'the latest requests (synthetic and organic), oldest first',
      items: obj({ round: int, hotkey: str, outcome: str, latencyMs: num, scoreAfter: num }),
    },
  }),
};

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
} as const;

export const OPENAPI = Object.freeze({
  openapi: '3.1.0',
  info: {
    title: 'zkinfer gateway',
    version: '1.0.0',
    description:
      'Verifiable inference: send a model and an input, get the output with a Groth16 proof the gateway verified and you can verify yourself (the verification key hashes to the modelId).',
  },
  components: {
    schemas,
    securitySchemes: {
      apiKey: {
        type: 'http',
        scheme: 'bearer',
        description: 'an API key from `zkinfer gateway keys create`',
      },
      signed: {
        type: 'apiKey',
        in: 'header',
        name: 'x-zkinfer-signature',
        description:
          'sr25519 over "zkinfer-gateway/1.{x-zkinfer-timestamp}.{METHOD}.{path}.{sha3-256(body)}" by the hotkey in x-zkinfer-hotkey',
      },
    },
  },
  paths: {
    '/v1/models': {
      get: {
        summary: 'The models served',
        responses: { '200': json(ref('ModelList'), 'the models') },
      },
    },
    '/v1/models/{modelId}/vkey': {
      get: {
        summary: "A model's verification key: sha256 of its canonical form is the modelId",
        parameters: [{ name: 'modelId', in: 'path', required: true, schema: hex64 }],
        responses: {
          '200': json(ref('VerificationKey'), 'the key'),
          '404': error('unknown model'),
        },
      },
    },
    '/v1/miners': {
      get: {
        summary: 'Miners with their scores and weights, and the latest outcomes',
        responses: { '200': json(ref('Miners'), 'the miners') },
      },
    },
    '/v1/inference': {
      get: {
        summary: 'The latest requests',
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200 } }],
        responses: {
          '200': json(ref('ResultList'), 'the latest requests, newest first'),
          '400': error('bad limit'),
        },
      },
      post: {
        summary: 'Run a model on an input and return the verified, proven output',
        security: [{ apiKey: [] }, { signed: [] }, {}],
        requestBody: { required: true, content: { 'application/json': { schema: ref('InferenceRequest') } } },
        responses: {
          '200': json(ref('InferenceResult'), 'a verified answer'),
          '202': json(ref('Accepted'), 'accepted (async: true)'),
          '400': error('bad input: wrong length, not a number, out of range, unknown field'),
          '401': error('no, unknown or bad credentials'),
          '403': error('revoked key or hotkey not allowed'),
          '404': error('unknown model'),
          '413': error('body too large'),
          '429': error('quota exceeded (see Retry-After)'),
          '501': error(
            'settlement is not available (no AVS configured, or the model is not registered there)',
          ),
          '502': error('the AVS task could not be created'),
          '503': error(
            'no miner available (NO_MINER), or the gateway is at its limit of requests in flight (OVERLOADED)',
          ),
          '504': error('no verified answer before the deadline'),
        },
      },
    },
    '/v1/inference/{id}': {
      get: {
        summary: 'A stored result (pending, verified or failed)',
        parameters: [idParam],
        responses: { '200': json(ref('StoredResult'), 'the result'), '404': error('unknown id') },
      },
    },
    '/v1/inference/{id}/events': {
      get: {
        summary:
          'Progress as server-sent events: queued, sent, answered, verified, rejected, then done (the result) or failed (the error)',
        parameters: [idParam],
        responses: {
          '200': {
            description: 'an event stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '404': error('unknown id'),
        },
      },
    },
  },
});
