// Numbers of the NBD protocol (NetworkBlockDevice/nbd doc/proto.md), only
// those this server reads or writes. Names follow the document so that a
// reader can look each one up there.

/** 'NBDMAGIC': first 8 bytes the server sends. */
export const NBDMAGIC = 0x4e42444d41474943n;
/** 'IHAVEOPT': newstyle magic, sent by the server and before every option. */
export const IHAVEOPT = 0x49484156454f5054n;
/** Magic of every fixed-newstyle option reply. */
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;

// Handshake flags (server) and client flags.
export const FLAG_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_NO_ZEROES = 1 << 1;
export const FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_C_NO_ZEROES = 1 << 1;
export const KNOWN_CLIENT_FLAGS = FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES;

// Transmission flags.
export const FLAG_HAS_FLAGS = 1 << 0;
export const FLAG_READ_ONLY = 1 << 1;
export const FLAG_SEND_FLUSH = 1 << 2;
export const FLAG_SEND_FUA = 1 << 3;
export const FLAG_SEND_TRIM = 1 << 5;
export const FLAG_SEND_WRITE_ZEROES = 1 << 6;

// Options.
export const OPT_EXPORT_NAME = 1;
export const OPT_ABORT = 2;
export const OPT_LIST = 3;
export const OPT_STARTTLS = 5;
export const OPT_INFO = 6;
export const OPT_GO = 7;
export const OPT_STRUCTURED_REPLY = 8;

// Option reply types.
export const REP_ACK = 1;
export const REP_SERVER = 2;
export const REP_INFO = 3;
const REP_FLAG_ERROR = 0x80000000;
export const REP_ERR_UNSUP = (REP_FLAG_ERROR | 1) >>> 0;
export const REP_ERR_POLICY = (REP_FLAG_ERROR | 2) >>> 0;
export const REP_ERR_INVALID = (REP_FLAG_ERROR | 3) >>> 0;
export const REP_ERR_UNKNOWN = (REP_FLAG_ERROR | 6) >>> 0;
export const REP_ERR_TOO_BIG = (REP_FLAG_ERROR | 9) >>> 0;

// NBD_REP_INFO information types.
export const INFO_EXPORT = 0;
export const INFO_NAME = 1;
export const INFO_DESCRIPTION = 2;
export const INFO_BLOCK_SIZE = 3;

// Commands and command flags.
export const CMD_READ = 0;
export const CMD_WRITE = 1;
export const CMD_DISC = 2;
export const CMD_FLUSH = 3;
export const CMD_TRIM = 4;
export const CMD_WRITE_ZEROES = 6;
export const CMD_FLAG_FUA = 1 << 0;
export const CMD_FLAG_NO_HOLE = 1 << 1;

// Error values of simple replies.
export const EPERM = 1;
export const EIO = 5;
export const ENOMEM = 12;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EOVERFLOW = 75;
export const ESHUTDOWN = 108;

/** Sizes of the fixed parts of messages. */
export const REQUEST_HEADER = 28;
export const SIMPLE_REPLY_HEADER = 16;
export const OPTION_HEADER = 16;

/**
 * The largest READ or WRITE payload this server accepts: the protocol's
 * interoperable maximum (2^25). Advertised in NBD_INFO_BLOCK_SIZE.
 */
export const MAX_PAYLOAD = 32 * 1024 * 1024;
/** Export names and descriptions are at most 4096 bytes (proto.md, "Strings"). */
export const MAX_STRING = 4096;
/** Option data longer than this is refused with NBD_REP_ERR_TOO_BIG and skipped. */
export const MAX_OPTION_DATA = 64 * 1024;
