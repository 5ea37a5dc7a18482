import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoWriter, writeOpset, writeTensor, writeValueInfo, encodeModel } from '../../src/export/onnx-proto.js';

const bytes = (w: ProtoWriter) => [...w.finish()];

test('varints match hand-encoded protobuf bytes', () => {
  assert.deepEqual(bytes(new ProtoWriter().varint(0)), [0x00]);
  assert.deepEqual(bytes(new ProtoWriter().varint(1)), [0x01]);
  assert.deepEqual(bytes(new ProtoWriter().varint(127)), [0x7f]);
  assert.deepEqual(bytes(new ProtoWriter().varint(128)), [0x80, 0x01]);
  assert.deepEqual(bytes(new ProtoWriter().varint(300)), [0xac, 0x02]);
  assert.deepEqual(bytes(new ProtoWriter().varint(2 ** 31)), [0x80, 0x80, 0x80, 0x80, 0x08]);
  assert.deepEqual(bytes(new ProtoWriter().varint(2 ** 53 - 1)), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  // int64 -1: ten bytes, two's complement.
  assert.deepEqual(bytes(new ProtoWriter().varint(-1)), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  assert.throws(() => new ProtoWriter().varint(2 ** 60), /safe integer/);
});

test('length-delimited and fixed32 fields', () => {
  assert.deepEqual(bytes(new ProtoWriter().string(2, 'hi')), [0x12, 0x02, 0x68, 0x69]);
  assert.deepEqual(bytes(new ProtoWriter().string(1, 'é')), [0x0a, 0x02, 0xc3, 0xa9]);
  assert.deepEqual(bytes(new ProtoWriter().float(2, 1)), [0x15, 0x00, 0x00, 0x80, 0x3f]);
  assert.deepEqual(bytes(new ProtoWriter().int(1, 7)), [0x08, 0x07]);
  const sub = new ProtoWriter().int(1, 3);
  assert.deepEqual(bytes(new ProtoWriter().message(5, sub)), [0x2a, 0x02, 0x08, 0x03]);
});

test('writer grows past its initial buffer', () => {
  const w = new ProtoWriter();
  const big = new Uint8Array(1000).fill(7);
  w.bytes(9, big);
  const out = w.finish();
  assert.equal(out.length, 1 + 2 + 1000);
  assert.deepEqual([...out.subarray(0, 3)], [0x4a, 0xe8, 0x07]);
  assert.equal(out[1002], 7);
});

test('ONNX messages: opset, tensor, value info', () => {
  assert.deepEqual(bytes(writeOpset({ domain: '', version: 13 })), [0x10, 0x0d]);
  assert.deepEqual(bytes(writeOpset({ domain: 'ai', version: 1 })), [0x0a, 0x02, 0x61, 0x69, 0x10, 0x01]);
  // dims=[1] (field 1), data_type=FLOAT (field 2), name "w" (field 8), raw_data 1.0f LE (field 9)
  assert.deepEqual(bytes(writeTensor({ name: 'w', dims: [1], data: Float32Array.of(1) })),
    [0x08, 0x01, 0x10, 0x01, 0x42, 0x01, 0x77, 0x4a, 0x04, 0x00, 0x00, 0x80, 0x3f]);
  // ValueInfo{name "x", type{tensor_type{elem_type 1, shape{dim{dim_param "N"}, dim{dim_value 3}}}}}
  const shape = [0x0a, 0x03, 0x12, 0x01, 0x4e, 0x0a, 0x02, 0x08, 0x03];
  const tensorType = [0x08, 0x01, 0x12, shape.length, ...shape];
  const type = [0x0a, tensorType.length, ...tensorType];
  assert.deepEqual(bytes(writeValueInfo({ name: 'x', elemType: 1, shape: ['N', 3] })), [0x0a, 0x01, 0x78, 0x12, type.length, ...type]);
});

test('ModelProto top level carries ir_version, producer, graph and opset fields', () => {
  const m = encodeModel({
    irVersion: 7, producerName: 'p', opsets: [{ domain: '', version: 13 }],
    graph: { name: 'g', nodes: [], initializers: [], inputs: [], outputs: [] },
  });
  assert.deepEqual([...m], [0x08, 0x07, 0x12, 0x01, 0x70, 0x3a, 0x03, 0x12, 0x01, 0x67, 0x42, 0x02, 0x10, 0x0d]);
});
