/**
 * `loram report <runId|runDir|latest> [--out DIR] [--json]`: write the Markdown + HTML report of a run (src/report)
 * and print where it is. Exit 0 written, 2 usage or no such run.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface ReportIo {
  out: { write(s: string): void };
  err: { write(s: string): void };
}

export const REPORT_USAGE = `  loram report <runId|runDir|latest> [--out DIR] [--json]
                                            Markdown + self-contained HTML report of a run (default DIR:
                                            <run folder>/report)`;

export async function cmdReport(argv: string[], io: ReportIo): Promise<number> {
  let values: { out?: string; json?: boolean };
  let positionals: string[];
  try {
    const r = parseArgs({ args: argv, options: { out: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
    values = r.values;
    positionals = r.positionals;
  } catch (e) {
    io.err.write(`loram report: ${(e as Error).message}\n`);
    return 2;
  }
  if (positionals.length !== 1) {
    io.err.write(`loram report: expects exactly one run (an id, a run folder or "latest")\n${REPORT_USAGE}\n`);
    return 2;
  }
  const { writeReport, ReportError, shortPath } = await import('../report/index');
  try {
    const r = await writeReport(positionals[0]!, values.out ? { outDir: path.resolve(values.out) } : {});
    if (values.json) {
      io.out.write(JSON.stringify({ ok: true, outDir: r.outDir, files: r.files, claims: r.model.claims.map((c) => ({ id: c.id, verdict: c.verdict, statement: c.statement })) }) + '\n');
      return 0;
    }
    io.out.write(`report of run ${r.model.runId} (${r.model.recipeName}):\n  ${r.model.verdict.headline}\n`);
    for (const g of r.model.verdict.gains) io.out.write(`  ${g}\n`);
    for (const c of r.model.claims) io.out.write(`  [${c.verdict}] ${c.title}: ${c.statement}\n`);
    io.out.write(`\n  ${shortPath(r.files.markdown)}\n  ${shortPath(r.files.html)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ReportError) {
      io.err.write(`loram report: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
