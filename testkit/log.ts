/** Keeps the last `maxBytes` of a stream's text. */
export class BoundedLog {
  private chunks: string[] = [];
  private bytes = 0;
  dropped = 0;
  constructor(private readonly maxBytes = 64 * 1024) {}
  append(s: string): void {
    this.chunks.push(s);
    this.bytes += s.length;
    while (this.bytes > this.maxBytes && this.chunks.length > 1) {
      const c = this.chunks.shift()!;
      this.bytes -= c.length;
      this.dropped += c.length;
    }
  }
  text(): string {
    return (this.dropped > 0 ? `[... ${this.dropped} earlier characters dropped]\n` : '') + this.chunks.join('');
  }
}
