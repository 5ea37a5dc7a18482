// Prometheus metrics of one service instance (its own registry, so several instances in one
// process — tests, the benchmark — do not collide): request counts and latencies per route,
// search latency per collection and query kind, collection sizes and versions, jobs by status.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CollectionRegistry } from '../product/registry.js';
import type { JobManager } from '../product/jobs.js';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly requestSeconds: Histogram<'route'>;
  readonly searchSeconds: Histogram<'collection' | 'kind'>;
  readonly searches = new Map<string, number>();

  constructor(collections: CollectionRegistry, jobs: JobManager, defaults = true) {
    const registers = [this.registry];
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'cmhash_' });
    this.requests = new Counter({ name: 'cmhash_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers });
    this.requestSeconds = new Histogram({
      name: 'cmhash_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['route'], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    });
    this.searchSeconds = new Histogram({
      name: 'cmhash_search_duration_seconds', help: 'search time inside the service (encode + index), by collection and query kind', labelNames: ['collection', 'kind'], registers,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
    });
    new Gauge({
      name: 'cmhash_collection_codes', help: 'codes searchable per collection and modality', labelNames: ['collection', 'modality'], registers,
      collect() { this.reset(); for (const c of collections.list()) { const s = c.snapshot(); this.set({ collection: c.name, modality: 'image' }, s.image.size); this.set({ collection: c.name, modality: 'text' }, s.text.size); } },
    });
    new Gauge({
      name: 'cmhash_collection_model_version', help: 'current model version per collection', labelNames: ['collection'], registers,
      collect() { this.reset(); for (const c of collections.list()) this.set({ collection: c.name }, c.snapshot().modelVersion ?? 0); },
    });
    new Gauge({
      name: 'cmhash_jobs', help: 'background jobs by status', labelNames: ['status'], registers,
      collect() { this.reset(); for (const [s, n] of Object.entries(jobs.counts())) this.set({ status: s }, n); },
    });
  }

  countSearch(collection: string): void { this.searches.set(collection, (this.searches.get(collection) ?? 0) + 1); }
}
