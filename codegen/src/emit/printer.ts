// Turns statement structures into deterministic source text with ts-morph.
// One in-memory project is reused; each file is printed once and dropped.
import { IndentationText, NewLineKind, Project, QuoteKind, type StatementStructures, type WriterFunction } from 'ts-morph';

let project: Project | undefined;

function sharedProject(): Project {
  project ??= new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: {
      indentationText: IndentationText.TwoSpaces,
      newLineKind: NewLineKind.LineFeed,
      quoteKind: QuoteKind.Single,
      useTrailingCommas: true,
    },
  });
  return project;
}

export interface FileContent {
  banner: string;
  /** Module description (the interface's), printed as a comment under the banner. */
  description?: string;
  /** `import * as namespace from 'specifier'` lines. */
  imports: { namespace?: string; named?: string[]; typeOnly?: boolean; sideEffect?: boolean; specifier: string }[];
  statements: (string | WriterFunction | StatementStructures)[];
}

export function printFile(path: string, content: FileContent): string {
  const p = sharedProject();
  const header = [content.banner];
  if (content.description) header.push('//', ...content.description.split('\n').map((l) => `// ${l}`.trimEnd()));
  const sf = p.createSourceFile(
    `/${path}`,
    {
      statements: [
        (w) => w.writeLine(header.join('\n')),
        ...content.imports.map((i) => (w: Parameters<WriterFunction>[0]) => {
          if (i.sideEffect) w.writeLine(`import '${i.specifier}';`);
          else if (i.namespace) w.writeLine(`import * as ${i.namespace} from '${i.specifier}';`);
          else w.writeLine(`import ${i.typeOnly ? 'type ' : ''}{ ${i.named!.join(', ')} } from '${i.specifier}';`);
        }),
        ...content.statements.flatMap((st) => [(w: Parameters<WriterFunction>[0]) => w.blankLineIfLastNot(), st]),
      ],
    },
    { overwrite: true },
  );
  const text = sf.getFullText();
  p.removeSourceFile(sf);
  return text.endsWith('\n') ? text : `${text}\n`;
}
