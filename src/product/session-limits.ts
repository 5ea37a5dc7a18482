// The most epochs one session may train when it is added to a collection: the HTTP API's request
// schema and the CLI (update, demo, bench serve-train) both take it from here, so they cannot drift.
// Far above what any method needs; it stops a typo (100000000) from training practically forever.
export const MAX_SESSION_EPOCHS = 1000;
