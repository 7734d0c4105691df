/** The custom error a contract call reverted with (an AvsError's name), or what happened instead. */
export async function revertName(p: Promise<unknown>): Promise<string> {
  const e = (await p.catch((err: unknown) => err)) as { errorName?: string; message?: string } | undefined;
  return e?.errorName ?? `not an AvsError: ${e?.message ?? 'no error at all'}`;
}
