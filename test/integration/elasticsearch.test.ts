/**
 * The Elasticsearch node of the stack is real: mappings, bulk indexing with
 * external versions (an older version is refused), and search.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createElasticsearch } from '../../shared/elasticsearch-client.js';
import { config, uniqueName } from '../support/test-context.js';

interface Product {
  sku: string;
  name: string;
  priceCents: number;
  tags: string[];
}

describe('elasticsearch', () => {
  const client = createElasticsearch(config);
  const index = uniqueName('test-products');

  before(async () => {
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: {
        dynamic: 'strict',
        properties: {
          sku: { type: 'keyword' },
          name: { type: 'text', analyzer: 'standard' },
          priceCents: { type: 'long' },
          tags: { type: 'keyword' },
        },
      },
    });
  });

  after(async () => {
    await client.indices.delete({ index });
    await client.close();
  });

  it('keeps the mapping it was given', async () => {
    const mapping = await client.indices.getMapping({ index });
    const properties = mapping[index]?.mappings.properties ?? {};
    assert.deepEqual(Object.keys(properties).sort(), ['name', 'priceCents', 'sku', 'tags']);
    assert.equal(properties.sku?.type, 'keyword');
  });

  it('bulk-indexes with external versions and refuses an older version', async () => {
    const docs: [Product, number][] = [
      [{ sku: 'mug', name: 'Blue coffee mug', priceCents: 1200, tags: ['kitchen'] }, 3],
      [{ sku: 'kettle', name: 'Steel kettle', priceCents: 4500, tags: ['kitchen', 'steel'] }, 1],
      [{ sku: 'lamp', name: 'Desk lamp', priceCents: 3000, tags: ['office'] }, 2],
    ];
    const indexed = await client.bulk({
      refresh: 'wait_for',
      operations: docs.flatMap(([doc, version]) => [
        { index: { _index: index, _id: doc.sku, version, version_type: 'external' as const } },
        doc,
      ]),
    });
    assert.equal(indexed.errors, false);

    // Version 2 of the mug arrives late (a redelivery): refused, the document keeps version 3.
    const stale = await client.bulk({
      refresh: 'wait_for',
      operations: [
        { index: { _index: index, _id: 'mug', version: 2, version_type: 'external' as const } },
        { sku: 'mug', name: 'Stale mug', priceCents: 1, tags: [] },
      ],
    });
    assert.equal(stale.errors, true);
    assert.equal(stale.items[0]?.index?.status, 409);
    assert.equal(stale.items[0].index.error?.type, 'version_conflict_engine_exception');

    const mug = await client.get<Product>({ index, id: 'mug' });
    assert.equal(mug._version, 3);
    assert.equal(mug._source?.name, 'Blue coffee mug');
  });

  it('searches the documents back', async () => {
    const byText = await client.search<Product>({ index, query: { match: { name: 'kettle' } } });
    assert.deepEqual(byText.hits.hits.map((hit) => hit._id), ['kettle']);

    const byTag = await client.search<Product>({
      index,
      query: { bool: { filter: [{ term: { tags: 'kitchen' } }, { range: { priceCents: { lte: 2000 } } }] } },
    });
    assert.deepEqual(byTag.hits.hits.map((hit) => hit._id), ['mug']);
  });
});
