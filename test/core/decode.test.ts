import { describe, expect, it } from 'vitest';
import * as d from '../../lambdas/core/decode';
import { addressState, alert, endpoint } from '../../lambdas/core/model-decoders';
import { makeEndpoint, makeState } from '../support/dynamodb-store-fixtures';

const sample = d.object({
  name: d.string,
  port: d.integer,
  ratio: d.number,
  on: d.boolean,
  level: d.oneOf(['low', 'high']),
  owner: d.nullable(d.string),
  note: d.optional(d.string),
  tags: d.array(d.string),
  nested: d.object({ values: d.array(d.object({ n: d.number })) }),
});
const valid = {
  name: 'a',
  port: 443,
  ratio: 0.5,
  on: false,
  level: 'high',
  owner: null,
  tags: [],
  nested: { values: [{ n: 1 }, { n: 2 }] },
};

describe('decode', () => {
  it.each([
    { name: 'a complete value', input: valid, expected: valid },
    { name: 'an optional field present', input: { ...valid, note: '' }, expected: { ...valid, note: '' } },
    { name: 'an optional field explicitly undefined', input: { ...valid, note: undefined }, expected: valid },
    { name: 'extra fields (dropped)', input: { ...valid, extra: 1 }, expected: valid },
  ])('accepts $name', ({ input, expected }) => {
    // Act
    const result = d.decode(sample, input);

    // Assess
    expect(result).toStrictEqual({ ok: true, value: expected });
  });

  it.each([
    { name: 'not an object', input: 'x', field: '(value)', problem: 'expected object, got string "x"' },
    { name: 'an array for the object', input: [], field: '(value)', problem: 'expected object, got array' },
    {
      name: 'a missing field',
      input: { ...valid, name: undefined },
      field: 'name',
      problem: 'expected string, got nothing',
    },
    {
      name: 'a fraction for an integer',
      input: { ...valid, port: 4.5 },
      field: 'port',
      problem: 'expected integer, got number',
    },
    {
      name: 'NaN for a number',
      input: { ...valid, ratio: Number.NaN },
      field: 'ratio',
      problem: 'expected number, got NaN',
    },
    {
      name: 'a string for a boolean',
      input: { ...valid, on: 'false' },
      field: 'on',
      problem: 'expected boolean, got string "false"',
    },
    {
      name: 'a value outside an enumeration',
      input: { ...valid, level: 'mid' },
      field: 'level',
      problem: 'expected one of "low", "high", got string "mid"',
    },
    {
      name: 'undefined for a nullable',
      input: { ...valid, owner: undefined },
      field: 'owner',
      problem: 'expected string, got nothing',
    },
    {
      name: 'null for an optional',
      input: { ...valid, note: null },
      field: 'note',
      problem: 'expected string, got null',
    },
    {
      name: 'a bad array element',
      input: { ...valid, tags: ['a', 2] },
      field: 'tags[1]',
      problem: 'expected string, got number',
    },
    {
      name: 'a bad field deep down',
      input: { ...valid, nested: { values: [{ n: 1 }, { n: '2' }] } },
      field: 'nested.values[1].n',
      problem: 'expected number, got string "2"',
    },
  ])('rejects $name, naming the field', ({ input, field, problem }) => {
    // Act
    const result = d.decode(sample, input);

    // Assess
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure).toBeInstanceOf(d.DecodeFailure);
    expect({ field: result.failure.field, problem: result.failure.problem }).toEqual({ field, problem });
  });

  it('does not hide errors that are not decode failures', () => {
    // Prepare
    const broken: d.Decoder<never> = () => {
      throw new TypeError('bug');
    };

    // Act
    const run = () => d.decode(d.object({ x: broken }), { x: 1 });

    // Assess
    expect(run).toThrow(TypeError);
  });

  it('describes a long string by its type alone, keeping the message one short line', () => {
    // Act
    const result = d.decode(d.number, 'x'.repeat(41));

    // Assess
    expect(result.ok ? null : result.failure.problem).toBe('expected number, got string');
  });
});

describe('decoders of constrained values', () => {
  it.each([
    { name: 'index 0', decoder: d.index, input: 0, ok: true },
    { name: 'index -1', decoder: d.index, input: -1, ok: false },
    { name: 'index 1.5', decoder: d.index, input: 1.5, ok: false },
    { name: 'a non-empty id', decoder: d.nonEmptyString, input: 'a', ok: true },
    { name: 'an empty id', decoder: d.nonEmptyString, input: '', ok: false },
    { name: 'the literal 1', decoder: d.literal(1), input: 1, ok: true },
    { name: 'another number for the literal 1', decoder: d.literal(1), input: 2, ok: false },
    { name: 'the string "1" for the literal 1', decoder: d.literal(1), input: '1', ok: false },
  ])('$name: ok is $ok', ({ decoder, input, ok }) => {
    // Act
    const result = d.decode(decoder as d.Decoder<unknown>, input);

    // Assess
    expect(result.ok).toBe(ok);
  });
});

describe('formatPath', () => {
  it.each([
    { path: [], expected: '(value)' },
    { path: ['state'], expected: 'state' },
    { path: [0, 'name'], expected: '[0].name' },
    { path: ['state', 'alerting', 'thresholdsSent', 1], expected: 'state.alerting.thresholdsSent[1]' },
  ])('formats $expected', ({ path, expected }) => {
    expect(d.formatPath(path)).toBe(expected);
  });
});

describe('model decoders', () => {
  const ep = makeEndpoint('model.example', { owner: 'ops', tags: ['prod'] });
  const alertValue = {
    id: 'a1',
    kind: 'threshold' as const,
    severity: 'warning' as const,
    endpoint: ep.name,
    endpointId: ep.id,
    address: null,
    status: 'warning' as const,
    daysLeft: 7,
    notAfter: '2030-03-08T10:00:00.000Z',
    issuer: 'CN=Test CA',
    findings: [
      { code: 'EXPIRES_SOON' as const, severity: 'warning' as const, message: 'soon', certIndex: 0 },
    ],
    summary: 's',
    detail: 'd',
    action: 'a',
    occurredAt: '2030-03-01T10:00:00.000Z',
    owner: 'ops',
    channels: [],
  };
  const state = makeState(ep, '192.0.2.1', {
    outbox: {
      entries: [{ alert: alertValue, channels: null, attempts: 1, lastError: 'HTTP 500' }],
      claimedAt: 'x',
    },
    retiredAt: null,
  });

  it.each([
    { name: 'an endpoint', decoder: endpoint, value: ep },
    { name: 'an alert', decoder: alert, value: alertValue },
    { name: 'an address state with an outbox', decoder: addressState, value: state },
  ])('round-trips $name exactly', ({ decoder, value }) => {
    // Act
    const result = d.decode(decoder as d.Decoder<unknown>, structuredClone(value));

    // Assess
    expect(result).toStrictEqual({ ok: true, value });
  });

  it('rejects a finding code the model does not know', () => {
    // Prepare
    const bad = { ...alertValue, findings: [{ ...alertValue.findings[0], code: 'NOPE' }] };

    // Act
    const result = d.decode(alert, bad);

    // Assess
    expect(result.ok ? null : result.failure.field).toBe('findings[0].code');
  });
});
