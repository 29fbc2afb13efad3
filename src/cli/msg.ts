export async function msgCommand(_argv: string[]): Promise<number> {
  process.stderr.write('hashdlc msg: not implemented yet\n');
  return 1;
}
