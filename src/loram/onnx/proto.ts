/**
 * A minimal protobuf *encoder* for the ONNX messages we write (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto,
 * StringStringEntryProto). Field numbers follow onnx/onnx.proto (proto2; stable across IR versions).
 *
 * Large payloads (tensor raw_data) are `LazyBytes`: their length is known up front (so every enclosing
 * length prefix can be computed) but the bytes are produced only when the message is streamed to a sink.
 * A 500 MB model is therefore never held twice in memory: each weight is transformed (transposed, fused)
 * when it is written, then dropped.
 */

/** Bytes whose length is known now and whose content is produced on demand (once, while writing). */
export interface LazyBytes {
  readonly length: number;
  produce(): Uint8Array;
}

type Piece = Uint8Array | LazyBytes | Message;

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

function varintSize(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

/** Varint bytes of an integer; negatives are encoded as 64-bit two's complement (10 bytes), as int64 requires. */
export function encodeVarint(value: number | bigint): Uint8Array {
  let v = typeof value === 'bigint' ? value : BigInt(value);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`varint: ${value} is not a safe integer`);
  if (v < 0n) v = BigInt.asUintN(64, v);
  const out = new Uint8Array(varintSize(v));
  let i = 0;
  while (v >= 0x80n) {
    out[i++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[i] = Number(v);
  return out;
}

const utf8 = new TextEncoder();

/** One protobuf message being built: an ordered list of encoded fields (possibly nested or lazy). */
export class Message {
  private readonly pieces: Piece[] = [];
  private len = 0;

  get length(): number {
    return this.len;
  }

  private push(p: Piece): void {
    this.pieces.push(p);
    this.len += p.length;
  }

  private tag(field: number, wire: number): void {
    this.push(encodeVarint((field << 3) | wire));
  }

  /** int32/int64/enum/bool field. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.push(encodeVarint(value));
    return this;
  }

  /** float field (fixed32, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  bytes(field: number, value: Uint8Array | LazyBytes): this {
    this.tag(field, WIRE_LEN);
    this.push(encodeVarint(value.length));
    this.push(value);
    return this;
  }

  message(field: number, value: Message): this {
    this.tag(field, WIRE_LEN);
    this.push(encodeVarint(value.length));
    this.push(value);
    return this;
  }

  /** Packed repeated varints (int64 lists). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const parts = values.map((v) => encodeVarint(v));
    const n = parts.reduce((a, p) => a + p.length, 0);
    this.tag(field, WIRE_LEN);
    this.push(encodeVarint(n));
    const buf = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    this.push(buf);
    return this;
  }

  /** Packed repeated floats. */
  packedFloats(field: number, values: readonly number[]): this {
    const buf = new Uint8Array(values.length * 4);
    const dv = new DataView(buf.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, buf);
  }

  /** Stream the encoded message to `sink` in order (lazy pieces are produced here). */
  async writeTo(sink: (chunk: Uint8Array) => Promise<void> | void): Promise<void> {
    for (const p of this.pieces) {
      if (p instanceof Message) await p.writeTo(sink);
      else if (p instanceof Uint8Array) await sink(p);
      else {
        const bytes = p.produce();
        if (bytes.length !== p.length) throw new Error(`lazy bytes produced ${bytes.length} bytes, ${p.length} were announced`);
        await sink(bytes);
      }
    }
  }

  /** The whole message as one buffer (small messages and tests; limited by the 2 GB protobuf ceiling). */
  async toBytes(): Promise<Uint8Array> {
    const out = new Uint8Array(this.len);
    let o = 0;
    await this.writeTo((c) => {
      out.set(c, o);
      o += c.length;
    });
    return out;
  }
}

/** A buffered sink: collects small writes into large chunks before handing them to `flush`. */
export class BufferedSink {
  private buf: Uint8Array;
  private used = 0;
  written = 0;

  constructor(private readonly flushFn: (chunk: Uint8Array) => Promise<void>, size = 8 * 1024 * 1024) {
    this.buf = new Uint8Array(size);
  }

  write = async (chunk: Uint8Array): Promise<void> => {
    this.written += chunk.length;
    if (chunk.length >= this.buf.length / 2) {
      await this.flush();
      await this.flushFn(chunk);
      return;
    }
    if (this.used + chunk.length > this.buf.length) await this.flush();
    this.buf.set(chunk, this.used);
    this.used += chunk.length;
  };

  async flush(): Promise<void> {
    if (this.used === 0) return;
    // The buffer is reused after the write resolves, so pass a view that the callee consumes immediately.
    await this.flushFn(this.buf.subarray(0, this.used));
    this.used = 0;
  }
}
