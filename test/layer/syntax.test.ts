// Syntax check of every BitBake file of the layer with tree-sitter-bitbake
// (the grammar the BitBake language server uses; npm language-server-bitbake
// ships it as wasm, web-tree-sitter runs it). No bitbake needed.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Parser from 'web-tree-sitter';
import { optInRequire } from './support/layer-rules.js';
import { metadataFiles, read, rel } from './support/layer-files.js';

const require = createRequire(import.meta.url);

/**
 * The one construct the grammar cannot read: inline python as a require
 * path. The opt-in require (exactly this form, checked in structure.test.ts)
 * is replaced by a plain variable require before parsing; nothing else is.
 */
function withOptInRequireSimplified(text: string): string {
  return text
    .split('\n')
    .map((line) => (optInRequire.test(line) ? 'require ${VIRTUAL_MEDIA_OPT_IN_INC}' : line))
    .join('\n');
}

function syntaxErrors(parser: Parser, text: string): string[] {
  const errors: string[] = [];
  const visit = (node: Parser.SyntaxNode): void => {
    if (node.type === 'ERROR' || node.isMissing) {
      errors.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1}: ${node.isMissing ? 'missing' : 'unexpected'} ${JSON.stringify(node.text.slice(0, 60))}`);
    }
    for (const child of node.children) visit(child);
  };
  visit(parser.parse(text).rootNode);
  return errors;
}

describe('layer: syntax of every .bb, .bbappend, .inc and .conf (tree-sitter-bitbake)', () => {
  let parser: Parser;

  before(async () => {
    await Parser.init();
    const wasm = join(dirname(require.resolve('language-server-bitbake/package.json')), 'tree-sitter-bitbake.wasm');
    parser = new Parser();
    parser.setLanguage(await Parser.Language.load(wasm));
  });

  it('parses every metadata file of the layer without errors', () => {
    const files = metadataFiles();
    assert.ok(files.length >= 13, `expected the layer's metadata files, found ${files.length}`);
    const problems = files.flatMap((f) => syntaxErrors(parser, withOptInRequireSimplified(read(f))).map((e) => `${rel(f)}:${e}`));
    assert.deepEqual(problems, []);
  });

  it('reports errors in a broken recipe', () => {
    assert.notDeepEqual(syntaxErrors(parser, 'SUMMARY = "unterminated\nLICENSE = "MIT"\n'), []);
    assert.notDeepEqual(syntaxErrors(parser, 'do_install() {\n    install -d ${D}\n'), []);
    assert.notDeepEqual(syntaxErrors(parser, 'FOO = "a"b"\n'), []);
    assert.notDeepEqual(syntaxErrors(parser, 'python do_x() {\n    if x\n}\n'), []);
  });

  it('only the exact opt-in require is simplified', () => {
    assert.notDeepEqual(syntaxErrors(parser, withOptInRequireSimplified("require ${@bb.utils.contains('DISTRO_FEATURES', 'other', 'x.inc', '', d)}\n")), []);
    assert.deepEqual(syntaxErrors(parser, withOptInRequireSimplified("require ${@bb.utils.contains('DISTRO_FEATURES', 'virtual-media', 'x.inc', '', d)}\n")), []);
  });
});
