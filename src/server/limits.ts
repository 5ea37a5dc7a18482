// Request limits of the service: every body, upload and answer is bounded so one request cannot
// take the process's memory or time. All of them can be set from `cmhash serve` options.
export interface ServiceLimits {
  /** Largest k (and the cap of radius-only searches). */
  maxK: number;
  /** JSON body of a search. */
  searchBodyBytes: number;
  /** JSON body of item additions and session updates. */
  itemsBodyBytes: number;
  /** One uploaded image file. */
  uploadBytes: number;
  /** Items per add/update request. */
  maxItemsPerRequest: number;
  /** Longest feature vector accepted by the schema (the collection checks the exact width). */
  maxFeatureWidth: number;
  /** Longest raw text query. */
  maxTextLength: number;
  /** A client must send all request headers within this time (slow-header clients are cut off). */
  headersTimeoutMs: number;
  /** Whole request, headers and body, within this time; also the socket inactivity bound. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveTimeoutMs: number;
  /** Requests per minute per client address; 0 = no limit (the library default, see rate-limit.ts). */
  rateLimitPerMinute: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  maxK: 1000,
  searchBodyBytes: 1 << 20,
  itemsBodyBytes: 64 << 20,
  uploadBytes: 8 << 20,
  maxItemsPerRequest: 10_000,
  maxFeatureWidth: 65_536,
  maxTextLength: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  rateLimitPerMinute: 0,
};
