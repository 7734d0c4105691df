import { describe, expect, it } from 'vitest';
import { GatewayError } from './gatewayError.ts';
import { checkInput, parseInferenceRequest } from './inferenceRequest.ts';

const LIMITS = { maxRedundancy: 4, defaultDeadlineMs: 30_000, maxDeadlineMs: 60_000 };
const ENC = {
  name: 'x',
  shape: [1, 2, 2],
  size: 4,
  bits: 8,
  scale: 7,
  min: 0,
  max: 255,
  range: [0, 1] as const,
};

describe('inference requests', () => {
  it('takes flat or nested inputs and fills the defaults', () => {
    const r = parseInferenceRequest(
      {
        model: 'm',
        input: [
          [
            [0, 0.5],
            [1, 0.25],
          ],
        ],
      },
      LIMITS,
    );
    expect(r).toEqual({
      model: 'm',
      input: [0, 0.5, 1, 0.25],
      redundancy: 1,
      deadlineMs: 30_000,
      settle: false,
      async: false,
    });
    expect(() => checkInput(r.input, ENC, 'm')).not.toThrow();
  });

  it('refuses each malformed field with a 400 naming it', () => {
    const cases: [unknown, RegExp][] = [
      [null, /JSON object/],
      [{ input: [1] }, /model/],
      [{ model: 'm', input: [] }, /non-empty array/],
      [{ model: 'm', input: [1, '2'] }, /input\[1\] is not a finite number/],
      [{ model: 'm', input: [1], redundancy: 5 }, /redundancy must be an integer in \[1, 4\]/],
      [{ model: 'm', input: [1], deadlineMs: 60_001 }, /deadlineMs/],
      [{ model: 'm', input: [1], settle: 'yes' }, /settle must be true or false/],
      [{ model: 'm', input: [1], extra: 1 }, /unknown field "extra"/],
    ];
    for (const [body, message] of cases) {
      let error: unknown;
      try {
        parseInferenceRequest(body, LIMITS);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(body)).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).status).toBe(400);
      expect((error as GatewayError).message).toMatch(message);
    }
  });

  it('checks the input against its model: length and the real-valued range', () => {
    expect(() => checkInput([0, 0, 0], ENC, 'm')).toThrow(/takes 4 input values/);
    expect(() => checkInput([0, 0, 0, 1.01], ENC, 'm')).toThrow(/input\[3\] = 1.01 is outside/);
    expect(() => checkInput([0, 0, -0.001, 1], ENC, 'm')).toThrow(/input\[2\]/);
  });
});
