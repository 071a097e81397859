// Captures the microphone on the audio thread, low-passes and resamples it to 16 kHz, and posts 32 ms frames.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / 16000;     // input samples per output sample
    this.pos = 0;                       // fractional read position into the filtered stream
    this.prev = 0;                      // last filtered input sample (for interpolation across blocks)
    this.lp1 = 0; this.lp2 = 0;         // two one-pole low-passes (~7 kHz) against aliasing
    this.alpha = 1 - Math.exp(-2 * Math.PI * 7000 / sampleRate);
    this.frame = new Int16Array(512);
    this.fill = 0;
  }
  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const ch = input[0];
    const filtered = new Float32Array(ch.length);
    for (let i = 0; i < ch.length; i++) {
      let x = ch[i];
      for (let c = 1; c < input.length; c++) x += input[c][i];
      x /= input.length;
      if (this.step > 1) {
        this.lp1 += this.alpha * (x - this.lp1);
        this.lp2 += this.alpha * (this.lp1 - this.lp2);
        x = this.lp2;
      }
      filtered[i] = x;
    }
    // pos is measured from the sample before this block (this.prev sits at index -1)
    while (this.pos < ch.length) {
      const i = Math.floor(this.pos), f = this.pos - i;
      const a = i === 0 ? this.prev : filtered[i - 1];
      const b = filtered[i];
      const y = Math.max(-1, Math.min(1, a + (b - a) * f));
      this.frame[this.fill++] = y < 0 ? y * 32768 : y * 32767;
      if (this.fill === this.frame.length) {
        this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
        this.frame = new Int16Array(512);
        this.fill = 0;
      }
      this.pos += this.step;
    }
    this.pos -= ch.length;
    this.prev = filtered[ch.length - 1];
    return true;
  }
}
registerProcessor("capture-16k", CaptureProcessor);
