/**
 * Minimal TLS presentation-language reader/writer for the Marmot structures that
 * ts-mls does not encode: big-endian integers and the MLS variable-length
 * vectors (RFC 9420 §2.1.2: QUIC-style varint length, at most 30 bits).
 */

const MAX_VARINT = 0x3fffffff;

export function varintLength(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VARINT) throw new RangeError(`Varint out of range: ${value}`);
  return value < 0x40 ? 1 : value < 0x4000 ? 2 : 4;
}

export class TlsWriter {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  uint16(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`uint16 out of range: ${value}`);
    return this.bytes(Uint8Array.of(value >> 8, value & 0xff));
  }

  /** Always the shortest form: MLS receivers may reject non-minimal lengths. */
  varint(value: number): this {
    const size = varintLength(value);
    if (size === 1) return this.bytes(Uint8Array.of(value));
    if (size === 2) return this.bytes(Uint8Array.of(0x40 | (value >> 8), value & 0xff));
    return this.bytes(Uint8Array.of(0x80 | (value >>> 24), (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff));
  }

  bytes(value: Uint8Array): this {
    this.parts.push(value);
    this.length += value.length;
    return this;
  }

  /** `opaque field<V>` */
  vector(value: Uint8Array): this {
    return this.varint(value.length).bytes(value);
  }

  /** `opaque field<0..2^16-1>` (uint16 length prefix, marmot_group_data v1). */
  vector16(value: Uint8Array): this {
    return this.uint16(value.length).bytes(value);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

/** Reads from a byte array; every method throws a RangeError when the input ends early. */
export class TlsReader {
  private offset = 0;
  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  uint16(): number {
    const [high, low] = this.take(2);
    return ((high ?? 0) << 8) | (low ?? 0);
  }

  varint(): number {
    const first = this.peek();
    const prefix = first >> 6;
    if (prefix === 3) throw new RangeError("Invalid varint prefix 0b11");
    const size = 1 << prefix;
    const raw = this.take(size);
    let value = first & 0x3f;
    for (let i = 1; i < size; i++) value = value * 256 + (raw[i] ?? 0);
    return value;
  }

  take(length: number): Uint8Array {
    if (length > this.remaining) throw new RangeError(`Truncated input: need ${length} bytes, have ${this.remaining}`);
    const out = this.data.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  vector(): Uint8Array {
    return this.take(this.varint());
  }

  vector16(): Uint8Array {
    return this.take(this.uint16());
  }

  private peek(): number {
    const byte = this.data[this.offset];
    if (byte === undefined) throw new RangeError("Truncated input: need 1 byte, have 0");
    return byte;
  }
}
