// Placeholder until the 'bench' command lands; exits 1 so nothing mistakes it for success.
export async function run(_args: string[]): Promise<number> {
  console.error("shipbot bench: not available yet in this build");
  return 1;
}
