// The handshake phase: the client's flags, then option haggling (fixed
// newstyle) until NBD_OPT_GO or NBD_OPT_EXPORT_NAME picks the export. Every
// option either gets its reply or, where the protocol has none, a hang-up.
import { be, decodeName, equalBytes, optionReply, withType } from './framing.js';
import type { ConnectionLink, ExportDescription } from './options.js';
import * as P from './protocol.js';

export class Handshake {
  /** Set once the client chose the export: the transmission phase starts with the next byte. */
  exportChosen = false;
  private flagsRead = false;
  private noZeroes = false;
  private fixedNewstyle = false;
  /** Bytes of an oversized option still to discard before answering it. */
  private skipping: { option: number; left: number } | undefined;

  constructor(
    private readonly link: ConnectionLink,
    private readonly exported: ExportDescription,
  ) {}

  /** Parses and handles at most one message; false when more input is needed or the connection ended. */
  step(): boolean {
    return this.flagsRead ? this.stepOption() : this.stepClientFlags();
  }

  private stepClientFlags(): boolean {
    const input = this.link.input;
    if (input.length < 4) return false;
    const flags = be(input.take(4)).getUint32(0);
    if ((flags & ~P.KNOWN_CLIENT_FLAGS) !== 0) {
      this.link.hangUp('protocol', `unknown client flags 0x${flags.toString(16)}`);
      return false;
    }
    this.fixedNewstyle = (flags & P.FLAG_C_FIXED_NEWSTYLE) !== 0;
    this.noZeroes = (flags & P.FLAG_C_NO_ZEROES) !== 0;
    this.flagsRead = true;
    return true;
  }

  private stepOption(): boolean {
    const input = this.link.input;
    if (this.skipping) {
      this.skipping.left -= input.skip(this.skipping.left);
      if (this.skipping.left > 0) return false;
      const option = this.skipping.option;
      this.skipping = undefined;
      this.reply(option, P.REP_ERR_TOO_BIG, 'option data too long');
      return true;
    }
    if (input.length < P.OPTION_HEADER) return false;
    const header = be(input.peek(P.OPTION_HEADER));
    const magic = header.getBigUint64(0);
    const option = header.getUint32(8);
    const length = header.getUint32(12);
    if (magic !== P.IHAVEOPT) {
      this.link.hangUp('protocol', `option magic 0x${magic.toString(16)} is not IHAVEOPT`);
      return false;
    }
    if (!this.fixedNewstyle && option !== P.OPT_EXPORT_NAME) {
      // Plain newstyle has no option replies: the only way to refuse is to hang up.
      this.link.hangUp('protocol', `option ${option} from a client without fixed newstyle`);
      return false;
    }
    if (length > P.MAX_OPTION_DATA) {
      if (option === P.OPT_EXPORT_NAME) {
        this.link.hangUp('protocol', `NBD_OPT_EXPORT_NAME with ${length} bytes of name`);
        return false;
      }
      input.skip(P.OPTION_HEADER);
      this.skipping = { option, left: length };
      return true;
    }
    if (input.length < P.OPTION_HEADER + length) return false;
    input.skip(P.OPTION_HEADER);
    this.handleOption(option, input.take(length));
    return true;
  }

  private handleOption(option: number, data: Uint8Array): void {
    switch (option) {
      case P.OPT_EXPORT_NAME:
        return this.exportName(data);
      case P.OPT_ABORT:
        // Data, if any, is ignored as the protocol asks.
        this.reply(option, P.REP_ACK);
        this.link.hangUp('abort');
        return;
      case P.OPT_LIST: {
        if (data.byteLength !== 0) return this.reply(option, P.REP_ERR_INVALID, 'NBD_OPT_LIST takes no data');
        const { name, description } = this.exported;
        const server = new Uint8Array(4 + name.byteLength + description.byteLength);
        be(server).setUint32(0, name.byteLength);
        server.set(name, 4);
        server.set(description, 4 + name.byteLength);
        this.reply(option, P.REP_SERVER, server);
        this.reply(option, P.REP_ACK);
        return;
      }
      case P.OPT_INFO:
      case P.OPT_GO:
        return this.infoOrGo(option, data);
      case P.OPT_STARTTLS:
        // The websocket is TLS already; NBD-level TLS is not offered.
        if (data.byteLength !== 0) return this.reply(option, P.REP_ERR_INVALID, 'NBD_OPT_STARTTLS takes no data');
        return this.reply(option, P.REP_ERR_UNSUP, 'TLS is not offered at the NBD level');
      case P.OPT_STRUCTURED_REPLY:
        // Simple replies only: what the kernel's nbd client uses, and all a READ needs here.
        if (data.byteLength !== 0) return this.reply(option, P.REP_ERR_INVALID, 'NBD_OPT_STRUCTURED_REPLY takes no data');
        return this.reply(option, P.REP_ERR_UNSUP, 'structured replies are not supported');
      default:
        return this.reply(option, P.REP_ERR_UNSUP, `option ${option} is not supported`);
    }
  }

  /** NBD_OPT_EXPORT_NAME has no error reply: an unknown name can only be a hang-up. */
  private exportName(name: Uint8Array): void {
    if (!this.accepts(name)) {
      this.link.hangUp('protocol', `NBD_OPT_EXPORT_NAME for unknown export ${JSON.stringify(decodeName(name))}`);
      return;
    }
    const reply = new Uint8Array(this.noZeroes ? 10 : 134);
    const view = be(reply);
    view.setBigUint64(0, BigInt(this.exported.size));
    view.setUint16(8, this.exported.transmissionFlags);
    this.link.send(reply);
    this.exportChosen = true;
  }

  private infoOrGo(option: number, data: Uint8Array): void {
    const what = option === P.OPT_GO ? 'NBD_OPT_GO' : 'NBD_OPT_INFO';
    if (data.byteLength < 6) return this.reply(option, P.REP_ERR_INVALID, `${what}: ${data.byteLength} bytes of data, at least 6 needed`);
    const view = be(data);
    const nameLength = view.getUint32(0);
    if (nameLength > data.byteLength - 6) return this.reply(option, P.REP_ERR_INVALID, `${what}: name length ${nameLength} exceeds the option data`);
    const requests = view.getUint16(4 + nameLength);
    if (data.byteLength !== 6 + nameLength + 2 * requests) {
      return this.reply(option, P.REP_ERR_INVALID, `${what}: ${requests} information requests do not match ${data.byteLength} bytes of data`);
    }
    const name = data.subarray(4, 4 + nameLength);
    if (nameLength > P.MAX_STRING) return this.reply(option, P.REP_ERR_INVALID, `${what}: export name longer than 4096 bytes`);
    if (!this.accepts(name)) return this.reply(option, P.REP_ERR_UNKNOWN, `no export named ${JSON.stringify(decodeName(name))}`);
    const wanted = new Set<number>();
    for (let i = 0; i < requests; i++) wanted.add(view.getUint16(6 + nameLength + 2 * i));

    const exportInfo = new Uint8Array(12);
    const ev = be(exportInfo);
    ev.setUint16(0, P.INFO_EXPORT);
    ev.setBigUint64(2, BigInt(this.exported.size));
    ev.setUint16(10, this.exported.transmissionFlags);
    this.reply(option, P.REP_INFO, exportInfo);
    if (wanted.has(P.INFO_NAME)) this.reply(option, P.REP_INFO, withType(P.INFO_NAME, this.exported.name));
    if (wanted.has(P.INFO_DESCRIPTION) && this.exported.description.byteLength > 0) {
      this.reply(option, P.REP_INFO, withType(P.INFO_DESCRIPTION, this.exported.description));
    }
    // The default constraints, stated (sent unasked too: the protocol allows it).
    const sizes = new Uint8Array(14);
    const sv = be(sizes);
    sv.setUint16(0, P.INFO_BLOCK_SIZE);
    sv.setUint32(2, 1);
    sv.setUint32(6, 4096);
    sv.setUint32(10, P.MAX_PAYLOAD);
    this.reply(option, P.REP_INFO, sizes);
    this.reply(option, P.REP_ACK);
    if (option === P.OPT_GO) this.exportChosen = true;
  }

  /** The export answers to its own name and to '' (the default export). */
  private accepts(name: Uint8Array): boolean {
    return name.byteLength === 0 || equalBytes(name, this.exported.name);
  }

  /** Sends one option reply; an error reply's text is logged as well as sent. */
  private reply(option: number, type: number, payload?: Uint8Array | string): void {
    const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : (payload ?? new Uint8Array(0));
    if (type & 0x80000000 && typeof payload === 'string') this.link.log(`option ${option}: ${payload}`);
    this.link.send(optionReply(option, type, data));
  }
}
