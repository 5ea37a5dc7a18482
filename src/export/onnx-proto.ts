// A minimal protobuf writer and the ONNX messages built with it. We write ModelProto bytes
// ourselves so exporting needs no protobuf library; only the handful of fields below are used.
//
// Field numbers, checked against onnx/onnx.proto (proto2, package onnx):
//   ModelProto          ir_version=1 (int64), producer_name=2, producer_version=3, graph=7,
//                       opset_import=8 (repeated OperatorSetIdProto)
//   OperatorSetIdProto  domain=1 (string), version=2 (int64)
//   GraphProto          node=1, name=2, initializer=5, input=11, output=12
//   NodeProto           input=1, output=2 (repeated string), name=3, op_type=4, attribute=5
//   TensorProto         dims=1 (repeated int64), data_type=2 (int32; FLOAT=1), name=8,
//                       raw_data=9 (bytes; fixed-width little-endian IEEE 754)
//   ValueInfoProto      name=1, type=2 (TypeProto)
//   TypeProto           tensor_type=1 (TypeProto.Tensor)
//   TypeProto.Tensor    elem_type=1 (int32), shape=2 (TensorShapeProto)
//   TensorShapeProto    dim=1 (repeated Dimension)
//   Dimension           dim_value=1 (int64) | dim_param=2 (string)  — a oneof

/** Protobuf wire types (the low 3 bits of a field key). */
export const enum WireType { Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5 }

/** ONNX TensorProto.DataType.FLOAT. */
export const ONNX_FLOAT = 1;

const utf8 = new TextEncoder();

/** Appends protobuf fields into a growing byte buffer. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  get length(): number { return this.len; }

  /** The bytes written so far (a copy-free view). */
  finish(): Uint8Array { return this.buf.subarray(0, this.len); }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Base-128 varint. Negative int64 values use 10-byte two's complement, as protobuf does. */
  varint(value: number | bigint): this {
    let v = typeof value === 'bigint' ? value : BigInt(value);
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`varint: ${value} is not a safe integer`);
    if (v < 0n) v = BigInt.asUintN(64, v);
    this.reserve(10);
    // Fast path for the common small, non-negative case.
    if (v < 0x80000000n) {
      let n = Number(v);
      while (n >= 0x80) { this.buf[this.len++] = (n & 0x7f) | 0x80; n >>>= 7; }
      this.buf[this.len++] = n;
      return this;
    }
    while (v >= 0x80n) { this.buf[this.len++] = Number(v & 0x7fn) | 0x80; v >>= 7n; }
    this.buf[this.len++] = Number(v);
    return this;
  }

  /** A field key: (field number << 3) | wire type. */
  key(field: number, wire: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) throw new RangeError(`protobuf field number ${field} out of range`);
    return this.varint(field * 8 + wire);
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** int32/int64/enum/bool field (varint). */
  int(field: number, value: number | bigint): this { return this.key(field, WireType.Varint).varint(value); }

  /** bytes field (length-delimited). */
  bytes(field: number, value: Uint8Array): this {
    return this.key(field, WireType.LengthDelimited).varint(value.length).raw(value);
  }

  /** string field (UTF-8, length-delimited). */
  string(field: number, value: string): this { return this.bytes(field, utf8.encode(value)); }

  /** Embedded message field: the sub-writer's bytes, length-prefixed. */
  message(field: number, sub: ProtoWriter): this { return this.bytes(field, sub.finish()); }

  /** float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.key(field, WireType.Fixed32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }
}

/** Float32 values as little-endian bytes (independent of the host byte order). */
export function float32LittleEndian(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

// ---- ONNX message shapes (only what the exporter needs) ----

export interface OnnxTensor { name: string; dims: number[]; data: Float32Array }
export interface OnnxValueInfo { name: string; elemType: number; shape: (number | string)[] }
export interface OnnxNode { name: string; opType: string; inputs: string[]; outputs: string[] }
export interface OnnxGraph {
  name: string; nodes: OnnxNode[]; initializers: OnnxTensor[]; inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[];
}
export interface OnnxOpset { domain: string; version: number }
export interface OnnxModel {
  irVersion: number; producerName: string; producerVersion?: string; opsets: OnnxOpset[]; graph: OnnxGraph;
}

export function writeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_FLOAT);
  w.string(8, t.name);
  w.bytes(9, float32LittleEndian(t.data));
  return w;
}

export function writeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d); else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, v.elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

export function writeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  return w;
}

export function writeGraph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, writeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, writeTensor(t));
  for (const v of g.inputs) w.message(11, writeValueInfo(v));
  for (const v of g.outputs) w.message(12, writeValueInfo(v));
  return w;
}

export function writeOpset(o: OnnxOpset): ProtoWriter {
  const w = new ProtoWriter();
  if (o.domain !== '') w.string(1, o.domain); // empty/absent domain = the default ai.onnx set
  return w.int(2, o.version);
}

/** Serialises a ModelProto. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, m.irVersion);
  w.string(2, m.producerName);
  if (m.producerVersion !== undefined) w.string(3, m.producerVersion);
  w.message(7, writeGraph(m.graph));
  for (const o of m.opsets) w.message(8, writeOpset(o));
  return w.finish();
}
