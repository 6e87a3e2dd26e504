/**
 * Lists the functions of a source tree longer than a limit, longest first, so that a function
 * growing into a whole program is seen before review does. Counts every line from the
 * function's first to its last, comments and blanks included, as a reader meets them.
 *
 *   npx tsx scripts/long-functions.ts [--max 80] [--skip src/renderer] [dir ...]   (default dir: src)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

interface LongFunction {
  file: string;
  name: string;
  startLine: number;
  lines: number;
}

function sourceFiles(dir: string, skip: readonly string[]): string[] {
  if (skip.some((prefix) => dir === prefix || dir.startsWith(prefix + '/'))) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path, skip));
    else if (/\.(ts|tsx|mts|mjs|js)$/.test(entry) && !entry.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

function functionName(node: ts.Node, sourceFile: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(sourceFile);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(sourceFile);
  }
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText(sourceFile).slice(0, 40)}>`;
  return '<anonymous>';
}

function isFunctionLike(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

function longFunctionsIn(path: string, max: number): LongFunction[] {
  const text = readFileSync(path, 'utf8');
  const kind = path.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sourceFile = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (isFunctionLike(node) && node.body) {
      const start = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1;
      const end = sourceFile.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      const lines = end - start + 1;
      if (lines > max) found.push({ file: path, name: functionName(node, sourceFile), startLine: start, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

function main(argv: readonly string[]): void {
  let max = 80;
  const skip: string[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--max') max = Number(argv[++i]);
    else if (argv[i] === '--skip') skip.push(argv[++i]!.replace(/\/$/, ''));
    else dirs.push(argv[i]!.replace(/\/$/, ''));
  }
  if (!Number.isInteger(max) || max < 1) throw new Error('--max takes a whole number of lines');
  const found = (dirs.length ? dirs : ['src'])
    .flatMap((dir) => sourceFiles(dir, skip))
    .flatMap((file) => longFunctionsIn(file, max))
    .sort((a, b) => b.lines - a.lines);
  for (const f of found) console.log(`${String(f.lines).padStart(4)}  ${relative('.', f.file)}:${f.startLine}  ${f.name}`);
  if (found.length === 0) console.log(`no function over ${max} lines`);
}

main(process.argv.slice(2));
