/**
 * The requests of the write benchmark, the same for Strata's gateway and for its
 * peer: the products registered before the load, and the RestockProduct commands
 * the open loop sends round-robin over them.
 */

/** The skus of `products` products. */
export const benchSkus = (products: number): string[] => Array.from({ length: products }, (_, i) => `bench-${i}`);

/** Registers every sku through `url`'s POST /commands/RegisterProduct, 50 at a time; any answer but 200 fails. */
export async function registerProducts(url: string, skus: readonly string[], headers: Record<string, string>): Promise<void> {
  for (let i = 0; i < skus.length; i += 50) {
    await Promise.all(
      skus.slice(i, i + 50).map(async (sku) => {
        const response = await fetch(`${url}/commands/RegisterProduct`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ aggregateId: sku, data: { name: sku, description: '', priceCents: 100, currency: 'EUR', tags: [] } }),
        });
        if (response.status !== 200) throw new Error(`registering ${sku}: ${response.status} ${await response.text()}`);
      }),
    );
  }
}

/** The i-th command of the load: RestockProduct by one, the skus in turn. */
export const restockRequest = (skus: readonly string[]) => (i: number) => ({
  path: '/commands/RestockProduct',
  body: JSON.stringify({ aggregateId: skus[i % skus.length], data: { quantity: 1 } }),
});
