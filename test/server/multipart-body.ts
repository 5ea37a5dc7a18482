// A multipart/form-data body as a browser form (or `curl -F`) sends it, for tests that post uploads
// through app.inject or a raw socket. Parts in order; a name may repeat.
export async function multipartBody(parts: readonly (readonly [string, string | Blob])[]): Promise<{ body: Buffer; type: string }> {
  const f = new FormData();
  for (const [k, v] of parts) f.append(k, v);
  const r = new Request('http://localhost/', { method: 'POST', body: f });
  return { body: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type')! };
}
