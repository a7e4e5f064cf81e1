/**
 * The one way Strata reads a record it wrote: JSON, checked against its kind's
 * schema; anything else is a MalformedRecordError naming the kind and where it breaks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { recordDecoder } from '../../shared/record-decoder.js';
import { malformed } from '../support/malformed-record.js';

const point = recordDecoder('a point', Type.Object({ x: Type.Number(), y: Type.Number(), label: Type.Optional(Type.String()) }));
const shape = recordDecoder(
  'a shape',
  Type.Union([
    Type.Object({ kind: Type.Literal('circle'), radius: Type.Number() }),
    Type.Object({ kind: Type.Literal('square'), side: Type.Number(), corners: Type.Object({ rounded: Type.Boolean() }) }),
  ]),
);

describe('record decoder', () => {
  it('reads a record from a Buffer or a string, leaving fields its schema does not name as they are', () => {
    assert.deepEqual(point(Buffer.from('{"x":1,"y":2}')), { x: 1, y: 2 });
    assert.deepEqual(point('{"x":1,"y":2,"label":"a","extra":true}'), { x: 1, y: 2, label: 'a', extra: true });
  });

  it('refuses a value that is not JSON, a tombstone included', () => {
    for (const value of [Buffer.from('{"x":1,'), 'not json', '', null, undefined]) {
      assert.throws(() => point(value), malformed(/^not a point: the value is not JSON$/), String(value));
    }
  });

  it('names the kind and the first place a record breaks its schema', () => {
    assert.throws(() => point('{"x":"1","y":2}'), malformed(/^not a point: \/x: Expected number$/));
    assert.throws(() => point('{"x":1}'), malformed(/^not a point: \/y: Expected required property$/));
    assert.throws(() => point('{"x":1,"y":2,"label":3}'), malformed(/^not a point: \/label: Expected string$/));
    assert.throws(() => point('[1,2]'), malformed(/^not a point: the value: Expected object$/));
    assert.throws(() => point('null'), malformed(/^not a point: the value: Expected object$/));
  });

  it('names the field of the form a union record comes closest to, not the whole union', () => {
    assert.deepEqual(shape('{"kind":"circle","radius":2}'), { kind: 'circle', radius: 2 });
    assert.throws(() => shape('{"kind":"circle","radius":"2"}'), malformed(/^not a shape: \/radius: Expected number$/));
    assert.throws(() => shape('{"kind":"square","side":1,"corners":{"rounded":"no"}}'), malformed(/^not a shape: \/corners\/rounded: Expected boolean$/));
  });

  it('checks a part of a record already parsed, and tells whether a value is one', () => {
    assert.deepEqual(point.check({ x: 1, y: 2 }), { x: 1, y: 2 });
    assert.throws(() => point.check({ x: 1 }), malformed(/^not a point: \/y:/));
    assert.equal(point.is({ x: 1, y: 2 }), true);
    assert.equal(point.is({ x: 1 }), false);
  });
});
