import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { MODULES } from './main.ts';

// A run loads only the module its command names; a command listed under the wrong module would
// not be found. Each module must register exactly the top-level commands the table gives it.
describe('the CLI command table', () => {
  it.each(MODULES.map((m) => [m.commands.join(', '), m] as const))('%s', async (_, m) => {
    const program = new Command();
    const io = { out: () => {}, err: () => {}, isTTY: false };
    (await m.load())(program, io, () => {});
    expect(program.commands.map((c) => c.name()).sort()).toEqual([...m.commands].sort());
  });
});
