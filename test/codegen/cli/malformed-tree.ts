// A YAML tree with many problems spread over several files, and where each
// problem must be reported (file, line, column, words of the message).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface ExpectedProblem {
  file: string;
  line: number;
  column: number;
  /** A fragment of the message. */
  says: string;
}

const FILES: Record<string, string> = {
  'net/example/Bad/One.interface.yaml': `description: first
methods:
    - name: DoIt
      parameters:
          - name: Arg
            type: int33
    - name: DoIt
      flags:
          - sometimes
properties:
    - name: Prop
      type: array[string
`,
  'net/example/Bad/Two.interface.yaml': `description: second
properties:
    - name: Kind
      type: enum[self.Missing]
    - name: 1bad
      type: string
signals:
    - name: Sig
      properties:
          - name: X
            type: enum[net.example.Nowhere.Thing]
`,
  'net/example/Bad/Three.interface.yaml': `description: [unterminated
properties:
  - name: x
`,
  'net/example/Bad.errors.yaml': `- name: Fine
  description: ok
- description: no name
`,
  // A good file next to the bad ones: must not be reported.
  'net/example/Good.interface.yaml': `description: fine
properties:
    - name: Value
      type: string
`,
};

export const EXPECTED_PROBLEMS: ExpectedProblem[] = [
  { file: 'net/example/Bad.errors.yaml', line: 3, column: 3, says: 'missing the required key "name"' },
  { file: 'net/example/Bad/One.interface.yaml', line: 6, column: 19, says: 'int33' },
  { file: 'net/example/Bad/One.interface.yaml', line: 7, column: 13, says: 'duplicate member name "DoIt"' },
  { file: 'net/example/Bad/One.interface.yaml', line: 9, column: 13, says: 'unknown flag "sometimes"' },
  { file: 'net/example/Bad/One.interface.yaml', line: 12, column: 25, says: 'array[string' },
  { file: 'net/example/Bad/Three.interface.yaml', line: 2, column: 1, says: 'YAML syntax error' },
  { file: 'net/example/Bad/Two.interface.yaml', line: 4, column: 18, says: 'self.Missing' },
  { file: 'net/example/Bad/Two.interface.yaml', line: 5, column: 13, says: '"1bad"' },
  { file: 'net/example/Bad/Two.interface.yaml', line: 11, column: 24, says: 'net.example.Nowhere.Thing' },
];

export function writeMalformedTree(root: string): void {
  for (const [path, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}
