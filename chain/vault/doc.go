// Package vault stores sealed bags in S3 Object Lock storage and
// verifies them there (docs/vault.md).
//
// Store.Push verifies a bag's folder, then stores each of its files as
// one object under the bucket's prefix, streaming, every request
// carrying the SHA-256 of its bytes for the store to check; large files
// go up in parts, resumable after an interruption. It appends a signed
// stored event (chain.EventStored) that pins each object's version to
// the bag's custody log, and stores the log last. PushTicket does the
// same with an upload ticket (Store.Presign): pre-signed PUT URLs that
// let nothing else through, for a host that must hold no credentials.
//
// Store.Verify checks a stored bag in place: it streams each object at
// its pinned version through verdict.CheckFS (nothing is written to
// disk), compares it with the stored event, reads the Object Lock each
// version still has, and names every other version and delete marker.
// Store.List summarizes the bags of a prefix from their custody logs.
//
// A Store is safe for concurrent use; each call reports through its
// return values and never prints. Errors wrap this package's sentinels
// (ErrUnreachable, ErrCredentials, ErrNoBucket, ErrNoLock,
// ErrNotVerified, ErrTicket, ErrNotStored, ErrStoreChanged), with a hint
// where the user can act. The S3 client is minio-go v7.
package vault
