// Constants of the `log.<zxid>` file format (ZooKeeper's FileTxnLog), shared by the writer, the
// readers and truncation without making them import each other.
export const TXNLOG_MAGIC = 0x5a4b4c47; // "ZKLG"
export const TXNLOG_VERSION = 2;
export const FILE_HEADER_BYTES = 16;
export const END_OF_RECORD = 0x42; // 'B'
/** Bytes around a record besides its payload: crc (8) + len (4) + EOR (1). */
export const RECORD_OVERHEAD = 13;
