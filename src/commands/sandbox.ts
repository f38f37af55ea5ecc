// Placeholder until the 'sandbox' command lands; exits 1 so nothing mistakes it for success.
export async function run(_args: string[]): Promise<number> {
  console.error("shipbot sandbox: not available yet in this build");
  return 1;
}
