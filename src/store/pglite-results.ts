// Reads PGlite's answer to a pipeline (pglite-dialect.ts) straight from its bytes: the rows
// and row count of one run, nothing else. PGlite's own path copies every chunk twice and
// builds a message object for each BindComplete, field and row before anything reads them
// (measured: ~4 % of the server's main thread in a booking lifecycle). An answer holding an
// ErrorResponse is handed to PGlite's own protocol parser, so a failure is PGlite's very
// DatabaseError (code, detail, constraint… as refusal decoding reads them). Notices are dropped
// (PGlite only logs them in debug mode); Settle does not LISTEN.
import { protocol, types as pgTypes, type messages } from '@electric-sql/pglite';

type Parsers = Parameters<typeof pgTypes.parseType>[2];

const ERROR = 0x45; // 'E'
const COMMAND_COMPLETE = 0x43; // 'C'
const ROW_DESCRIPTION = 0x54; // 'T'
const DATA_ROW = 0x44; // 'D'
const EMPTY_QUERY = 0x49; // 'I'
const PORTAL_SUSPENDED = 0x73; // 's'

/** Collects an answer's chunks (views into PGlite's memory, reused after the call: copied). */
export class AnswerBytes {
  private readonly chunks: Buffer[] = [];

  readonly onRawData = (chunk: Uint8Array): void => {
    this.chunks.push(Buffer.from(chunk));
  };

  bytes(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
  }
}

/** What a scan of an answer found for one run: where its rows are, its count, the last tag. */
export interface ScannedRun {
  /** Offset of the run's RowDescription body, or -1. */
  description: number;
  /** Offsets of its DataRow bodies. */
  dataRows: number[];
  numAffectedRows?: bigint;
  /** The command tag of the answer's last run ("COMMIT", or "ROLLBACK" for an aborted transaction's commit). */
  lastCommand: string | null;
}

/**
 * Finds run `at` in the answer (counted from 0; each run ends with its CommandComplete; none
 * when `at` < 0). Throws PGlite's DatabaseError if the answer holds one. Decodes no row, so
 * what it says of the answer stands even if a row then cannot be decoded.
 */
export function scanRun(bytes: Buffer, at: number): ScannedRun {
  let run = 0;
  const found: ScannedRun = { description: -1, dataRows: [], lastCommand: null };
  for (let pos = 0; pos < bytes.length; ) {
    const type = bytes[pos] as number;
    const end = pos + 1 + bytes.readInt32BE(pos + 1);
    const body = pos + 5;
    if (end > bytes.length || end < body) throw new Error(`pglite-results: a message runs past the answer (${end} of ${bytes.length} bytes)`);
    if (type === ERROR) throw databaseError(bytes);
    if (type === COMMAND_COMPLETE) {
      const tag = bytes.toString('utf8', body, end - 1);
      found.lastCommand = tag;
      // "INSERT 0 3", "UPDATE 2", "DELETE 1", "MERGE 1": the last number is the row count.
      if (run === at && /^(INSERT|UPDATE|DELETE|MERGE)\b/.test(tag)) found.numAffectedRows = BigInt(tag.slice(tag.lastIndexOf(' ') + 1));
    } else if (run === at) {
      if (type === ROW_DESCRIPTION) found.description = body;
      else if (type === DATA_ROW) found.dataRows.push(body);
    }
    if (type === COMMAND_COMPLETE || type === EMPTY_QUERY || type === PORTAL_SUSPENDED) run++;
    pos = end;
  }
  return found;
}

/** The run's rows, each value parsed by PGlite's parser for its type. */
export function decodeRows(bytes: Buffer, scanned: ScannedRun, parsers: Parsers): Record<string, unknown>[] {
  if (scanned.dataRows.length === 0) return [];
  if (scanned.description < 0) throw new Error('pglite-results: rows without a RowDescription');
  const [names, typeIds] = rowDescription(bytes, scanned.description);
  return scanned.dataRows.map((at) => dataRow(bytes, at, names, typeIds, parsers));
}

/** Column names and type OIDs. Settle asks for text results only, so formats are not read. */
function rowDescription(bytes: Buffer, at: number): [string[], number[]] {
  const count = bytes.readInt16BE(at);
  const names = new Array<string>(count);
  const typeIds = new Array<number>(count);
  let pos = at + 2;
  for (let i = 0; i < count; i++) {
    const nul = bytes.indexOf(0, pos);
    names[i] = bytes.toString('utf8', pos, nul);
    // table OID (4), column number (2), then the type OID
    typeIds[i] = bytes.readInt32BE(nul + 1 + 6);
    pos = nul + 1 + 18;
  }
  return [names, typeIds];
}

function dataRow(bytes: Buffer, at: number, names: string[], typeIds: number[], parsers: Parsers): Record<string, unknown> {
  const count = bytes.readInt16BE(at);
  if (count !== names.length) throw new Error(`pglite-results: a row of ${count} fields under ${names.length} columns`);
  const row: Record<string, unknown> = {};
  let pos = at + 2;
  for (let i = 0; i < count; i++) {
    const length = bytes.readInt32BE(pos);
    pos += 4;
    const text = length < 0 ? null : bytes.toString('utf8', pos, pos + length);
    if (length > 0) pos += length;
    row[names[i] as string] = pgTypes.parseType(text, typeIds[i] as number, parsers);
  }
  return row;
}

/** The answer's first error, as PGlite's own parser makes it. */
function databaseError(bytes: Buffer): Error {
  let first: messages.DatabaseError | undefined;
  new protocol.Parser().parse(bytes, (m) => {
    if (!first && m instanceof protocol.messages.DatabaseError) first = m;
  });
  return first ?? new Error('pglite-results: an ErrorResponse PGlite could not parse');
}
